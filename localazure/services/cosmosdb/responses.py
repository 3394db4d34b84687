"""Microsoft.DocumentDB account GET, key lists and regenerateKey with its long-running operation."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from localazure.services.arm import refusal, retry_after
from localazure.services.cosmosdb.models import KEY_FIELDS, CosmosAccount, Operation
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.cosmosdb.models import CosmosBackend


def _account(cosmos: CosmosBackend, match: re.Match[str]) -> CosmosAccount:
    return cosmos.cloud.arm.find(cosmos.accounts, match, CosmosAccount.provider)


def get_account(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    """The shape of spec example CosmosDBDatabaseAccountGet.json, trimmed to what matters here;
    ``keysMetadata`` as recorded live at 2023-11-15 (azure-cli 2023 ``test_keys_database_account.yaml``)."""
    cosmos.settle()
    account = _account(cosmos, match)
    location = {
        "id": f"{account.name}-{account.location}",
        "locationName": account.location,
        "documentEndpoint": account.endpoint,
        "provisioningState": "Succeeded",
        "failoverPriority": 0,
    }
    state = cosmos.provisioning_state_while_regenerating if cosmos.running(account) else "Succeeded"
    return Response(
        200,
        {
            "id": account.id,
            "name": account.name,
            "location": account.location,
            "type": account.provider,
            "kind": account.kind,
            "tags": {},
            "properties": {
                "provisioningState": state,
                "documentEndpoint": account.endpoint,
                "databaseAccountOfferType": "Standard",
                "consistencyPolicy": {"defaultConsistencyLevel": "Session", "maxIntervalInSeconds": 5},
                "writeLocations": [location],
                "readLocations": [location],
                "locations": [location],
                "disableLocalAuth": account.disable_local_auth,
                "capabilities": [{"name": name} for name in account.capabilities],
                "keysMetadata": {
                    field: {"generationTime": account.generated[kind]} for kind, field in KEY_FIELDS.items()
                },
            },
        },
    )


def list_keys(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    now = cosmos.settle()
    account = _account(cosmos, match)
    return Response(200, {field: account.listed(kind, now) for kind, field in KEY_FIELDS.items()})


def readonly_keys(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    now = cosmos.settle()
    account = _account(cosmos, match)
    return Response(
        200, {KEY_FIELDS[kind]: account.listed(kind, now) for kind in ("primaryReadonly", "secondaryReadonly")}
    )


def list_connection_strings(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    """CosmosDBDatabaseAccountListConnectionStrings.json, for a SQL account."""
    now = cosmos.settle()
    account = _account(cosmos, match)
    labels = {
        "primary": "Primary",
        "secondary": "Secondary",
        "primaryReadonly": "Primary Read-Only",
        "secondaryReadonly": "Secondary Read-Only",
    }
    strings = [
        {
            "connectionString": f"AccountEndpoint={account.endpoint};AccountKey={account.listed(kind, now)};",
            "description": f"{label} SQL Connection String",
            "keyKind": kind[0].upper() + kind[1:],
            "type": "Sql",
        }
        for kind, label in labels.items()
    ]
    return Response(200, {"connectionStrings": strings})


def regenerate_key(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    """202 ``{"status":"Enqueued"}`` with ``Azure-AsyncOperation`` on the subscription's
    ``locations/{loc}/operationsStatus/{id}`` and ``Location`` on the account's
    ``regenerateKey/operationResults/{id}`` (recorded live: azure-cli ``cosmosdb/tests/latest/
    recordings/test_keys_database_account.yaml``, 2020 and 2023). A second write while one
    runs gets 412 (Azure/azure-rest-api-specs#703; hashicorp/terraform-provider-azurerm#15842)."""
    now = cosmos.settle()
    account = _account(cosmos, match)
    kind = str((request.json() or {}).get("keyKind", ""))
    if kind not in KEY_FIELDS:
        raise ApiError(400, "BadRequest", f"Invalid keyKind '{kind}'.")
    if cosmos.running(account):
        raise ApiError(
            412,
            "PreconditionFailed",
            "There is already an operation in progress which requires exclusive lock on this service "
            f"{account.name}. Please retry the operation after sometime.",
        )
    fails = cosmos.failures > 0
    cosmos.failures -= fails
    operation = Operation(str(uuid.uuid4()), account, kind, now, now + cosmos.operation_delay, fails)
    cosmos.operations[operation.id] = operation
    api = request.query["api-version"]
    status = (
        f"https://{request.host}/subscriptions/{account.subscription}/providers/Microsoft.DocumentDB"
        f"/locations/{account.location}/operationsStatus/{operation.id}?api-version={api}"
    )
    result = f"https://{request.host}{account.id}/regenerateKey/operationResults/{operation.id}?api-version={api}"
    return Response(202, {"status": "Enqueued"}, {"Azure-AsyncOperation": status, "Location": result, **_retry(cosmos)})


def operation_status(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    """200 with ``Enqueued``, ``Dequeued``, then ``Succeeded`` (recorded polls, as above)."""
    operation = _operation(cosmos, match, subscription_scope=True)
    now = cosmos.settle()
    body: dict = {"status": operation.poll_status(now)}
    if operation.status == "Failed":
        body["error"] = {"code": "InternalServerError", "message": "The key regeneration failed. Please retry."}
    return Response(200, body, _retry(cosmos) if operation.status == "InProgress" else {})


def operation_result(cosmos: CosmosBackend, request: Request, match: re.Match[str]) -> Response:
    """200 ``{"status":"Succeeded"}`` once done (the 2023 recording's final GET); 202 before."""
    operation = _operation(cosmos, match, subscription_scope=False)
    now = cosmos.settle()
    if operation.status == "InProgress":
        location = f"https://{request.host}{request.path}?api-version={request.query['api-version']}"
        return Response(202, None, {**_retry(cosmos), "Location": location})
    return Response(200, {"status": operation.poll_status(now)})


def _operation(cosmos: CosmosBackend, match: re.Match[str], *, subscription_scope: bool) -> Operation:
    if subscription_scope and not cosmos.status_readable:
        # What an account-scoped role gets outside its scope.
        raise refusal(
            cosmos.cloud,
            "Microsoft.DocumentDB/locations/operationsStatus/read",
            f"/subscriptions/{match['sub']}/providers/Microsoft.DocumentDB/locations/{match['loc']}",
        )
    operation = cosmos.operations.get(match["id"])
    if operation is None:
        raise ApiError(404, "NotFound", f"Operation {match['id']} was not found.")
    return operation


def _retry(cosmos: CosmosBackend) -> dict[str, str]:
    return retry_after(cosmos.retry_after) if cosmos.retry_after is not None else {}
