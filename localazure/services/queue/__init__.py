"""``AzureWebJobsStorage``'s queue service, relayed to Azurite on its own loopback listener."""

from localazure.services.base import Front, Service
from localazure.services.queue.models import QueueBackend
from localazure.services.queue.urls import URLS
from localazure.wire import Response

FRONT = Front(
    "queue", "queue", lambda cloud, host: True, lambda cloud, request, service: None, lambda cloud, r: Response(404)
)
SERVICE = Service("queue", FRONT, QueueBackend, URLS, serialized=False)
