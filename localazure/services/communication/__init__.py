"""Azure Communication Services (Microsoft.Communication/communicationServices) behind ARM.

Spec examples of Microsoft.Communication stable 2025-09-01 (``examples/communicationServices/``):
``get.json`` (``hostName``, ``disableLocalAuth``), ``listKeys.json`` (both keys and their
``endpoint=…;accesskey=…`` connection strings) and ``regenerateKey.json`` (body
``{"keyType": "Primary"}``; 200 with the regenerated half only: ``primaryKey`` and
``primaryConnectionString``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class CommunicationService(KeyedResource):
    provider: ClassVar[str] = "Microsoft.Communication/communicationServices"


def _half(service: KeyedResource, key: str) -> dict[str, str]:
    prefix = key.lower()
    endpoint = f"endpoint=https://{service.name}.communication.azure.com/;accesskey="
    return {f"{prefix}Key": service.keys[key], f"{prefix}ConnectionString": endpoint + service.keys[key]}


class CommunicationBackend(KeyedBackend):
    api = KeyedApi(
        CommunicationService,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda service: arm_body(
            service,
            "Microsoft.Communication/CommunicationServices",
            {
                "hostName": f"{service.name}.communication.azure.com",
                "dataLocation": "United States",
                "disableLocalAuth": service.keys_off,
            },
        ),
        keys_body=lambda service: {**_half(service, "Primary"), **_half(service, "Secondary")},
        regenerated_body=_half,
    )


SERVICE = keyed_service("communication", CommunicationBackend, frozenset({"2025-09-01"}))
