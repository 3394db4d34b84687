"""Cosmos DB accounts' data plane on ``<account>.documents.azure.com``, authorized with a master key.

Only what verifying a new key needs: the database-account read azure-cosmos makes when a
client starts (``GET /``, REST "Get a database account") and List Databases (``GET /dbs``).
Authorization is the master-key token Microsoft's "Access control in Azure Cosmos DB" REST doc
describes: ``type=master&ver=1.0&sig=<base64 HMAC-SHA256>`` (URL-encoded) over
``verb\\nresourceType\\nresourceLink\\nx-ms-date\\n\\n``, lower-cased, with the base64-decoded
key; any of the account's four keys (read-write or read-only) may read. Otherwise 401
``Unauthorized``, as the service answers. The account read lists one region whose endpoint is
the account's own host (trimmed: a real account names ``<account>-<region>.documents.azure.com``).
An account for MongoDB or Cassandra answers a correctly signed NoSQL request 403 ``Forbidden``
"Sql api is not supported for this database account" (PlagueHO/CosmosDB#353 and
Azure/azure-cosmos-dotnet-v3#582 for MongoDB, microsoft/vscode-cosmosdb#1324 for Cassandra); what
Table and Gremlin accounts answer is not recorded, so they answer as NoSQL accounts do.

Options: ``propagation_seconds``, a key regenerated less than that long ago (on the Cosmos DB
backend's clock) is still refused: Microsoft's Cosmos DB key rotation doc says a new key may
take minutes to work in every region; ``reachable`` (False: the host cannot be reached).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from localazure.services.base import DataPlane, Service, Url, data_plane_service, signed_by_any
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<account>[a-z0-9-]{3,44})\.documents\.azure\.com")
_KEYS = ("primary", "secondary", "primaryReadonly", "secondaryReadonly")


class CosmosDataBackend(DataPlane):
    """Keys are dated by the account's ``keysMetadata`` generation times."""


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    match = _HOST.fullmatch(request.host)
    account = cloud.cosmosdb.accounts.get(match["account"]) if match else None
    if account is None:
        raise ApiError(404, "NotFound", "Owner resource does not exist")
    # Not parse_qs: it would read the signature's "+" as a space.
    token = dict(part.partition("=")[::2] for part in unquote(request.headers.get("authorization", "")).split("&"))
    resource_type = "dbs" if request.path.rstrip("/").endswith("dbs") else ""
    date = request.headers.get("x-ms-date", "")
    text = f"{request.method.lower()}\n{resource_type}\n\n{date.lower()}\n\n"
    signature = token.get("sig", "")
    live = cloud.cosmosdata.live_keys({k: account.keys[k] for k in _KEYS}, account.generated)
    if token.get("type") != "master" or not signed_by_any(signature, text, live):
        raise ApiError(
            401,
            "Unauthorized",
            "The input authorization token can't serve the request. The wrong key is being used or the expected "
            "payload is not built as per the protocol.",
        )
    if account.kind == "MongoDB" or "EnableCassandra" in account.capabilities:
        raise ApiError(403, "Forbidden", "Sql api is not supported for this database account")


def get_account(backend: CosmosDataBackend, request: Request, match: re.Match[str]) -> Response:
    name = request.host.split(".")[0]
    endpoint = f"https://{request.host}:443/"
    location = [{"name": "East US", "databaseAccountEndpoint": endpoint}]
    return Response(
        200,
        {
            "_self": "",
            "id": name,
            "_rid": request.host,
            "media": "//media/",
            "addresses": "//addresses/",
            "_dbs": "//dbs/",
            "writableLocations": location,
            "readableLocations": location,
            "enableMultipleWriteLocations": False,
            "userReplicationPolicy": {"asyncReplication": False, "minReplicaSetSize": 3, "maxReplicasetSize": 4},
            "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"},
            "systemReplicationPolicy": {"minReplicaSetSize": 3, "maxReplicasetSize": 4},
            "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
        },
    )


def list_databases(backend: CosmosDataBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, {"_rid": "", "Databases": [], "_count": 0}, headers={"x-ms-item-count": "0"})


SERVICE = data_plane_service(
    "cosmosdata",
    _HOST,
    CosmosDataBackend,
    _check,
    (
        Url("cosmosdata.get_account", "GET", r"/", get_account),
        Url("cosmosdata.list_databases", "GET", r"/dbs/?", list_databases),
    ),
    unknown=lambda cloud, request: Response(404, {"code": "NotFound", "message": "Not served by the stand-in."}),
)
