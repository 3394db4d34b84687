"""The registry of resource kinds, keyed by lower-cased ARM resource type, and what the workflows
do with a contract's kind.

Modules are imported on first use, so a Storage rotation never imports the Cosmos DB SDK
and the reverse. A new kind is one module (its calls, its names and its :class:`~rotators.kinds.base.Role`)
and one line here; with its stand-in, test row, README row, SDK pin and role assignment it touches
nine files, about 120 lines (Azure Maps), and up to thirteen, about 270 lines, with a data-plane
test (Batch): README's paragraph on a new kind lists them.

The core reads contracts against :data:`KINDS` and keeps what it needs of a kind
(:class:`~rotators.core.resources.ContractKind`); :func:`key_kind` gives the workflows the whole
kind, whose calls reach Azure (:func:`inspect`, :func:`secret_value`).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rotators.core.contract import Contract, ValueFormat
from rotators.core.keys import Description, KeyState
from rotators.core.parsing import GRAPH_APPLICATIONS
from rotators.core.resources import ContractKind
from rotators.kinds.base import KeyKind

if TYPE_CHECKING:
    from rotators.kinds.entra import ApplicationPasswords

# ARM resource type -> the module and the name of its kind.
_KINDS = {
    "Microsoft.Storage/storageAccounts": "rotators.kinds.storage:KIND",
    "Microsoft.DocumentDB/databaseAccounts": "rotators.kinds.cosmosdb:KIND",
    "Microsoft.ServiceBus/namespaces/authorizationRules": "rotators.kinds.servicebus:NAMESPACE_RULE",
    "Microsoft.ServiceBus/namespaces/queues/authorizationRules": "rotators.kinds.servicebus:QUEUE_RULE",
    "Microsoft.ServiceBus/namespaces/topics/authorizationRules": "rotators.kinds.servicebus:TOPIC_RULE",
    "Microsoft.EventHub/namespaces/authorizationRules": "rotators.kinds.eventhubs:NAMESPACE_RULE",
    "Microsoft.EventHub/namespaces/eventhubs/authorizationRules": "rotators.kinds.eventhubs:EVENT_HUB_RULE",
    "Microsoft.Relay/namespaces/authorizationRules": "rotators.kinds.relay:NAMESPACE_RULE",
    "Microsoft.Relay/namespaces/hybridConnections/authorizationRules": "rotators.kinds.relay:HYBRID_CONNECTION_RULE",
    "Microsoft.Relay/namespaces/wcfRelays/authorizationRules": "rotators.kinds.relay:WCF_RELAY_RULE",
    "Microsoft.NotificationHubs/namespaces/authorizationRules": "rotators.kinds.notificationhubs:NAMESPACE_RULE",
    "Microsoft.NotificationHubs/namespaces/notificationHubs/authorizationRules": (
        "rotators.kinds.notificationhubs:HUB_RULE"
    ),
    "Microsoft.Cache/redis": "rotators.kinds.redis:KIND",
    "Microsoft.Cache/redisEnterprise/databases": "rotators.kinds.managedredis:KIND",
    "Microsoft.CognitiveServices/accounts": "rotators.kinds.cognitiveservices:KIND",
    "Microsoft.Search/searchServices": "rotators.kinds.search:KIND",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints": "rotators.kinds.mlendpoints:KIND",
    "Microsoft.Maps/accounts": "rotators.kinds.maps:KIND",
    "Microsoft.Communication/communicationServices": "rotators.kinds.communication:KIND",
    "Microsoft.Batch/batchAccounts": "rotators.kinds.batch:KIND",
    "Microsoft.ContainerRegistry/registries": "rotators.kinds.containerregistry:KIND",
    "Microsoft.EventGrid/domains": "rotators.kinds.eventgrid:DOMAIN",
    "Microsoft.EventGrid/topics": "rotators.kinds.eventgrid:TOPIC",
    "Microsoft.EventGrid/namespaces": "rotators.kinds.eventgrid:NAMESPACE",
    "Microsoft.SignalRService/signalR": "rotators.kinds.signalr:SIGNALR",
    "Microsoft.SignalRService/webPubSub": "rotators.kinds.signalr:WEB_PUBSUB",
    "Microsoft.ApiManagement/service/subscriptions": "rotators.kinds.apimanagement:KIND",
    "Microsoft.AppConfiguration/configurationStores": "rotators.kinds.appconfiguration:KIND",
}
_MODULES = {resource_type.lower(): where for resource_type, where in _KINDS.items()}
SUPPORTED_TYPES = tuple(_KINDS)
# Kinds that add a credential instead of regenerating one of two keys. Graph permissions are not Azure RBAC:
# they hold no ARM role, so they are left out of SUPPORTED_TYPES, which rotators.kinds.roles generates from.
_ADDING = {GRAPH_APPLICATIONS: "rotators.kinds.entra:KIND"}


def is_supported(resource_type: str) -> bool:
    return resource_type.lower() in _MODULES


@functools.cache
def kind_for(resource_type: str) -> KeyKind:
    kind: KeyKind = _load(_MODULES[resource_type.lower()])
    return kind


def _load(where: str) -> Any:
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)


class _Registry:
    """The registry as the core reads contracts against it (:class:`~rotators.core.resources.Kinds`)."""

    supported = (*SUPPORTED_TYPES, *_ADDING)

    def get(self, resource_type: str) -> ContractKind | None:
        if is_supported(resource_type):
            return kind_for(resource_type)
        if resource_type.lower() == GRAPH_APPLICATIONS.lower():
            passwords: ApplicationPasswords = _load(_ADDING[GRAPH_APPLICATIONS])
            return passwords
        return None


KINDS = _Registry()


def password_kind(contract: Contract) -> ApplicationPasswords | None:
    """The kind of a contract whose rotation adds a password (an Entra ID application), else ``None``."""
    if contract.resource.type.lower() != GRAPH_APPLICATIONS.lower():
        return None
    passwords: ApplicationPasswords = _load(_ADDING[GRAPH_APPLICATIONS])
    return passwords


def canonical(contract: Contract) -> Contract:
    """The contract with its resource as locks and claims name it: an Entra ID application by its object ID (one
    Graph read for a client ID, once per process); any other resource as its tag names it."""
    adding = password_kind(contract)
    return contract if adding is None else replace(contract, resource=adding.canonical(contract.resource))


def key_kind(contract: Contract) -> KeyKind:
    """The whole kind of a contract read against :data:`KINDS`: the one its resource type names."""
    return kind_for(contract.resource.type)


def inspect(contract: Contract) -> KeyState:
    """The resource as a rotation checks it: one read, then its keys.

    A resource that refuses keys is not asked for them: some services delete them then (App
    Configuration), and every caller refuses such a resource before reading a key.
    """
    kind = key_kind(contract)
    description = kind.describe(contract.resource)
    if description.key_auth_disabled:
        return description.with_keys({})
    return description.with_keys(kind.list_keys(contract.resource))


def secret_value(contract: Contract, key_value: str, described: Description) -> str:
    """What the secret holds for a key: the bare key, or the kind's connection string around it, on the
    hosts the resource reported when it was ``described`` (App Configuration's lists its keys again)."""
    if contract.value_format is ValueFormat.CONNECTION_STRING:
        return key_kind(contract).connection_string(contract.resource, key_value, described)
    return key_value


__all__ = [
    "KINDS",
    "SUPPORTED_TYPES",
    "KeyKind",
    "inspect",
    "is_supported",
    "key_kind",
    "kind_for",
    "password_kind",
    "secret_value",
]
