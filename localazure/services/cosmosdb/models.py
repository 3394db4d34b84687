"""Cosmos DB accounts and their key regenerations, which run on the server's clock.

Where Microsoft's sources do not say what Azure does, the backend offers each plausible
behaviour as an option, and tests run the product under each:

- ``provisioning_state_while_regenerating``: ``"Succeeded"`` (default: every account GET in
  the recorded traffic shows it, azure-cli ``cosmosdb/tests/latest/recordings/
  test_keys_database_account.yaml``, 2020 and 2023) or ``"Updating"`` (what a PATCH shows,
  ``test_update_database_account.yaml``; never recorded for regenerateKey).
- ``list_keys_lag``: seconds after an operation succeeded during which ``listKeys`` still
  answers the old key (new keys take "several minutes" to propagate, a Cosmos maintainer in
  Azure/azure-cosmos-dotnet-v3#2830; whether listKeys lags is unknown).
- ``status_readable``: whether the caller's role can read the operation-status URLs, which
  live under ``/subscriptions/{sub}/providers/Microsoft.DocumentDB/locations/…``, outside the
  account: an account-scoped role (what infra/ grants) gets 403 there, so it is ``False``
  by default and the SDK's own poller tests turn it on.

Speed knobs: ``operation_delay`` (real operations take 30 s to hours) and ``retry_after``
(real answers carry no Retry-After, so azure-core polls every 30 s; ``None`` sends none).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, ArmResource
from localazure.services.base import new_key, now_iso

if TYPE_CHECKING:
    from localazure.server import LocalAzure

# keyKind on the wire, and the field of listKeys and of keysMetadata (CosmosDBDatabaseAccountListKeys.json,
# CosmosDBDatabaseAccountGet.json).
KEY_FIELDS = {
    "primary": "primaryMasterKey",
    "secondary": "secondaryMasterKey",
    "primaryReadonly": "primaryReadonlyMasterKey",
    "secondaryReadonly": "secondaryReadonlyMasterKey",
}


@dataclass
class CosmosAccount(ArmResource):
    generated: dict[str, str] = field(default_factory=dict)
    disable_local_auth: bool = False
    # The account's API: kind GlobalDocumentDB (NoSQL) or MongoDB, and capabilities such as EnableCassandra,
    # EnableTable, EnableGremlin (the spec's Capability.name).
    kind: str = "GlobalDocumentDB"
    capabilities: list[str] = field(default_factory=list)
    # key kind -> (the previous value, until when listKeys still answers it)
    lagging: dict[str, tuple[str, float]] = field(default_factory=dict)

    provider: ClassVar[str] = "Microsoft.DocumentDB/databaseAccounts"

    @property
    def endpoint(self) -> str:
        return f"https://{self.name}.documents.azure.com:443/"

    def listed(self, kind: str, now: float) -> str:
        previous = self.lagging.get(kind)
        return previous[0] if previous and now < previous[1] else self.keys[kind]


@dataclass
class Operation:
    """A regenerateKey operation; the key changes only when it completes, polled or not."""

    id: str
    account: CosmosAccount
    key_kind: str
    started_at: float
    completes_at: float
    fails: bool
    status: str = "InProgress"

    def settle(self, now: float, list_keys_lag: float) -> None:
        if self.status == "InProgress" and now >= self.completes_at:
            if self.fails:
                self.status = "Failed"
                return
            if list_keys_lag:
                self.account.lagging[self.key_kind] = (
                    self.account.keys[self.key_kind],
                    self.completes_at + list_keys_lag,
                )
            self.account.keys[self.key_kind] = new_key()
            self.account.generated[self.key_kind] = now_iso()
            self.status = "Succeeded"

    def poll_status(self, now: float) -> str:
        """The body's status as recorded: ``Enqueued``, then ``Dequeued``, then the outcome."""
        if self.status != "InProgress":
            return self.status
        return "Enqueued" if now < (self.started_at + self.completes_at) / 2 else "Dequeued"


class CosmosBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.accounts: dict[str, CosmosAccount] = {}
        self.operations: dict[str, Operation] = {}
        self.operation_delay = 0.2
        self.retry_after: float | None = 0.05
        self.provisioning_state_while_regenerating = "Succeeded"
        self.list_keys_lag = 0.0
        self.status_readable = False
        self.failures = 0

    def create_account(
        self, name: str, *, subscription: str = DEFAULT_SUBSCRIPTION, resource_group: str = "rg-demo"
    ) -> CosmosAccount:
        created = now_iso()
        account = CosmosAccount(
            subscription,
            resource_group,
            name,
            keys={kind: new_key() for kind in KEY_FIELDS},
            generated=dict.fromkeys(KEY_FIELDS, created),
        )
        with self.cloud.lock:
            return self.cloud.arm.add(self.accounts, account)

    def fail_operations(self, count: int = 1) -> None:
        """The next ``count`` regenerations are accepted and then fail."""
        with self.cloud.lock:
            self.failures += count

    def advance(self, seconds: float) -> None:
        """Azure's clock runs ``seconds`` ahead: operations and key-list lags end that much sooner.

        Tests move time this way instead of sleeping; the product sees only what it would see
        that much later.
        """
        with self.cloud.lock:
            for operation in self.operations.values():
                operation.started_at -= seconds
                operation.completes_at -= seconds
            for account in self.accounts.values():
                account.lagging = {kind: (old, until - seconds) for kind, (old, until) in account.lagging.items()}

    def settle(self) -> float:
        """Finish every operation whose time has come (Azure's clock runs whether or not anyone polls)."""
        now = time.monotonic()
        for operation in self.operations.values():
            operation.settle(now, self.list_keys_lag)
        return now

    def running(self, account: CosmosAccount) -> bool:
        return any(op.account is account and op.status == "InProgress" for op in self.operations.values())

    def resources(self) -> list:
        return list(self.accounts.values())
