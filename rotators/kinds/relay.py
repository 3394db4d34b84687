"""Azure Relay shared access policies: of a namespace, a hybrid connection or a WCF relay.

Spec ``Microsoft.Relay/stable/2021-11-01/authorizationRules.json``: ``Namespaces_ListKeys``,
``HybridConnections_ListKeys`` and ``WCFRelays_ListKeys`` answer ``AccessKeys`` (``primaryKey``,
``secondaryKey``, connection strings); the three ``*_RegenerateKeys`` take
``RegenerateAccessKeyParameters`` ``{"keyType": "PrimaryKey"|"SecondaryKey"}`` and answer 200 with the
same ``AccessKeys`` (synchronous): the Service Bus design (:mod:`rotators.kinds.sasrules`). The
connection string published is the service's own; live Azure writes
``Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<rule>;SharedAccessKey=<key>``,
and a hybrid connection's or WCF relay's rule adds ``;EntityPath=<entity>`` (Azure/azure-cli recordings
``relay/tests/latest/recordings/test_relay_hyco.yaml`` and ``test_relay_wcfrelay.yaml``, 2023-08-22:
listKeys and both regenerateKeys), which azure-relay-dotnet's one-argument ``HybridConnectionListener``
needs; the spec examples, which name no entity, are not what the service answers.
``RelayNamespaceProperties`` has no ``disableLocalAuth``: nothing refuses the keys. No azure-mgmt-relay
dependency: the calls go through :mod:`rotators.kinds.armrest`.
"""

from __future__ import annotations

from functools import partial

from rotators.kinds.base import Role
from rotators.kinds.sasrules import RestSasRuleKind

# Stable, as Service Bus pins it; that the sovereign clouds serve it is unverified (README, "Azure API
# versions"). 2024-01-01 shows no key switch either (its RelayNameSpaceGet.json).
API_VERSION = "2021-11-01"

_rule = partial(
    RestSasRuleKind,
    display_name="Relay authorization rule",
    api_version=API_VERSION,
    key_field="keyType",
    passwordless="Microsoft Entra ID: give the app a managed identity and an Azure Relay data role",
    # Action names as Microsoft's catalog spells them (permissions/integration: Microsoft.Relay).
    role=Role(
        "Relay Key Rotator",
        (
            "Microsoft.Relay/namespaces/authorizationRules/listkeys/action",
            "Microsoft.Relay/namespaces/authorizationRules/regenerateKeys/action",
            "Microsoft.Relay/namespaces/HybridConnections/authorizationRules/listkeys/action",
            "Microsoft.Relay/namespaces/HybridConnections/authorizationRules/regeneratekeys/action",
            "Microsoft.Relay/namespaces/WcfRelays/authorizationRules/listkeys/action",
            "Microsoft.Relay/namespaces/WcfRelays/authorizationRules/regeneratekeys/action",
        ),
    ),
)

NAMESPACE_RULE = _rule("Microsoft.Relay/namespaces/authorizationRules")
HYBRID_CONNECTION_RULE = _rule("Microsoft.Relay/namespaces/hybridConnections/authorizationRules")
WCF_RELAY_RULE = _rule("Microsoft.Relay/namespaces/wcfRelays/authorizationRules")
