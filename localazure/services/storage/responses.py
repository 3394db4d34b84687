"""Microsoft.Storage account GET, listKeys and regenerateKey, as the spec examples and the
recorded traffic show them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.storage.models import StorageAccount
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.storage.models import StorageBackend


def _account(storage: StorageBackend, match: re.Match[str]) -> StorageAccount:
    return storage.cloud.arm.find(storage.accounts, match, StorageAccount.provider)


def _keys(account: StorageAccount, *, kerb: bool) -> dict:
    """StorageAccountListKeys.json; ``creationTime`` per key (absent in 2019-06-01, recorded in
    azure-cli ``storage/tests/latest/recordings/test_renew_account_key.yaml``; present since)."""
    names = ["key1", "key2"] + (["kerb1", "kerb2"] if kerb else [])
    return {
        "keys": [
            {"keyName": name, "value": account.keys[name], "permissions": "FULL", "creationTime": account.created[name]}
            for name in names
        ]
    }


def get_account(storage: StorageBackend, request: Request, match: re.Match[str]) -> Response:
    """The shape of spec example StorageAccountGetProperties.json (Microsoft.Storage 2023-01-01), trimmed:
    ``keyCreationTime``, ``allowSharedKeyAccess`` (absent means allowed), ``primaryEndpoints`` (and
    ``dnsEndpointType``, StorageAccountCreateDnsEndpointTypeToAzureDnsZone.json) and ``kind`` are what
    the product reads."""
    account = _account(storage, match)
    properties: dict = {
        "provisioningState": "Succeeded",
        "keyCreationTime": {"key1": account.created["key1"], "key2": account.created["key2"]},
        "dnsEndpointType": account.dns_endpoint_type,
        "primaryEndpoints": storage.endpoints(account),
    }
    if account.allow_shared_key_access is not None:
        properties["allowSharedKeyAccess"] = account.allow_shared_key_access
    return Response(
        200,
        {
            "id": account.id,
            "name": account.name,
            "type": account.provider,
            "location": account.location,
            "kind": account.kind,
            "sku": {"name": "Premium_LRS", "tier": "Premium"}
            if account.kind == "FileStorage"
            else {"name": "Standard_GRS", "tier": "Standard"},
            "properties": properties,
        },
    )


def list_keys(storage: StorageBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, _keys(_account(storage, match), kerb=request.query.get("$expand") == "kerb"))


def regenerate_key(storage: StorageBackend, request: Request, match: re.Match[str]) -> Response:
    """Synchronous: 200 with the whole key list (StorageAccountRegenerateKey.json; recorded live in
    azure-cli ``storage/tests/latest/recordings/test_renew_account_key.yaml``)."""
    account = _account(storage, match)
    key_name = str((request.json() or {}).get("keyName", "")).lower()
    if key_name not in account.keys:
        raise ApiError(400, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: keyName.")
    account.regenerate(key_name)
    return Response(200, _keys(account, kerb=key_name.startswith("kerb")))
