"""Azure Resource Manager: the Storage and Cosmos DB key operations, with ARM's error shapes."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from localazure.model import COSMOS_KEY_FIELDS, CosmosAccount, Operation, StorageAccount, new_key
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

AUDIENCES = {
    "https://management.azure.com",
    "https://management.core.windows.net",
}
CHALLENGE = (
    'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
    "error_description=\"The authentication failed because of missing 'Authorization' header.\""
)

_RG = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
_STORAGE = re.compile(
    _RG + r"/providers/Microsoft\.Storage/storageAccounts/(?P<name>[^/]+)/(?P<op>listKeys|regenerateKey)$", re.I
)
_COSMOS = re.compile(
    _RG + r"/providers/Microsoft\.DocumentDB/databaseAccounts/(?P<name>[^/]+)"
    r"/(?P<op>listKeys|readonlykeys|listConnectionStrings|regenerateKey)$",
    re.I,
)
_STORAGE_ACCOUNT = re.compile(_RG + r"/providers/Microsoft\.Storage/storageAccounts/(?P<name>[^/]+)$", re.I)
_COSMOS_ACCOUNT = re.compile(_RG + r"/providers/Microsoft\.DocumentDB/databaseAccounts/(?P<name>[^/]+)$", re.I)
_OPERATION = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.DocumentDB/locations/(?P<loc>[^/]+)"
    r"/(?P<kind>operationsStatus|operationResults)/(?P<id>[^/]+)$",
    re.I,
)
_ANY_RESOURCE = re.compile(_RG + r"/providers/(?P<namespace>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)", re.I)


def check_audience(audience: str | None, has_token: bool) -> None:
    if not has_token:
        raise ApiError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            {"WWW-Authenticate": CHALLENGE},
        )
    if audience not in AUDIENCES:
        raise ApiError(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
            "match with one of the allowed audiences 'https://management.core.windows.net/',"
            "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
        )


def route(request: Request) -> tuple[str, Callable[[LocalAzure, Request], Response]]:
    """Name the route for the request log and fault injection, and pick its handler."""
    path = request.path
    if match := _STORAGE.search(path):
        op = match["op"]
        return f"storage.{_snake(op)}", lambda cloud, req: _storage(cloud, req, match, op)
    if match := _STORAGE_ACCOUNT.search(path):
        return "storage.get_account", lambda cloud, req: _storage(cloud, req, match, "get")
    if match := _COSMOS.search(path):
        op = match["op"]
        return f"cosmos.{_snake(op)}", lambda cloud, req: _cosmos(cloud, req, match, op)
    if match := _COSMOS_ACCOUNT.search(path):
        return "cosmos.get_account", lambda cloud, req: _cosmos(cloud, req, match, "get")
    if match := _OPERATION.search(path):
        kind = match["kind"]
        name = "cosmos.operation_status" if kind.lower() == "operationsstatus" else "cosmos.operation_result"
        return name, lambda cloud, req: _operation(cloud, req, match)
    return "arm.unknown", _unknown


def _snake(name: str) -> str:
    return {
        "listkeys": "list_keys",
        "regeneratekey": "regenerate_key",
        "readonlykeys": "readonly_keys",
        "listconnectionstrings": "list_connection_strings",
    }[name.lower()]


def _require_api_version(request: Request) -> None:
    if not request.query.get("api-version"):
        raise ApiError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )


def _resource_missing(cloud: LocalAzure, sub: str, rg: str, kind: str, name: str) -> ApiError:
    if rg.lower() not in cloud.resource_groups.get(sub.lower(), set()):
        return ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return ApiError(
        404,
        "ResourceNotFound",
        f"The Resource '{kind}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def _storage_keys(account: StorageAccount, *, kerb: bool) -> dict:
    names = ["key1", "key2"] + (["kerb1", "kerb2"] if kerb else [])
    return {
        "keys": [
            {
                "keyName": name,
                "value": account.keys[name],
                "permissions": "FULL",
                "creationTime": account.created[name],
            }
            for name in names
        ]
    }


def _storage(cloud: LocalAzure, request: Request, match: re.Match, op: str) -> Response:
    _require_api_version(request)
    if request.method != ("GET" if op == "get" else "POST"):
        raise ApiError(405, "MethodNotAllowed", "The requested resource does not support http method.")
    account = cloud.storage_accounts.get(match["name"].lower())
    if account is None or account.resource_group.lower() != match["rg"].lower():
        raise _resource_missing(cloud, match["sub"], match["rg"], "Microsoft.Storage/storageAccounts", match["name"])
    if op == "get":
        return Response(200, _storage_account(account))
    if op.lower() == "listkeys":
        return Response(200, _storage_keys(account, kerb=request.query.get("$expand") == "kerb"))
    key_name = str((request.json() or {}).get("keyName", ""))
    if key_name.lower() not in account.keys:
        raise ApiError(400, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: keyName.")
    key_name = key_name.lower()
    account.keys[key_name] = new_key()
    account.created[key_name] = _now_iso()
    return Response(200, _storage_keys(account, kerb=key_name.startswith("kerb")))


def _cosmos(cloud: LocalAzure, request: Request, match: re.Match, op: str) -> Response:
    _require_api_version(request)
    now = time.monotonic()
    for operation in cloud.operations.values():  # operations finish whether or not anyone polls
        operation.settle(now)
    account = cloud.cosmos_accounts.get(match["name"].lower())
    if account is None or account.resource_group.lower() != match["rg"].lower():
        raise _resource_missing(
            cloud, match["sub"], match["rg"], "Microsoft.DocumentDB/databaseAccounts", match["name"]
        )
    op = op.lower()
    if (request.method == "GET") != (op == "get"):
        raise ApiError(405, "MethodNotAllowed", "The requested resource does not support http method.")
    if op == "get":
        return Response(200, _cosmos_account(cloud, account))
    if op == "listkeys":
        return Response(200, {field: account.keys[kind] for kind, field in COSMOS_KEY_FIELDS.items()})
    if op == "readonlykeys":
        return Response(
            200,
            {COSMOS_KEY_FIELDS[kind]: account.keys[kind] for kind in ("primaryReadonly", "secondaryReadonly")},
        )
    if op == "listconnectionstrings":
        return Response(200, {"connectionStrings": _connection_strings(account)})
    kind = str((request.json() or {}).get("keyKind", ""))
    if kind not in COSMOS_KEY_FIELDS:
        raise ApiError(400, "BadRequest", f"Invalid keyKind '{kind}'.")
    for running in cloud.operations.values():
        if running.account is account and running.status == "InProgress":
            raise ApiError(
                412,
                "PreconditionFailed",
                "There is already an operation in progress which requires exclusive lock on this service "
                f"{account.name}. Please retry the operation after sometime.",
            )
    operation = Operation(
        id=str(uuid.uuid4()),
        account=account,
        key_kind=kind,
        completes_at=time.monotonic() + cloud.cosmos_operation_delay,
        fails=cloud.take_cosmos_failure(),
    )
    cloud.operations[operation.id] = operation
    base = f"https://{request.host}/subscriptions/{account.subscription}/providers/Microsoft.DocumentDB/locations/{account.location}"
    api = request.query["api-version"]
    return Response(
        202,
        None,
        {
            "Azure-AsyncOperation": f"{base}/operationsStatus/{operation.id}?api-version={api}",
            "Location": f"{base}/operationResults/{operation.id}?api-version={api}",
            **_retry_after(cloud.cosmos_retry_after),
        },
    )


def _storage_account(account: StorageAccount) -> dict:
    """The shape of spec example StorageAccountGetProperties.json (Microsoft.Storage 2023-05-01), trimmed:
    ``keyCreationTime`` and ``allowSharedKeyAccess`` (absent means allowed) are what the product reads."""
    properties: dict = {
        "provisioningState": "Succeeded",
        "keyCreationTime": {"key1": account.created["key1"], "key2": account.created["key2"]},
        "primaryEndpoints": {"blob": f"https://{account.name}.blob.core.windows.net/"},
    }
    if account.allow_shared_key_access is not None:
        properties["allowSharedKeyAccess"] = account.allow_shared_key_access
    return {
        "id": account.id,
        "name": account.name,
        "type": account.provider,
        "location": account.location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_GRS", "tier": "Standard"},
        "properties": properties,
    }


def _cosmos_account(cloud: LocalAzure, account: CosmosAccount) -> dict:
    """The shape of the specification's CosmosDBDatabaseAccountGet example, trimmed to what matters here."""
    busy = any(op.account is account and op.status == "InProgress" for op in cloud.operations.values())
    location = {
        "id": f"{account.name}-{account.location}",
        "locationName": account.location,
        "documentEndpoint": account.endpoint,
        "provisioningState": "Succeeded",
        "failoverPriority": 0,
    }
    return {
        "id": account.id,
        "name": account.name,
        "location": account.location,
        "type": account.provider,
        "kind": "GlobalDocumentDB",
        "tags": {},
        "properties": {
            "provisioningState": "Updating" if busy else "Succeeded",
            "documentEndpoint": account.endpoint,
            "databaseAccountOfferType": "Standard",
            "consistencyPolicy": {"defaultConsistencyLevel": "Session", "maxIntervalInSeconds": 5},
            "writeLocations": [location],
            "readLocations": [location],
            "locations": [location],
            "disableLocalAuth": account.disable_local_auth,
            # CosmosDBDatabaseAccountGet.json (2024-11-15): each key's last generation time.
            "keysMetadata": {
                field: {"generationTime": account.generated[kind]} for kind, field in COSMOS_KEY_FIELDS.items()
            },
        },
    }


