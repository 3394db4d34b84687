"""Azure Storage accounts: ``key1`` and ``key2``.

``regenerateKey`` is synchronous and answers with the key list, so one call both
regenerates and reads (recorded live: azure-cli ``storage/tests/latest/recordings/
test_renew_account_key.yaml``). Keys are picked by name, never by index: ``$expand=kerb``
adds two more. The account's ``keyCreationTime`` tells when Azure last generated each key,
and ``allowSharedKeyAccess: false`` that nobody can use them (spec example
``StorageAccountGetProperties.json``).

Hosts are the ones the account reports (``primaryEndpoints``), read in the same GET: an account
with Azure DNS zone endpoints (``dnsEndpointType: AzureDnsZone``) is served on
``<account>.zNN.blob.storage.azure.net`` (spec example ``StorageAccountCreateDnsEndpointTypeToAzureDnsZone.json``),
where no ``EndpointSuffix`` connection string reaches. So the connection string has the
``EndpointSuffix`` form while every reported endpoint is the standard one, and otherwise names each
endpoint explicitly, as "Configure Azure Storage connection strings" documents for explicit
endpoints. The key test reads the Blob endpoint; a FileStorage account serves Azure Files only
("Storage account overview"), so its keys are published untested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rotators.adapters import clients
from rotators.adapters.dataplane import testing_key
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, generation_times, key_in_connection_string
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds.base import Role, arm_call

if TYPE_CHECKING:
    from azure.mgmt.storage.models import StorageAccountKey
    from azure.mgmt.storage.operations import StorageAccountsOperations


class StorageKind:
    resource_type = "Microsoft.Storage/storageAccounts"
    display_name = "storage account"
    credentials: Mapping[str, Credential] = pair("key1", "key2")
    has_connection_string = True
    passwordless = "Microsoft Entra ID: give the app a managed identity and a Storage data role"
    role = Role(
        "Storage Account Key Rotator",
        (
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Storage/storageAccounts/listkeys/action",
            "Microsoft.Storage/storageAccounts/regeneratekey/action",
        ),
    )

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            account = _accounts(resource).get_properties(resource.resource_group, resource.name)
        created = account.key_creation_time
        reported = account.primary_endpoints
        return Description(
            generation_times({"key1": created.key1, "key2": created.key2} if created else {}),
            "allowSharedKeyAccess is false" if account.allow_shared_key_access is False else None,
            {name: str(url).rstrip("/") for name in _SERVICES if (url := getattr(reported, name, None))},
            "Azure Files (a FileStorage account)"
            if str(getattr(account.kind, "value", account.kind)) == "FileStorage"
            else None,
        )

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            listed = _accounts(resource).list_keys(resource.resource_group, resource.name)
        return _values(listed.keys_property)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters

        with arm_call(self, resource, f"Regenerate {key} of"):
            result = _accounts(resource).regenerate_key(
                resource.resource_group,
                resource.name,
                StorageAccountRegenerateKeyParameters(key_name=key),
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        return _values(result.keys_property)

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        endpoints = described.endpoints
        if not endpoints:
            raise UpstreamError(
                f"Azure reported no primaryEndpoints for {resource.name}: its connection string is unknown."
            )
        suffix = resource.cloud.storage_suffix
        if all(url.lower() == f"https://{resource.name}.{name}.{suffix}".lower() for name, url in endpoints.items()):
            return (
                f"DefaultEndpointsProtocol=https;AccountName={resource.name};AccountKey={key_value};"
                f"EndpointSuffix={suffix}"
            )
        explicit = "".join(f"{name.title()}Endpoint={url};" for name, url in endpoints.items())
        return f"DefaultEndpointsProtocol=https;{explicit}AccountName={resource.name};AccountKey={key_value}"

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "AccountKey")

    def verify_key(self, resource: Resource, key: str, value: str, described: Description) -> str | None:
        """Get Blob Service Properties with Shared Key, on the Blob endpoint the account reports: the
        cheapest read the key alone authorizes.

        A client per test, not cached: it holds the key, which is about to change.
        """
        from azure.storage.blob import BlobServiceClient

        url = described.endpoints.get("blob")
        if described.other_api:
            return f"it serves {described.other_api}, and the test reads Blob"
        if not url:
            return "it reports no Blob endpoint, which the test reads"
        credential = {"account_name": resource.name, "account_key": value}
        with testing_key(f"Test the new {key} of {resource.name}"):
            service = BlobServiceClient(url, credential=credential, **clients.blob_options(retries=1))
            service.get_service_properties(**clients.blob_call_options())
        return None


# The services a connection string names, in the order Microsoft's explicit-endpoint form lists them.
_SERVICES = ("blob", "file", "queue", "table")


def _accounts(resource: Resource) -> StorageAccountsOperations:
    return clients.storage_client(resource.subscription, resource.cloud).storage_accounts


def _values(keys: list[StorageAccountKey] | None) -> dict[str, str]:
    values = {(item.key_name or "").lower(): item.value for item in keys or []}
    pair_values = {name: values.get(name) for name in ("key1", "key2")}
    missing = [name for name, value in pair_values.items() if not value]
    if missing:
        raise UpstreamError(f"The storage account's key list lacks {', '.join(missing)}.")
    return {name: str(value) for name, value in pair_values.items()}


KIND = StorageKind()
