"""Event Hubs namespaces and their shared access policies (namespace and event hub rules).

The spec's Event Hubs ``AuthorizationRules.json`` (stable 2024-01-01, 2026-01-01) has the
Service Bus shapes: ``EHNameSpaceAuthorizationRuleListKey.json`` and
``EHEventHubAuthorizationRuleRegenerateKey.json`` answer 200 with the same ``AccessKeys``
(connection strings on ``servicebus.windows.net``, ``EntityPath`` for hub rules), and
``EHNameSpaceGet.json`` carries ``properties.disableLocalAuth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.servicebus.models import Namespace, ServiceBusBackend


@dataclass
class EventHubsNamespace(Namespace):
    provider: ClassVar[str] = "Microsoft.EventHub/namespaces"


class EventHubsBackend(ServiceBusBackend):
    namespace_type = EventHubsNamespace
    type_name = "Microsoft.EventHub/Namespaces"  # as EHNameSpaceGet.json spells it
