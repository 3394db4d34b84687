"""Azure Event Hubs shared access policies: of a namespace or an event hub.

Spec examples (Microsoft.EventHub stable 2024-01-01 and 2026-01-01)
``EHNameSpaceAuthorizationRuleRegenerateKey.json``, ``EHEventHubAuthorizationRuleRegenerateKey.json``,
``EHNameSpaceAuthorizationRuleListKey.json``, ``EHEventHubAuthorizationRuleListKey.json`` and
``EHNameSpaceGet.json`` (``properties.disableLocalAuth``): the same design as Service Bus
(:mod:`rotators.kinds.sasrules`), on the same ``servicebus.windows.net`` hosts.
"""

from __future__ import annotations

from functools import partial

from rotators.kinds.base import Role
from rotators.kinds.sasrules import SasRuleKind

# Pinned like every client (README, "Azure API versions"): GA, with disableLocalAuth and both rule levels.
API_VERSION = "2024-01-01"

_rule = partial(
    SasRuleKind,
    display_name="Event Hubs authorization rule",
    client="azure.mgmt.eventhub:EventHubManagementClient",
    api_version=API_VERSION,
    passwordless="Microsoft Entra ID: give the app a managed identity and an Event Hubs data role",
    role=Role(
        "Event Hubs Key Rotator",
        (
            "Microsoft.EventHub/namespaces/read",
            "Microsoft.EventHub/namespaces/authorizationRules/listkeys/action",
            "Microsoft.EventHub/namespaces/authorizationRules/regenerateKeys/action",
            "Microsoft.EventHub/namespaces/eventhubs/authorizationRules/listkeys/action",
            "Microsoft.EventHub/namespaces/eventhubs/authorizationRules/regenerateKeys/action",
        ),
    ),
)

NAMESPACE_RULE = _rule("Microsoft.EventHub/namespaces/authorizationRules", None)
EVENT_HUB_RULE = _rule("Microsoft.EventHub/namespaces/eventhubs/authorizationRules", "event_hubs")
