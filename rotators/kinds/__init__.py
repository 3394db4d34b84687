"""The registry of resource kinds, keyed by lower-cased ARM resource type.

Modules are imported on first use, so a Storage rotation never imports the Cosmos DB SDK
and the reverse. A new kind is one module and one line here.
"""

from __future__ import annotations

import functools
import importlib

from rotators.kinds.base import Credential, KeyKind, Resource, pair

_MODULES = {
    "microsoft.storage/storageaccounts": "rotators.kinds.storage",
    "microsoft.documentdb/databaseaccounts": "rotators.kinds.cosmosdb",
}
SUPPORTED_TYPES = ("Microsoft.Storage/storageAccounts", "Microsoft.DocumentDB/databaseAccounts")


def is_supported(resource_type: str) -> bool:
    return resource_type.lower() in _MODULES


@functools.cache
def kind_for(resource_type: str) -> KeyKind:
    kind: KeyKind = importlib.import_module(_MODULES[resource_type.lower()]).KIND
    return kind


__all__ = ["SUPPORTED_TYPES", "Credential", "KeyKind", "Resource", "is_supported", "kind_for", "pair"]