def _connection_strings(account: CosmosAccount) -> list[dict]:
    labels = {
        "primary": "Primary",
        "secondary": "Secondary",
        "primaryReadonly": "Primary Read-Only",
        "secondaryReadonly": "Secondary Read-Only",
    }
    return [
        {
            "connectionString": f"AccountEndpoint={account.endpoint};AccountKey={account.keys[kind]};",
            "description": f"{label} SQL Connection String",
            "keyKind": kind[0].upper() + kind[1:],
            "type": "Sql",
        }
        for kind, label in labels.items()
    ]


def _operation(cloud: LocalAzure, request: Request, match: re.Match) -> Response:
    _require_api_version(request)
    operation = cloud.operations.get(match["id"])
    if operation is None:
        raise ApiError(404, "NotFound", f"Operation {match['id']} was not found.")
    operation.settle(time.monotonic())
    retry = _retry_after(cloud.cosmos_retry_after)
    if match["kind"].lower() == "operationresults":
        if operation.status == "InProgress":
            return Response(
                202,
                None,
                {
                    **retry,
                    "Location": f"https://{request.host}{request.path}?api-version={request.query['api-version']}",
                },
            )
        return Response(200, None)
    body: dict = {"status": operation.status}
    if operation.status == "Failed":
        body["error"] = {"code": "InternalServerError", "message": "The key regeneration failed. Please retry."}
    return Response(200, body, retry if operation.status == "InProgress" else {})


def _retry_after(seconds: float) -> dict[str, str]:
    """Whole seconds as ``Retry-After``; less as ``retry-after-ms`` (azure-core reads ``Retry-After: 0`` as absent)."""
    if seconds >= 1:
        return {"Retry-After": str(int(seconds))}
    return {"retry-after-ms": str(int(seconds * 1000))}


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    _require_api_version(request)
    if match := _ANY_RESOURCE.search(request.path):
        raise _resource_missing(
            cloud, match["sub"], match["rg"], f"{match['namespace']}/{match['type']}", match["name"]
        )
    raise ApiError(404, "InvalidResourceType", f"The resource type could not be found for path '{request.path}'.")


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
