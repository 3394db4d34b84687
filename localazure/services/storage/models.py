"""Storage accounts: two account keys (and the Kerberos pair), each with its creation time, and the
endpoints the account reports.

Endpoints: ``dns_endpoint_type`` ``Standard`` (``<account>.<service>.core.windows.net``, spec example
``StorageAccountGetProperties.json``) or ``AzureDnsZone`` (``<account>.z24.<service>.storage.azure.net``,
spec example ``StorageAccountCreateDnsEndpointTypeToAzureDnsZone.json``; Azure picks the zone, the
stand-in always this one). ``kind`` ``StorageV2`` or ``FileStorage`` ("premium file shares", which
support Azure Files only: "Storage account overview"). Which endpoints ARM lists for a FileStorage
account is not documented: ``file_storage_lists_every_endpoint`` offers both (False: ``file`` only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, ArmResource
from localazure.services.base import new_key, now_iso

if TYPE_CHECKING:
    from localazure.server import LocalAzure

KEY_NAMES = ("key1", "key2", "kerb1", "kerb2")
# What StorageAccountGetProperties.json lists under primaryEndpoints for a StorageV2 account.
SERVICES = ("blob", "dfs", "file", "queue", "table", "web")
DNS_ZONE = "z24"  # the spec example's zone


@dataclass
class StorageAccount(ArmResource):
    created: dict[str, str] = field(default_factory=dict)
    allow_shared_key_access: bool | None = None  # absent from the account means allowed
    kind: str = "StorageV2"
    dns_endpoint_type: str = "Standard"

    provider: ClassVar[str] = "Microsoft.Storage/storageAccounts"

    def host(self, service: str) -> str:
        """The account's host for one service, in its DNS endpoint type's form."""
        if self.dns_endpoint_type == "AzureDnsZone":
            return f"{self.name}.{DNS_ZONE}.{service}.storage.azure.net"
        return f"{self.name}.{service}.core.windows.net"

    def serves(self, service: str) -> bool:
        return self.kind != "FileStorage" or service == "file"

    def regenerate(self, key_name: str) -> None:
        self.keys[key_name] = new_key()
        self.created[key_name] = now_iso()


class StorageBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.accounts: dict[str, StorageAccount] = {}
        self.file_storage_lists_every_endpoint = False

    def create_account(
        self,
        name: str,
        *,
        subscription: str = DEFAULT_SUBSCRIPTION,
        resource_group: str = "rg-demo",
        kind: str = "StorageV2",
        dns_endpoint_type: str = "Standard",
    ) -> StorageAccount:
        account = StorageAccount(subscription, resource_group, name, kind=kind, dns_endpoint_type=dns_endpoint_type)
        for key_name in KEY_NAMES:
            account.regenerate(key_name)
        with self.cloud.lock:
            return self.cloud.arm.add(self.accounts, account)

    def resources(self) -> list:
        return list(self.accounts.values())

    def endpoints(self, account: StorageAccount) -> dict[str, str]:
        """``primaryEndpoints`` as ARM reports them for the account."""
        listed = SERVICES if self.file_storage_lists_every_endpoint else [s for s in SERVICES if account.serves(s)]
        return {service: f"https://{account.host(service)}/" for service in listed}
