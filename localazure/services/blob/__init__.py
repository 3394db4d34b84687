"""``AzureWebJobsStorage``'s blob service, relayed to Azurite on its own loopback listener."""

from localazure.services.base import Front, Service
from localazure.services.blob.models import BlobBackend
from localazure.services.blob.urls import URLS
from localazure.wire import Response

FRONT = Front(
    "blob", "blob", lambda cloud, host: True, lambda cloud, request, service: None, lambda cloud, r: Response(404)
)
SERVICE = Service("blob", FRONT, BlobBackend, URLS, serialized=False)
