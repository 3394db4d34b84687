"""Microsoft Graph ``applications`` on each cloud's Graph host, and the login hosts' client credentials
grant that tests an application's password (see :mod:`.models` for the sources and options).

Graph accepts only a token the managed-identity endpoint issued for its own host
(``resource=https://graph.microsoft.com``, ``https://graph.microsoft.us``, ...): "Access tokens acquired
for a national cloud deployment are not interchangeable" (microsoft-graph-docs-contrib
``concepts/deployments.md``). Its 401s are Graph's ``InvalidAuthenticationToken`` answers as recorded:
"Access token is empty." (microsoftgraph/msgraph-sdk-powershell#2731), "CompactToken parsing failed with
error code: 80049217" for a token it cannot read (microsoftgraph/android-java-meetingfeedback-rest-sample#11,
OfficeDev/outlook-dev-docs#508), "Access token validation failure. Invalid audience."
(microsoftgraph/microsoft-graph-docs#16208).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localazure.services.base import Front, Service
from localazure.services.graph import login, responses
from localazure.services.graph.models import GRAPH_LOGIN_HOSTS, LOGIN_HOSTS, GraphBackend, LoginBackend
from localazure.services.graph.urls import GRAPH_URLS, LOGIN_URLS
from localazure.services.identity.models import bearer
from localazure.wire import Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    authorization = request.headers.get("authorization", "")
    if not bearer(authorization):
        raise responses.GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
    audience = cloud.identity.audience(authorization)
    if audience is None:
        raise responses.GraphError(
            401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217"
        )
    if audience != f"https://{request.host}":
        raise responses.GraphError(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
        )


def _unknown_graph_path(cloud: LocalAzure, request: Request) -> Response:
    raise responses.unknown_segment(request)


def _unknown_login_path(cloud: LocalAzure, request: Request) -> Response:
    raise login.unknown(request)


GRAPH_FRONT = Front("graph", "azure", lambda cloud, host: host in GRAPH_LOGIN_HOSTS, _check, _unknown_graph_path)
LOGIN_FRONT = Front("login", "azure", lambda cloud, host: host in LOGIN_HOSTS, lambda *_: None, _unknown_login_path)
GRAPH = Service("graph", GRAPH_FRONT, GraphBackend, GRAPH_URLS)
LOGIN = Service("login", LOGIN_FRONT, LoginBackend, LOGIN_URLS)
