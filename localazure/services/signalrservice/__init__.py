"""Azure SignalR Service and Azure Web PubSub (Microsoft.SignalRService) behind ARM.

One provider, two resource types with the same key operations. Spec examples:
Microsoft.SignalRService stable 2023-02-01 ``SignalR_Get.json``, ``SignalR_ListKeys.json``,
``SignalR_RegenerateKey.json`` (202 with a ``Location``, ``final-state-via: location``; the
SDK accepts only 202) and stable 2024-03-01 ``WebPubSub_Get.json``, ``WebPubSub_ListKeys.json``,
``WebPubSub_RegenerateKey.json`` (200 or 202): ``hostName``, ``disableLocalAuth``; both keys
and their ``Endpoint=…;AccessKey=…;Version=1.0;`` connection strings; body ``{"keyType"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service, rest_keys


@dataclass
class SignalR(KeyedResource):
    provider: ClassVar[str] = "Microsoft.SignalRService/signalR"


@dataclass
class WebPubSub(KeyedResource):
    provider: ClassVar[str] = "Microsoft.SignalRService/webPubSub"


def _api(resource: type[KeyedResource], type_name: str, host: str, *, may_answer_200: bool) -> KeyedApi:
    return KeyedApi(
        resource,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda service: arm_body(
            service,
            type_name,
            {"hostName": f"{service.name}.{host}", "disableLocalAuth": service.keys_off},
            sku={"name": "Standard_S1", "tier": "Standard", "capacity": 1},
        ),
        keys_body=lambda service: rest_keys(service, f"{service.name}.{host}"),
        long_running=True,
        may_answer_200=may_answer_200,
    )


class SignalRBackend(KeyedBackend):
    api = _api(SignalR, "Microsoft.SignalRService/SignalR", "service.signalr.net", may_answer_200=False)


class WebPubSubBackend(KeyedBackend):
    api = _api(WebPubSub, "Microsoft.SignalRService/WebPubSub", "webpubsub.azure.com", may_answer_200=True)


SIGNALR = keyed_service("signalr", SignalRBackend, frozenset({"2023-02-01"}))
WEB_PUBSUB = keyed_service("webpubsub", WebPubSubBackend, frozenset({"2024-03-01"}))
