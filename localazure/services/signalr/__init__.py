"""Azure SignalR Service (Microsoft.SignalRService/signalR) behind ARM.

Spec examples of Microsoft.SignalRService stable 2023-02-01: ``SignalR_Get.json``
(``hostName``, ``disableLocalAuth``), ``SignalR_ListKeys.json`` (both keys and their
``Endpoint=…;AccessKey=…;Version=1.0;`` connection strings) and ``SignalR_RegenerateKey.json``
(body ``{"keyType": "Primary"}``; 202 with a ``Location``, ``final-state-via: location``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service, rest_keys


@dataclass
class SignalR(KeyedResource):
    provider: ClassVar[str] = "Microsoft.SignalRService/signalR"


class SignalRBackend(KeyedBackend):
    api = KeyedApi(
        SignalR,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda service: arm_body(
            service,
            "Microsoft.SignalRService/SignalR",
            {"hostName": f"{service.name}.service.signalr.net", "disableLocalAuth": service.keys_off},
            sku={"name": "Standard_S1", "tier": "Standard", "capacity": 1},
            kind="SignalR",
        ),
        keys_body=lambda service: rest_keys(service, f"{service.name}.service.signalr.net"),
        long_running=True,
        may_answer_200=False,  # the 2023-02-01 spec lists only 202, and the SDK accepts only 202
    )


SERVICE = keyed_service("signalr", SignalRBackend, frozenset({"2023-02-01"}))
