"""Microsoft.Relay behind ARM: namespace, hybrid connection and WCF relay rules' listKeys and regenerateKeys.

Spec ``Microsoft.Relay/stable/2021-11-01/authorizationRules.json`` (the version the product pins): the
Service Bus shapes (:mod:`localazure.services.servicebus`), ``RegenerateAccessKeyParameters``
``{"keyType"}``, 200 with ``AccessKeys``. A hybrid connection's or WCF relay's rule's connection strings
end in ``;EntityPath=<entity>``, as live Azure answers listKeys and regenerateKeys (Azure/azure-cli
recordings ``relay/tests/latest/recordings/test_relay_hyco.yaml`` and ``test_relay_wcfrelay.yaml``,
2023-08-22), not as the spec examples, which name no entity. The namespace has no ``disableLocalAuth``
(``RelayNamespaceProperties``), and the product reads no namespace: no GET here.
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


URLS = sas_urls("relay", r"Microsoft\.Relay", "hybridConnections|wcfRelays", namespace_get=False)
SERVICE = Service("relay", arm.FRONT, RelayBackend, URLS, frozenset({"2021-11-01"}))
