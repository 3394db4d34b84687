"""Azure AI services and Azure OpenAI accounts (Microsoft.CognitiveServices/accounts) behind ARM.

Spec examples of Microsoft.CognitiveServices stable 2025-09-01: ``GetAccount.json``
(``properties.endpoint``; ``disableLocalAuth`` in ``AccountProperties``), ``ListKeys.json``
(200 ``{"key1", "key2"}``) and ``RegenerateKey.json`` (body ``{"keyName": "Key2"}``, 200 with both keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class Account(KeyedResource):
    provider: ClassVar[str] = "Microsoft.CognitiveServices/accounts"


class CognitiveServicesBackend(KeyedBackend):
    api = KeyedApi(
        Account,
        ("Key1", "Key2"),
        "listKeys",
        "regenerateKey",
        "keyName",
        get_body=lambda account: arm_body(
            account,
            "Microsoft.CognitiveServices/accounts",
            {
                "endpoint": f"https://{account.name}.cognitiveservices.azure.com/",
                "disableLocalAuth": account.keys_off,
            },
            kind="AIServices",
            sku={"name": "S0"},
        ),
        keys_body=lambda account: {"key1": account.keys["Key1"], "key2": account.keys["Key2"]},
    )


SERVICE = keyed_service("cognitiveservices", CognitiveServicesBackend, frozenset({"2025-09-01"}))
