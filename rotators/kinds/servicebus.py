"""Azure Service Bus shared access policies: of a namespace, a queue or a topic.

Spec examples ``SBNameSpaceAuthorizationRuleRegenerateKey.json``,
``SBQueueAuthorizationRuleRegenerateKey.json``, ``SBTopicAuthorizationRuleListKey.json``
and ``SBNamespaceGet.json`` (``properties.disableLocalAuth``); the shared design is in
:mod:`rotators.kinds.sasrules`.
"""

from __future__ import annotations

from functools import partial

from rotators.kinds.base import Role
from rotators.kinds.sasrules import SasRuleKind

# Pinned like every client (README, "Azure API versions"): served in every cloud, with disableLocalAuth.
API_VERSION = "2021-11-01"

_rule = partial(
    SasRuleKind,
    display_name="Service Bus authorization rule",
    client="azure.mgmt.servicebus:ServiceBusManagementClient",
    api_version=API_VERSION,
    passwordless="Microsoft Entra ID: give the app a managed identity and a Service Bus data role",
    role=Role(
        "Service Bus Key Rotator",
        (
            "Microsoft.ServiceBus/namespaces/read",
            "Microsoft.ServiceBus/namespaces/authorizationRules/listkeys/action",
            "Microsoft.ServiceBus/namespaces/authorizationRules/regenerateKeys/action",
            "Microsoft.ServiceBus/namespaces/queues/authorizationRules/listkeys/action",
            "Microsoft.ServiceBus/namespaces/queues/authorizationRules/regenerateKeys/action",
            "Microsoft.ServiceBus/namespaces/topics/authorizationRules/listkeys/action",
            "Microsoft.ServiceBus/namespaces/topics/authorizationRules/regenerateKeys/action",
        ),
    ),
)

NAMESPACE_RULE = _rule("Microsoft.ServiceBus/namespaces/authorizationRules", None)
QUEUE_RULE = _rule("Microsoft.ServiceBus/namespaces/queues/authorizationRules", "queues")
TOPIC_RULE = _rule("Microsoft.ServiceBus/namespaces/topics/authorizationRules", "topics")
