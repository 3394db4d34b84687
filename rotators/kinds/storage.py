"""Azure Storage accounts: ``key1`` and ``key2``.

``regenerateKey`` is synchronous and answers with the key list, so one call both
regenerates and reads (recorded live: azure-cli ``storage/tests/latest/recordings/
test_renew_account_key.yaml``). Keys are picked by name, never by index: ``$expand=kerb``
adds two more. The account's ``keyCreationTime`` and each listed key's ``creationTime``
tell when Azure last generated a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rotators.adapters import clients
from rotators.core.errors import UpstreamError
from rotators.core.keys import KeyState, generation_times, key_in_connection_string
from rotators.kinds.base import Credential, Resource, arm_call, pair

if TYPE_CHECKING:
    from azure.mgmt.storage.models import StorageAccountKey


class StorageKind:
    resource_type = "Microsoft.Storage/storageAccounts"
    display_name = "storage account"
    credentials: Mapping[str, Credential] = pair("key1", "key2")
    passwordless = "Microsoft Entra ID: give the app a managed identity and a Storage data role"
    role = "the 'Storage Account Key Rotator' role (storageAccounts/read, listkeys, regeneratekey)"

    def inspect(self, resource: Resource, *, values: bool = True) -> KeyState:
        accounts = clients.storage_client(resource.subscription, resource.cloud).storage_accounts
        with arm_call(self, resource, "Read"):
            account = accounts.get_properties(resource.resource_group, resource.name)
        disabled = "allowSharedKeyAccess is false" if account.allow_shared_key_access is False else None
        created = account.key_creation_time
        generated = generation_times({"key1": created.key1, "key2": created.key2} if created else {})
        if not values:
            return KeyState({}, generated, disabled)
        with arm_call(self, resource, "List keys of"):
            listed = accounts.list_keys(resource.resource_group, resource.name)
        return _state(listed.keys_property, disabled)

    def regenerate(self, resource: Resource, key: str) -> KeyState | None:
        from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters

        accounts = clients.storage_client(resource.subscription, resource.cloud).storage_accounts
        with arm_call(self, resource, f"Regenerate {key} of"):
            result = accounts.regenerate_key(
                resource.resource_group,
                resource.name,
                StorageAccountRegenerateKeyParameters(key_name=key),
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        return _state(result.keys_property)

    def connection_string(self, resource: Resource, key_value: str) -> str:
        return (
            f"DefaultEndpointsProtocol=https;AccountName={resource.name};AccountKey={key_value};"
            f"EndpointSuffix={resource.cloud.storage_suffix}"
        )

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "AccountKey")


def _state(keys: list[StorageAccountKey] | None, disabled: str | None = None) -> KeyState:
    values: dict[str, str] = {}
    created = {}
    for item in keys or []:
        name = (item.key_name or "").lower()
        if name in ("key1", "key2"):
            if not item.value:
                raise UpstreamError(f"The storage account's key list has no value for '{name}'.")
            values[name] = item.value
            created[name] = item.creation_time
    if set(values) != {"key1", "key2"}:
        raise UpstreamError("The storage account's key list lacks key1 or key2.")
    return KeyState(values, generation_times(created), disabled)


KIND = StorageKind()
