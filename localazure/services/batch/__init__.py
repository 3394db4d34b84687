"""Azure Batch accounts (Microsoft.Batch/batchAccounts) behind ARM.

Spec examples of Microsoft.Batch stable 2025-06-01: ``BatchAccountGet.json``
(``accountEndpoint``; ``allowedAuthenticationModes`` in the schema: ``SharedKey``, ``AAD``,
``TaskAuthenticationToken``), ``BatchAccountGetKeys.json`` (POST ``listKeys``, 200
``{"accountName", "primary", "secondary"}``) and ``BatchAccountRegenerateKey.json`` (POST
``regenerateKeys`` with ``{"keyName": "Primary"}``, 200 with both keys).

``poolAllocationMode`` is ``BatchService`` or ``UserSubscription``; in the latter "clients must use
Microsoft Entra ID" (``BatchAccountCreateProperties.poolAllocationMode``). What such an account lists
in ``allowedAuthenticationModes`` is not documented: ``keys_off`` chooses, so both are offered. The
spec says only that getting its keys "will fail", not how: the stand-in lists them anyway, and the
tests check that the product never asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, cast

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class BatchAccount(KeyedResource):
    pool_allocation_mode: str = "BatchService"

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
                "poolAllocationMode": cast(BatchAccount, account).pool_allocation_mode,
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
