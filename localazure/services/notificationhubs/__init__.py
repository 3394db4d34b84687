"""Microsoft.NotificationHubs behind ARM: namespace and notification hub rules' listKeys and regenerateKeys.

Spec ``Microsoft.NotificationHubs/NotificationHubs/stable/2023-09-01/notificationhubs.json`` (the version
the product pins): the Service Bus shapes (:mod:`localazure.services.servicebus`) but for the body of
``regenerateKeys``, ``PolicyKeyResource`` ``{"policyKey": "PrimaryKey"|"SecondaryKey"}``, answered 200 with
``ResourceListKeys`` (``Namespaces/AuthorizationRuleListKeys.json``; a hub rule's connection strings end
in ``EntityPath=<hub>``: ``NotificationHubs/AuthorizationRuleRegenerateKey.json``). The namespace has no
``disableLocalAuth`` (``NamespaceProperties``), and the product reads no namespace: no GET here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.servicebus.models import Namespace, ServiceBusBackend
from localazure.services.servicebus.urls import sas_urls


@dataclass
class NotificationHubsNamespace(Namespace):
    provider: ClassVar[str] = "Microsoft.NotificationHubs/namespaces"


class NotificationHubsBackend(ServiceBusBackend):
    namespace_type = NotificationHubsNamespace
    type_name = "Microsoft.NotificationHubs/namespaces"
    key_field = "policyKey"


URLS = sas_urls("notificationhubs", r"Microsoft\.NotificationHubs", "notificationHubs", namespace_get=False)
SERVICE = Service("notificationhubs", arm.FRONT, NotificationHubsBackend, URLS, frozenset({"2023-09-01"}))
