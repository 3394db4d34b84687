"""Microsoft.Relay behind ARM: namespace, hybrid connection and WCF relay rules' listKeys and regenerateKeys.

Spec ``Microsoft.Relay/stable/2021-11-01/authorizationRules.json`` (the version the product pins): the
Service Bus shapes (:mod:`localazure.services.servicebus`), ``RegenerateAccessKeyParameters``
``{"keyType"}``, 200 with ``AccessKeys``. The examples' connection strings name no entity, a hybrid
connection's rule's neither (``RelayHybridConnectionAuthorizationRuleListKey.json``,
``RelayHybridConnectionAuthorizationRuleRegenerateKey.json`` of 2017-04-01 and 2024-01-01). The
namespace has no ``disableLocalAuth`` (``RelayNamespaceProperties``), and the product reads no namespace:
no GET here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.servicebus.models import Namespace, ServiceBusBackend
from localazure.services.servicebus.urls import sas_urls


@dataclass
class RelayNamespace(Namespace):
    provider: ClassVar[str] = "Microsoft.Relay/namespaces"


class RelayBackend(ServiceBusBackend):
    namespace_type = RelayNamespace
    type_name = "Microsoft.Relay/Namespaces"  # as RelayNameSpaceGet.json spells it
    entity_path = False


URLS = sas_urls("relay", r"Microsoft\.Relay", "hybridConnections|wcfRelays", namespace_get=False)
SERVICE = Service("relay", arm.FRONT, RelayBackend, URLS, frozenset({"2021-11-01"}))
