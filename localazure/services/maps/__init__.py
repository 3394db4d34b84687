"""Azure Maps accounts (Microsoft.Maps/accounts) behind ARM.

Spec examples of Microsoft.Maps stable 2023-06-01: ``GetAccount.json`` (``disableLocalAuth``),
``ListKeys.json`` and ``RegenerateKey.json`` (body ``{"keyType": "primary"}``, 200 with the
account ``id`` and both keys; ``primaryKeyLastUpdated``/``secondaryKeyLastUpdated`` are in the
``MapsAccountKeys`` schema though not in the examples).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.base import now_iso
from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class MapsAccount(KeyedResource):
    provider: ClassVar[str] = "Microsoft.Maps/accounts"


class MapsBackend(KeyedBackend):
    api = KeyedApi(
        MapsAccount,
        ("primary", "secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda account: arm_body(
            account,
            "Microsoft.Maps/accounts",
            {"uniqueId": "b2e763e6-d6f3-4858-9e2b-7cf8df85c593", "disableLocalAuth": account.keys_off},
            kind="Gen2",
            sku={"name": "G2"},
        ),
        keys_body=lambda account: {
            "id": account.id,
            "primaryKey": account.keys["primary"],
            "secondaryKey": account.keys["secondary"],
            "primaryKeyLastUpdated": now_iso(),
            "secondaryKeyLastUpdated": now_iso(),
        },
    )


SERVICE = keyed_service("maps", MapsBackend, frozenset({"2023-06-01"}))
