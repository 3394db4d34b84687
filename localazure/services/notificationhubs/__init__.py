"""Microsoft.NotificationHubs behind ARM: namespace and notification hub rules' listKeys and regenerateKeys.

Spec ``Microsoft.NotificationHubs/NotificationHubs/stable/2023-09-01/notificationhubs.json`` (the version
the product pins): the Service Bus shapes (:mod:`localazure.services.servicebus`) but for the body of
``regenerateKeys``, ``PolicyKeyResource`` ``{"policyKey"}``, answered 200 with ``ResourceListKeys``
(``Namespaces/AuthorizationRuleListKeys.json``). A hub rule's connection strings name no entity, as live
Azure answers its listKeys (Azure/azure-cli-extensions ``src/notification-hub/.../recordings/
test_notificationhubs.yaml``, 2023-07-24; New-AzNotificationHubKey's documented sample likewise), not as
``NotificationHubs/AuthorizationRuleRegenerateKey.json``, whose ``EntityPath`` names another hub than its
own. The namespace has no ``disableLocalAuth`` (``NamespaceProperties``), and the product reads no
namespace: no GET here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.servicebus.models import KEY_TYPES, Namespace, ServiceBusBackend
from localazure.services.servicebus.urls import sas_urls


@dataclass
class NotificationHubsNamespace(Namespace):
    provider: ClassVar[str] = "Microsoft.NotificationHubs/namespaces"
    entity_path: ClassVar[bool] = False


class NotificationHubsBackend(ServiceBusBackend):
    namespace_type = NotificationHubsNamespace
    key_field = "policyKey"

    def requested_key(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """``PolicyKeyType`` is ``modelAsString`` (an open string) and Azure/aaz's 2017-04-01 examples send
        ``"Secondary Key"``: the key is read whatever its case and spaces. What Azure answers to a value
        naming neither key is unverified (README): refused here. ``PolicyKeyResource`` has no ``key``."""
        named = str(body.get(self.key_field, "")).replace(" ", "").lower()
        return next((key_type for key_type in KEY_TYPES if key_type.lower() == named), None), None


URLS = sas_urls("notificationhubs", r"Microsoft\.NotificationHubs", "notificationHubs", namespace_get=False)
SERVICE = Service("notificationhubs", arm.FRONT, NotificationHubsBackend, URLS, frozenset({"2023-09-01"}))
