"""Azure Cosmos DB accounts: the read-write pair and the read-only pair.

``regenerateKey`` is a long-running operation: Azure answers 202 ``{"status":"Enqueued"}``
and runs it on its own clock, from under a minute to hours (recorded live: azure-cli
``cosmosdb/tests/latest/recordings/test_keys_database_account.yaml``; Microsoft's key
rotation doc). Its status URLs live under ``/subscriptions/{sub}/providers/
Microsoft.DocumentDB/locations/…``, outside the account, where an account-scoped role
cannot read; so completion is read from the account itself, whose ``keysMetadata`` gives
each key's ``generationTime`` (spec example ``CosmosDBDatabaseAccountGet.json``,
2024-11-15), and from the key list. A write while another operation runs is refused with
412 (Azure/azure-rest-api-specs#703).

An account of another API (``kind: MongoDB``; capability ``EnableCassandra``, ``EnableTable`` or
``EnableGremlin``, the names the spec's ``Capability.name`` lists) has the same four keys, and
``ValueFormat=Key`` works for it. Its clients do not read the NoSQL connection string this kind
writes, so ``ValueFormat=ConnectionString`` is refused for it (before anything is regenerated), and
its keys are published untested:
its data plane answers the NoSQL API 403 "Sql api is not supported for this database account"
(a MongoDB account: PlagueHO/CosmosDB#353, Azure/azure-cosmos-dotnet-v3#582; Cassandra:
microsoft/vscode-cosmosdb#1324), which says nothing about the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rotators.adapters import clients
from rotators.adapters.dataplane import testing_key
from rotators.core import deadline
from rotators.core.errors import DataPlaneUnreachable, UpstreamError
from rotators.core.keys import Description, generation_times, key_in_connection_string
from rotators.core.resources import Credential, Resource, pair
from rotators.core.settings import get_settings
from rotators.kinds.base import Role, arm_call

if TYPE_CHECKING:
    from azure.mgmt.cosmosdb.models import DatabaseAccountGetResults
    from azure.mgmt.cosmosdb.operations import DatabaseAccountsOperations

# The service's key names (keyKind on the wire) and their fields in listKeys and keysMetadata.
_KEY_FIELDS = {
    "primary": "primary_master_key",
    "secondary": "secondary_master_key",
    "primaryReadonly": "primary_readonly_master_key",
    "secondaryReadonly": "secondary_readonly_master_key",
}
# The APIs other than NoSQL, by the capability that makes an account speak them (kind MongoDB aside).
_OTHER_APIS = {"enablecassandra": "Cassandra", "enabletable": "Table", "enablegremlin": "Gremlin"}


class CosmosDBKind:
    resource_type = "Microsoft.DocumentDB/databaseAccounts"
    display_name = "Cosmos DB account"
    # Azure's Cosmos DB rotation sample tags key1/key2 for primary/secondary.
    credentials: Mapping[str, Credential] = {
        **pair("primary", "secondary"),
        **pair("primaryReadonly", "secondaryReadonly"),
        **pair("key1", "key2", keys=("primary", "secondary")),
    }
    passwordless = "Microsoft Entra ID: give the app a managed identity and a Cosmos DB data-plane role"
    has_connection_string = True
    role = Role(
        "Cosmos DB Account Key Rotator",
        (
            "Microsoft.DocumentDB/databaseAccounts/read",
            "Microsoft.DocumentDB/databaseAccounts/listKeys/action",
            "Microsoft.DocumentDB/databaseAccounts/regenerateKey/action",
        ),
    )

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            account = _accounts(resource).get(resource.resource_group, resource.name)
        metadata, api = account.keys_metadata, _other_api(account)
        return Description(
            generation_times(
                {
                    key: getattr(getattr(metadata, field, None), "generation_time", None)
                    for key, field in _KEY_FIELDS.items()
                }
            ),
            "disableLocalAuth is true" if account.disable_local_auth else None,
            other_api=api,
            no_connection_string=(
                f"serves the {api}, whose clients do not read the NoSQL connection string this product writes "
                "(AccountEndpoint=...;AccountKey=...;)"
                if api
                else None
            ),
        )

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = _accounts(resource).list_keys(resource.resource_group, resource.name)
        listed = {key: getattr(keys, field, None) for key, field in _KEY_FIELDS.items()}
        missing = [key for key, value in listed.items() if not value]
        if missing:
            raise UpstreamError(f"The Cosmos DB account's key list lacks {', '.join(missing)}.")
        return {key: str(value) for key, value in listed.items()}

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        from azure.mgmt.cosmosdb.models import DatabaseAccountRegenerateKeyParameters

        with arm_call(self, resource, f"Regenerate {key} of"):
            _accounts(resource).begin_regenerate_key(
                resource.resource_group,
                resource.name,
                DatabaseAccountRegenerateKeyParameters(key_kind=key),
                polling=False,  # never follow the status URL: its scope is the subscription's
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        return None

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        return f"AccountEndpoint=https://{resource.name}.{resource.cloud.cosmos_suffix}:443/;AccountKey={key_value};"

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "AccountKey")

    def verify_key(self, resource: Resource, key: str, value: str, described: Description) -> str | None:
        """List databases with the key (any of the four may read): azure-cosmos reads the account first.

        A client per test, not cached: it holds the key, which is about to change.
        """
        from azure.cosmos import CosmosClient

        if described.other_api:
            return f"it serves the {described.other_api}, which azure-cosmos does not speak"
        url = f"https://{resource.name}.{resource.cloud.cosmos_suffix}:443/"
        # azure-cosmos takes no per-call policy: its timeouts are clamped to the trigger's time here.
        left = deadline.remaining()
        limit = (
            get_settings().http_timeout_seconds
            if left is None
            else max(0.5, min(get_settings().http_timeout_seconds, left))
        )
        with testing_key(f"Test the new {key} of {resource.name}"):
            client = CosmosClient(
                url,
                credential=value,
                connection_timeout=limit,
                timeout=limit,
                retry_total=1,
                enable_endpoint_discovery=False,  # one request to the account's own host, not its regions
            )
            try:
                next(iter(client.list_databases(max_item_count=1)), None)
            except TypeError:
                # azure-cosmos 4.17 raises TypeError, not its HTTP error, on a 5xx to a database list
                # (found by the verify helper): an answer, and not about the key.
                raise DataPlaneUnreachable(f"Test the new {key} of {resource.name}: the list failed") from None
        return None


def _other_api(account: DatabaseAccountGetResults) -> str | None:
    """The API an account serves when it is not NoSQL, as its kind and capabilities say."""
    if str(getattr(account.kind, "value", account.kind)).lower() == "mongodb":
        return "API for MongoDB"
    for capability in account.capabilities or []:
        api = _OTHER_APIS.get(str(capability.name or "").lower())
        if api:
            return f"API for {api}"
    return None


def _accounts(resource: Resource) -> DatabaseAccountsOperations:
    return clients.cosmos_client(resource.subscription, resource.cloud).database_accounts


KIND = CosmosDBKind()
