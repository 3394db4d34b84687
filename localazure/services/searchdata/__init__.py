"""AI Search services' data plane on ``<service>.search.windows.net``, authorized with an admin api-key.

Only what verifying a new admin key needs: Get Service Statistics (``GET /servicestats``, REST
"Get Service Statistics"; the body of azure-rest-api-specs
``specification/search/data-plane/Azure.Search/stable/2024-07-01/examples/SearchServiceGetServiceStatistics.json``).
The key travels as is in the ``api-key`` header ("Connect to Azure AI Search using keys"); only the
service's two live admin keys are accepted. Anything else is answered 403 with nothing more:
"403 Forbidden: Returned when you pass an invalid api-key" (azure-sdk-for-python
``sdk/search/azure-search-documents/TROUBLESHOOTING.md``).

Options where behaviour is not documented:

- ``refusal_status``: 403 (the default, as above) or 401. A service whose ``authOptions`` are
  ``aadOrApiKey`` with ``aadAuthFailureMode: http401WithBearerChallenge`` (spec example
  ``Microsoft.Search/stable/2025-05-01/examples/SearchCreateOrUpdateServiceAuthOptions.json``)
  answers a failed authentication 401 with a Bearer challenge; whether that covers a wrong
  api-key is not said.
- ``firewalled``: every request is answered the IP firewall's "generic 403 Forbidden response ...
  with no other details" ("Configure network access and firewall rules for Azure AI Search"), the
  same answer as a wrong key's.
- those of every stand-in data plane (:class:`~localazure.services.base.DataPlane`).
"""

from __future__ import annotations

import hmac
import re
from typing import TYPE_CHECKING

from localazure.services.base import DataPlane, Service, Url, data_plane_service
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<service>[a-z0-9][a-z0-9-]{0,58}[a-z0-9])\.search\.windows\.net")


class SearchDataBackend(DataPlane):
    """Admin keys are dated by the stand-in's regeneration times (``KeyedResource.generated``)."""

    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__(cloud)
        self.refusal_status = 403
        self.firewalled = False


class _Refused(ApiError):
    """Search's refusal carries no error body."""

    def response(self) -> Response:
        return Response(self.status, None, self.headers)


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    backend: SearchDataBackend = cloud.searchdata
    match = _HOST.fullmatch(request.host)
    found = cloud.search.items.get(match["service"]) if match else None
    if backend.firewalled:
        raise _Refused(403, "", "")
    if found is None:
        raise ApiError(404, "ResourceNotFound", "The specified service does not exist.")
    given = request.headers.get("api-key", "")
    if not any(hmac.compare_digest(given, key) for key in backend.live_keys(found.keys, found.generated)):
        challenge = {"WWW-Authenticate": "Bearer"} if backend.refusal_status == 401 else {}
        raise _Refused(backend.refusal_status, "", "", challenge)


def get_service_statistics(backend: SearchDataBackend, request: Request, match: re.Match[str]) -> Response:
    counters = {
        name: {"usage": 0, "quota": quota}
        for name, quota in (
            ("documentCount", None),
            ("indexesCount", 50),
            ("indexersCount", 50),
            ("dataSourcesCount", 50),
            ("storageSize", 26843545600),
            ("synonymMaps", 20),
            ("vectorIndexSize", 5368709120),
        )
    }
    limits = {
        "maxFieldsPerIndex": 1000,
        "maxFieldNestingDepthPerIndex": 10,
        "maxComplexCollectionFieldsPerIndex": 100,
        "maxComplexObjectsInCollectionsPerDocument": 3000,
    }
    return Response(200, {"counters": counters, "limits": limits})


SERVICE = data_plane_service(
    "searchdata",
    _HOST,
    SearchDataBackend,
    _check,
    (Url("searchdata.get_service_statistics", "GET", r"/servicestats", get_service_statistics),),
    unknown=lambda cloud, request: Response(404, None),
)
