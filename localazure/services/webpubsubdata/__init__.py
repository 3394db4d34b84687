"""Web PubSub services' data plane on ``<service>.webpubsub.azure.com``, authorized with an access key.

Only what verifying a new access key needs: Group Exists (``HEAD /api/hubs/{hub}/groups/{group}``,
200 or 404: azure-rest-api-specs ``specification/webpubsub/data-plane/WebPubSub/stable/2024-01-01/
examples/WebPubSub_GroupExists.json``); no client ever joins here, so every group answers 404.
Authorization is what the "Azure Web PubSub service data plane REST API reference" documents:
``Authorization: Bearer <JWT>``, HS256 signed with the AccessKey, with the required claims ``aud``
"the SAME as your HTTP request url" (query string included, as the doc's example and
azure-messaging-webpubsubservice's ``JwtCredentialPolicy`` have it) and ``exp``. A token signed
with neither live key, expired, or for another URL is answered 401 (the spec's error response; the
SDK maps it to ``ClientAuthenticationError``).

Options where behaviour is not documented: those of :class:`~localazure.services.base.DataPlane`;
keys are dated by ``KeyedResource.generated``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import jwt

from localazure.services.base import DataPlane, Service, Url, data_plane_service
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<service>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.webpubsub\.azure\.com")


def _accepted(token: str, key: str, url: str) -> bool:
    try:
        jwt.decode(token, key, algorithms=["HS256"], audience=url, options={"require": ["aud", "exp"]})
    except jwt.InvalidTokenError:
        return False
    return True


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    match = _HOST.fullmatch(request.host)
    found = cloud.webpubsub.items.get(match["service"]) if match else None
    if found is None or request.host != found.host_name:  # a service answers on the host it reports only
        raise ApiError(404, "NotFound", "The service does not exist.")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    query = f"?{urlencode(request.query)}" if request.query else ""
    url = f"https://{request.host}{request.path}{query}"
    live = cloud.webpubsubdata.live_keys(found.keys, found.generated)
    if scheme != "Bearer" or not any(_accepted(token, key, url) for key in live):
        raise ApiError(401, "Unauthorized", "The access token is not valid.")


def group_exists(backend: DataPlane, request: Request, match: re.Match[str]) -> Response:
    return Response(404, None)


SERVICE = data_plane_service(
    "webpubsubdata",
    _HOST,
    DataPlane,
    _check,
    (Url("webpubsubdata.group_exists", "HEAD", r"/api/hubs/[A-Za-z][A-Za-z0-9_]*/groups/[^/]+", group_exists),),
    unknown=lambda cloud, request: Response(404, None),
)
