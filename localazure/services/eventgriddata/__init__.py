"""Event Grid custom topics' data plane: ``POST https://<topic>.<region>-1.eventgrid.azure.net/api/events``.

As Microsoft's "Publish events to custom topics" and "Authenticate publishing clients using
Microsoft Entra ID" docs describe it: api-version ``2018-01-01``; a bearer token for the
audience ``https://eventgrid.azure.net`` (401 without one, or for another audience); CloudEvents
1.0 in batch mode (``application/cloudevents-batch+json``), each with ``id``, ``source``,
``type`` and ``specversion``, else 400; 200 with an empty body when accepted. Tests read what
each topic received (``cloud.eventgriddata.received``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from localazure.services.base import Front, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

AUDIENCE = "https://eventgrid.azure.net"
API_VERSIONS = frozenset({"2018-01-01"})
_HOST = re.compile(r"[a-z0-9-]+\.eastus-1\.eventgrid\.azure\.net")


class EventGridDataBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.received: list[dict[str, Any]] = []  # every accepted event, with the topic host as "_topic"

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.received if event.get("type") == event_type]


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    if request.query.get("api-version") not in API_VERSIONS:
        raise ApiError(400, "BadRequest", "The api-version query parameter is missing or not supported.")
    authorization = request.headers.get("authorization", "")
    audience = cloud.identity.audience(authorization) if authorization.lower().startswith("bearer ") else None
    if audience != AUDIENCE:
        raise ApiError(401, "Unauthorized", "The request authorization is missing or the token is not for Event Grid.")


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    raise ApiError(404, "NotFound", "The requested resource was not found.")


def publish(backend: EventGridDataBackend, request: Request, match: re.Match[str]) -> Response:
    if not request.headers.get("content-type", "").startswith("application/cloudevents-batch+json"):
        raise ApiError(400, "BadRequest", "Expected content-type application/cloudevents-batch+json.")
    try:
        events = json.loads(request.body or b"null")
    except ValueError:
        raise ApiError(400, "BadRequest", "The request body is not valid JSON.") from None
    required = ("id", "source", "type", "specversion")
    if not isinstance(events, list) or not all(isinstance(e, dict) and all(e.get(f) for f in required) for e in events):
        raise ApiError(400, "BadRequest", "Each CloudEvent needs id, source, type and specversion.")
    backend.received.extend({**event, "_topic": request.host} for event in events)
    return Response(200, None)


FRONT = Front("eventgriddata", "azure", lambda cloud, host: bool(_HOST.fullmatch(host)), _check, _unknown)
SERVICE = Service(
    "eventgriddata",
    FRONT,
    EventGridDataBackend,
    (Url("eventgriddata.publish", "POST", r"/api/events", publish),),
    API_VERSIONS,
)
