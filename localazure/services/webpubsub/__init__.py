"""Azure Web PubSub (Microsoft.SignalRService/webPubSub) behind ARM.

Spec examples of Microsoft.SignalRService stable 2024-03-01: ``WebPubSub_Get.json``
(``hostName``, ``disableLocalAuth``), ``WebPubSub_ListKeys.json`` (both keys and their
connection strings) and ``WebPubSub_RegenerateKey.json`` (body ``{"keyType": "Primary"}``; 202
with a ``Location``, ``final-state-via: location``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service, rest_keys


@dataclass
class WebPubSub(KeyedResource):
    provider: ClassVar[str] = "Microsoft.SignalRService/webPubSub"


class WebPubSubBackend(KeyedBackend):
    api = KeyedApi(
        WebPubSub,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda service: arm_body(
            service,
            "Microsoft.SignalRService/WebPubSub",
            {"hostName": f"{service.name}.webpubsub.azure.com", "disableLocalAuth": service.keys_off},
            sku={"name": "Standard_S1", "tier": "Standard", "capacity": 1},
        ),
        keys_body=lambda service: rest_keys(service, f"{service.name}.webpubsub.azure.com"),
        long_running=True,
    )


SERVICE = keyed_service("webpubsub", WebPubSubBackend, frozenset({"2024-03-01"}))
