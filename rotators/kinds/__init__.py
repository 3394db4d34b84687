"""The registry of resource kinds, keyed by lower-cased ARM resource type.

Modules are imported on first use, so a Storage rotation never imports the Cosmos DB SDK
and the reverse. A new kind is one module and one line here.
"""

from __future__ import annotations

import functools
import importlib

from rotators.kinds.base import Credential, KeyKind, Resource, pair

# ARM resource type -> the module and the name of its kind.
_KINDS = {
    "Microsoft.Storage/storageAccounts": "rotators.kinds.storage:KIND",
    "Microsoft.DocumentDB/databaseAccounts": "rotators.kinds.cosmosdb:KIND",
    "Microsoft.ServiceBus/namespaces/authorizationRules": "rotators.kinds.servicebus:NAMESPACE_RULE",
    "Microsoft.ServiceBus/namespaces/queues/authorizationRules": "rotators.kinds.servicebus:QUEUE_RULE",
    "Microsoft.ServiceBus/namespaces/topics/authorizationRules": "rotators.kinds.servicebus:TOPIC_RULE",
    "Microsoft.EventHub/namespaces/authorizationRules": "rotators.kinds.eventhubs:NAMESPACE_RULE",
    "Microsoft.EventHub/namespaces/eventhubs/authorizationRules": "rotators.kinds.eventhubs:EVENT_HUB_RULE",
    "Microsoft.Cache/redis": "rotators.kinds.redis:KIND",
    "Microsoft.CognitiveServices/accounts": "rotators.kinds.cognitiveservices:KIND",
    "Microsoft.Search/searchServices": "rotators.kinds.search:KIND",
    "Microsoft.Maps/accounts": "rotators.kinds.maps:KIND",
    "Microsoft.Communication/communicationServices": "rotators.kinds.communication:KIND",
    "Microsoft.Batch/batchAccounts": "rotators.kinds.batch:KIND",
    "Microsoft.EventGrid/domains": "rotators.kinds.eventgrid:DOMAIN",
    "Microsoft.EventGrid/topics": "rotators.kinds.eventgrid:TOPIC",
    "Microsoft.SignalRService/signalR": "rotators.kinds.signalr:SIGNALR",
    "Microsoft.SignalRService/webPubSub": "rotators.kinds.signalr:WEB_PUBSUB",
    "Microsoft.AppConfiguration/configurationStores": "rotators.kinds.appconfiguration:KIND",
}
_MODULES = {resource_type.lower(): where for resource_type, where in _KINDS.items()}
SUPPORTED_TYPES = tuple(_KINDS)


def is_supported(resource_type: str) -> bool:
    return resource_type.lower() in _MODULES


@functools.cache
def kind_for(resource_type: str) -> KeyKind:
    module, _, name = _MODULES[resource_type.lower()].partition(":")
    kind: KeyKind = getattr(importlib.import_module(module), name)
    return kind


__all__ = ["SUPPORTED_TYPES", "Credential", "KeyKind", "Resource", "is_supported", "kind_for", "pair"]
