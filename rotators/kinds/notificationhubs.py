"""Azure Notification Hubs shared access policies: of a namespace or a notification hub.

Spec ``Microsoft.NotificationHubs/NotificationHubs/stable/2023-09-01/notificationhubs.json``:
``Namespaces_ListKeys`` and ``NotificationHubs_ListKeys`` answer ``ResourceListKeys`` (``primaryKey``,
``secondaryKey``, connection strings); ``Namespaces_RegenerateKeys`` and ``NotificationHubs_RegenerateKeys``
take ``PolicyKeyResource`` ``{"policyKey": "PrimaryKey"|"SecondaryKey"}`` (``PolicyKeyType``; not the
``keyType`` of Service Bus and Relay) and answer 200 with the same ``ResourceListKeys`` (synchronous).
Connection strings as the examples write them: ``Namespaces/AuthorizationRuleListKeys.json``
``Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<rule>;SharedAccessKey=<key>``,
and a hub's rule adds ``;EntityPath=<hub>`` (``NotificationHubs/AuthorizationRuleRegenerateKey.json``).
``NamespaceProperties`` has no ``disableLocalAuth``, and the service's data plane takes SAS only: nothing
refuses the keys. No azure-mgmt-notificationhubs dependency: the calls go through
:mod:`rotators.kinds.armrest`.
"""

from __future__ import annotations

from functools import partial

from rotators.kinds.base import Role
from rotators.kinds.sasrules import RestSasRuleKind

API_VERSION = "2023-09-01"  # the newest stable version

_rule = partial(
    RestSasRuleKind,
    display_name="Notification Hubs authorization rule",
    api_version=API_VERSION,
    key_field="policyKey",
    passwordless="no other: Notification Hubs' data plane accepts shared access signatures only",
    # Action names as Microsoft's catalog spells them (permissions/web-and-mobile: Microsoft.NotificationHubs).
    role=Role(
        "Notification Hubs Key Rotator",
        (
            "Microsoft.NotificationHubs/Namespaces/authorizationRules/listkeys/action",
            "Microsoft.NotificationHubs/Namespaces/authorizationRules/regenerateKeys/action",
            "Microsoft.NotificationHubs/Namespaces/NotificationHubs/authorizationRules/listkeys/action",
            "Microsoft.NotificationHubs/Namespaces/NotificationHubs/authorizationRules/regenerateKeys/action",
        ),
    ),
)

NAMESPACE_RULE = _rule("Microsoft.NotificationHubs/namespaces/authorizationRules", entity_path=False)
HUB_RULE = _rule("Microsoft.NotificationHubs/namespaces/notificationHubs/authorizationRules", entity_path=True)
