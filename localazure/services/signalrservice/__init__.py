"""Azure SignalR Service and Azure Web PubSub (Microsoft.SignalRService) behind ARM.

One provider, two resource types with the same key operations. Spec examples:
Microsoft.SignalRService stable 2023-02-01 ``SignalR_Get.json``, ``SignalR_ListKeys.json``,
``SignalR_RegenerateKey.json`` (202 with a ``Location``, ``final-state-via: location``; the
SDK accepts only 202) and stable 2024-03-01 ``WebPubSub_Get.json``, ``WebPubSub_ListKeys.json``,
``WebPubSub_RegenerateKey.json`` (200 or 202): ``hostName``, ``disableLocalAuth``; both keys
and their ``Endpoint=…;AccessKey=…;Version=1.0;`` connection strings; body ``{"keyType"}``.

The host each resource reports (``hostName``, which its connection strings name) is
``<name>.<host_suffix>``: ``service.signalr.net`` and ``webpubsub.azure.com`` as in the spec
examples, or another a test sets, such as Azure China's ``signalr.azure.cn`` ("Connection strings
in Azure SignalR Service" on docs.azure.cn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, cast

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service, rest_keys


@dataclass
class SignalR(KeyedResource):
    host_suffix: str = "service.signalr.net"

    provider: ClassVar[str] = "Microsoft.SignalRService/signalR"

    @property
    def host_name(self) -> str:
        return f"{self.name}.{self.host_suffix}"


@dataclass
class WebPubSub(SignalR):
    host_suffix: str = "webpubsub.azure.com"

    provider: ClassVar[str] = "Microsoft.SignalRService/webPubSub"


def _host(service: KeyedResource) -> str:
    return cast(SignalR, service).host_name


def _api(resource: type[KeyedResource], type_name: str, *, may_answer_200: bool) -> KeyedApi:
    return KeyedApi(
        resource,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda service: arm_body(
            service,
            type_name,
            {"hostName": _host(service), "disableLocalAuth": service.keys_off},
            sku={"name": "Standard_S1", "tier": "Standard", "capacity": 1},
        ),
        keys_body=lambda service: rest_keys(service, _host(service)),
        long_running=True,
        may_answer_200=may_answer_200,
    )


class SignalRBackend(KeyedBackend):
    api = _api(SignalR, "Microsoft.SignalRService/SignalR", may_answer_200=False)


class WebPubSubBackend(KeyedBackend):
    api = _api(WebPubSub, "Microsoft.SignalRService/WebPubSub", may_answer_200=True)


SIGNALR = keyed_service("signalr", SignalRBackend, frozenset({"2023-02-01"}))
WEB_PUBSUB = keyed_service("webpubsub", WebPubSubBackend, frozenset({"2024-03-01"}))
