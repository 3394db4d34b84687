"""Storage accounts: two account keys (and the Kerberos pair), each with its creation time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, ArmResource
from localazure.services.base import new_key, now_iso

if TYPE_CHECKING:
    from localazure.server import LocalAzure

KEY_NAMES = ("key1", "key2", "kerb1", "kerb2")


@dataclass
class StorageAccount(ArmResource):
    created: dict[str, str] = field(default_factory=dict)
    allow_shared_key_access: bool | None = None  # absent from the account means allowed

    provider: ClassVar[str] = "Microsoft.Storage/storageAccounts"

    def regenerate(self, key_name: str) -> None:
        self.keys[key_name] = new_key()
        self.created[key_name] = now_iso()


class StorageBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.accounts: dict[str, StorageAccount] = {}

    def create_account(
        self, name: str, *, subscription: str = DEFAULT_SUBSCRIPTION, resource_group: str = "rg-demo"
    ) -> StorageAccount:
        account = StorageAccount(subscription, resource_group, name)
        for key_name in KEY_NAMES:
            account.regenerate(key_name)
        with self.cloud.lock:
            return self.cloud.arm.add(self.accounts, account)

    def resources(self) -> list:
        return list(self.accounts.values())
