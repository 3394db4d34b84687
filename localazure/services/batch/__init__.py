"""Azure Batch accounts (Microsoft.Batch/batchAccounts) behind ARM.

Spec examples of Microsoft.Batch stable 2025-06-01: ``BatchAccountGet.json``
(``accountEndpoint``; ``allowedAuthenticationModes`` in the schema: ``SharedKey``, ``AAD``,
``TaskAuthenticationToken``), ``BatchAccountGetKeys.json`` (POST ``listKeys``, 200
``{"accountName", "primary", "secondary"}``) and ``BatchAccountRegenerateKey.json`` (POST
``regenerateKeys`` with ``{"keyName": "Primary"}``, 200 with both keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class BatchAccount(KeyedResource):
    provider: ClassVar[str] = "Microsoft.Batch/batchAccounts"


def _modes(account: KeyedResource) -> list[str]:
    return ["AAD", "TaskAuthenticationToken"] if account.keys_off else ["SharedKey", "AAD", "TaskAuthenticationToken"]


class BatchBackend(KeyedBackend):
    api = KeyedApi(
        BatchAccount,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKeys",
        "keyName",
        get_body=lambda account: arm_body(
            account,
            "Microsoft.Batch/batchAccounts",
            {
                "accountEndpoint": f"{account.name}.{account.location}.batch.azure.com",
                "poolAllocationMode": "BatchService",
                "allowedAuthenticationModes": _modes(account),
            },
        ),
        keys_body=lambda account: {
            "accountName": account.name,
            "primary": account.keys["Primary"],
            "secondary": account.keys["Secondary"],
        },
    )


SERVICE = keyed_service("batch", BatchBackend, frozenset({"2025-06-01"}))
