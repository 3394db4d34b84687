"""The managed-identity endpoint on its own loopback listener."""

from localazure.services.base import Front, Service
from localazure.services.identity.models import IdentityBackend
from localazure.services.identity.urls import URLS
from localazure.wire import ApiError


def _unknown(cloud: object, request: object) -> None:
    raise ApiError(404, "NotFound", "Unknown identity route.")


FRONT = Front("identity", "identity", lambda cloud, host: True, lambda cloud, request, service: None, _unknown)
SERVICE = Service("identity", FRONT, IdentityBackend, URLS)
