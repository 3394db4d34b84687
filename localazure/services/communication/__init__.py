"""Azure Communication Services (Microsoft.Communication/communicationServices) behind ARM.

Spec examples of Microsoft.Communication stable 2025-09-01 (``examples/communicationServices/``):
``get.json`` (``hostName``, ``disableLocalAuth``), ``listKeys.json`` (both keys and their
``endpoint=…;accesskey=…`` connection strings) and ``regenerateKey.json`` (body
``{"keyType": "Primary"}``; 200 with the regenerated half only: ``primaryKey`` and
``primaryConnectionString``).

The host: the spec example's ``hostName`` is ``<name>.communication.azure.com``, while the connection
strings ``listKeys`` returns for real resources (shared in public code and samples) read
``endpoint=https://<name>.<data location>.communication.azure.com/``. Both are offered: a
resource's ``data_location`` (default ``unitedstates``) or ``None`` for the spec example's form;
the product reads ``hostName`` and is right under both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class CommunicationService(KeyedResource):
    data_location: str | None = "unitedstates"

    provider: ClassVar[str] = "Microsoft.Communication/communicationServices"

    @property
    def host_name(self) -> str:
        location = f".{self.data_location}" if self.data_location else ""
        return f"{self.name}{location}.communication.azure.com"


def _half(service: CommunicationService, key: str) -> dict[str, str]:
    prefix = key.lower()
    endpoint = f"endpoint=https://{service.host_name}/;accesskey="
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
                "hostName": service.host_name,
                "dataLocation": "United States",
                "disableLocalAuth": service.keys_off,
            },
        ),
        keys_body=lambda service: {**_half(service, "Primary"), **_half(service, "Secondary")},
        regenerated_body=_half,
    )


SERVICE = keyed_service("communication", CommunicationBackend, frozenset({"2025-09-01"}))
