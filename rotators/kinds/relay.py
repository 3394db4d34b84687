"""Azure Relay shared access policies: of a namespace, a hybrid connection or a WCF relay.

Spec ``Microsoft.Relay/stable/2021-11-01/authorizationRules.json``: ``Namespaces_ListKeys``,
``HybridConnections_ListKeys`` and ``WCFRelays_ListKeys`` answer ``AccessKeys`` (``primaryKey``,
``secondaryKey``, connection strings); the three ``*_RegenerateKeys`` take
``RegenerateAccessKeyParameters`` ``{"keyType": "PrimaryKey"|"SecondaryKey"}`` and answer 200 with the
same ``AccessKeys`` (synchronous): the Service Bus design (:mod:`rotators.kinds.sasrules`). The examples'
connection strings (``RelayNameSpaceAuthorizationRuleRegenrateKey.json``,
``RelayHybridConnectionAuthorizationRuleListKey.json``, stable 2017-04-01, the same schema) read
``Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<rule>;SharedAccessKey=<key>``
at every level, with no ``EntityPath``. ``RelayNamespaceProperties`` has no ``disableLocalAuth``: nothing
refuses the keys. No azure-mgmt-relay dependency: the calls go through :mod:`rotators.kinds.armrest`.
"""

from __future__ import annotations

from functools import partial

from rotators.kinds.base import Role
from rotators.kinds.sasrules import RestSasRuleKind

# Stable, as Service Bus pins it (served in every cloud); 2024-01-01 shows no key switch either
# (its RelayNameSpaceGet.json).
API_VERSION = "2021-11-01"

_rule = partial(
    RestSasRuleKind,
    display_name="Relay authorization rule",
    api_version=API_VERSION,
    key_field="keyType",
    entity_path=False,
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
