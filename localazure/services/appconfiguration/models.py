"""App Configuration stores: two pairs of keys, each with an id, a value and a modification time.

Options where Microsoft's sources are silent:
- ``ids_change``: whether a regeneration gives the key a new id. The spec example
  ``ConfigurationStoresRegenerateKey.json`` keeps the id (default); ids of the form
  ``bSMo-l1-s0:…`` in public walkthroughs suggest they may change. The product must find keys
  by name under both.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, ArmResource
from localazure.services.base import new_key, now_iso

if TYPE_CHECKING:
    from localazure.server import LocalAzure

KEY_NAMES = ("Primary", "Secondary", "Primary Read Only", "Secondary Read Only")


@dataclass
class ConfigurationStore(ArmResource):
    ids: dict[str, str] = field(default_factory=dict)
    modified: dict[str, str] = field(default_factory=dict)
    keys_off: bool = False  # disableLocalAuth

    provider: ClassVar[str] = "Microsoft.AppConfiguration/configurationStores"

    def regenerate(self, name: str, *, new_id: bool) -> None:
        if new_id or name not in self.ids:
            self.ids[name] = secrets.token_hex(8).upper()
        self.keys[name] = new_key()
        self.modified[name] = now_iso()


class AppConfigurationBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.items: dict[str, ConfigurationStore] = {}
        self.ids_change = False

    def create(
        self, name: str, *, subscription: str = DEFAULT_SUBSCRIPTION, resource_group: str = "rg-demo"
    ) -> ConfigurationStore:
        store = ConfigurationStore(subscription, resource_group, name)
        for key_name in KEY_NAMES:
            store.regenerate(key_name, new_id=True)
        with self.cloud.lock:
            return self.cloud.arm.add(self.items, store)

    def resources(self) -> list[ConfigurationStore]:
        return list(self.items.values())
