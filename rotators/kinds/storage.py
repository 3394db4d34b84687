"""Azure Storage accounts: ``key1`` and ``key2``.

``regenerateKey`` is synchronous and answers with the key list, so one call both
regenerates and reads. Keys are picked by name, never by index: ``$expand=kerb`` adds two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.kinds.base import Credential, OperationStarted, Resource, pair
from rotators.kinds.base import missing_resource as _missing

if TYPE_CHECKING:
    from azure.mgmt.storage.models import StorageAccountKey


class StorageKind:
    resource_type = "Microsoft.Storage/storageAccounts"
    display_name = "storage account"
    credentials: Mapping[str, Credential] = pair("key1", "key2")

    def regenerate(
        self, resource: Resource, key: str, *, resume: str | None, on_started: OperationStarted, wait_seconds: float
    ) -> str | None:
        from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters

        with calling(f"Regenerate {key} of storage account {resource.name}", not_found=_missing(resource)):
            result = clients.storage_client(resource.subscription, resource.cloud).storage_accounts.regenerate_key(
                resource.resource_group, resource.name, StorageAccountRegenerateKeyParameters(key_name=key)
            )
        return _value(_pick(result.keys_property, key))

    def read_key(self, resource: Resource, key: str) -> str:
        return _value(_pick(self._list(resource), key))

    def operation_in_progress(self, resource: Resource) -> bool:
        return False  # regenerateKey is synchronous: once answered, or timed out and settled, it is over

    def connection_string(self, resource: Resource, key_value: str) -> str:
        return (
            f"DefaultEndpointsProtocol=https;AccountName={resource.name};AccountKey={key_value};"
            f"EndpointSuffix={resource.cloud.storage_suffix}"
        )

    def _list(self, resource: Resource) -> list[StorageAccountKey]:
        with calling(f"List keys of storage account {resource.name}", not_found=_missing(resource)):
            result = clients.storage_client(resource.subscription, resource.cloud).storage_accounts.list_keys(
                resource.resource_group, resource.name
            )
        return result.keys_property or []


def _value(item: StorageAccountKey) -> str:
    if not item.value:
        from rotators.core.errors import UpstreamError

        raise UpstreamError(f"The storage account's key list has no value for '{item.key_name}'.")
    return item.value


def _pick(keys: list[StorageAccountKey] | None, key: str) -> StorageAccountKey:
    for item in keys or []:
        if (item.key_name or "").lower() == key:
            return item
    from rotators.core.errors import UpstreamError

    raise UpstreamError(f"The storage account's key list has no '{key}'.")


KIND = StorageKind()
