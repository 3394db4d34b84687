"""Azure Cosmos DB accounts: the read-write pair and the read-only pair.

``regenerateKey`` is a long-running operation that can take from a minute to hours. The
poller's continuation token is handed to ``on_started`` at once, so a trigger that comes
after a crash or a timeout resumes polling instead of regenerating again; if the token was
lost, the account's ``provisioningState`` tells whether that operation is still running.
"""

from __future__ import annotations

from collections.abc import Mapping

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.kinds.base import Credential, OperationStarted, Resource, pair
from rotators.kinds.base import missing_resource as _missing

_KEY_FIELDS = {
    "primary": "primary_master_key",
    "secondary": "secondary_master_key",
    "primaryReadonly": "primary_readonly_master_key",
    "secondaryReadonly": "secondary_readonly_master_key",
}


class CosmosDBKind:
    resource_type = "Microsoft.DocumentDB/databaseAccounts"
    display_name = "Cosmos DB account"
    # Azure's Cosmos DB rotation sample tags key1/key2 for primary/secondary.
    credentials: Mapping[str, Credential] = {
        **pair("primary", "secondary"),
        **pair("primaryReadonly", "secondaryReadonly"),
        **pair("key1", "key2", keys=("primary", "secondary")),
    }

    def regenerate(
        self, resource: Resource, key: str, *, resume: str | None, on_started: OperationStarted, wait_seconds: float
    ) -> str | None:
        from azure.mgmt.cosmosdb.models import DatabaseAccountRegenerateKeyParameters

        accounts = clients.cosmos_client(resource.subscription, resource.cloud).database_accounts
        operation = f"Regenerate {key} key of Cosmos DB account {resource.name}"
        with calling(operation, not_found=_missing(resource)):
            if resume:
                poller = accounts.begin_regenerate_key(
                    resource.resource_group,
                    resource.name,
                    None,  # type: ignore[call-overload]  # azure-core resumes from the token alone
                    continuation_token=resume,
                )
            else:
                poller = accounts.begin_regenerate_key(
                    resource.resource_group, resource.name, DatabaseAccountRegenerateKeyParameters(key_kind=key)
                )
                on_started(poller.continuation_token())
            poller.wait(wait_seconds)
            if not poller.done():
                return None
            poller.result()
        return self.read_key(resource, key)

    def read_key(self, resource: Resource, key: str) -> str:
        accounts = clients.cosmos_client(resource.subscription, resource.cloud).database_accounts
        with calling(f"List keys of Cosmos DB account {resource.name}", not_found=_missing(resource)):
            if key.endswith("Readonly"):
                keys = accounts.list_read_only_keys(resource.resource_group, resource.name)
            else:
                keys = accounts.list_keys(resource.resource_group, resource.name)
        value: str | None = getattr(keys, _KEY_FIELDS[key])
        if not value:
            from rotators.core.errors import UpstreamError

            raise UpstreamError(f"The Cosmos DB account's key list has no '{key}' key.")
        return value

    def operation_in_progress(self, resource: Resource) -> bool:
        """Cosmos DB runs one control-plane operation at a time and shows it as ``Updating``."""
        accounts = clients.cosmos_client(resource.subscription, resource.cloud).database_accounts
        with calling(f"Read Cosmos DB account {resource.name}", not_found=_missing(resource)):
            account = accounts.get(resource.resource_group, resource.name)
        return (account.provisioning_state or "").lower() != "succeeded"

    def connection_string(self, resource: Resource, key_value: str) -> str:
        return f"AccountEndpoint=https://{resource.name}.{resource.cloud.cosmos_suffix}:443/;AccountKey={key_value};"


KIND = CosmosDBKind()
