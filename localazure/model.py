"""The stand-in's in-memory state: vaults, accounts, operations, faults and the request log."""

from __future__ import annotations

import base64
import fnmatch
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

# Every key value the stand-in ever handed out, so tests can prove none leaked.
ISSUED_KEYS: set[str] = set()


def new_key() -> str:
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    ISSUED_KEYS.add(key)
    return key


def new_version() -> str:
    return secrets.token_hex(16)


@dataclass
class SecretVersion:
    version: str
    value: str
    created: int
    updated: int
    tags: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    enabled: bool = True
    expires: int | None = None
    not_before: int | None = None

    def attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "enabled": self.enabled,
            "created": self.created,
            "updated": self.updated,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        }
        if self.expires is not None:
            attributes["exp"] = self.expires
        if self.not_before is not None:
            attributes["nbf"] = self.not_before
        return attributes


@dataclass
class Vault:
    name: str
    secrets: dict[str, list[SecretVersion]] = field(default_factory=dict)

    def latest(self, name: str) -> SecretVersion | None:
        versions = self.secrets.get(name.lower())
        return versions[-1] if versions else None

    def find(self, name: str, version: str) -> SecretVersion | None:
        for item in self.secrets.get(name.lower(), []):
            if item.version == version:
                return item
        return None


@dataclass
class Account:
    subscription: str
    resource_group: str
    name: str
    location: str = "eastus"
    keys: dict[str, str] = field(default_factory=dict)

    provider = ""
    aliases: ClassVar[dict[str, str]] = {}

    def key(self, credential_id: str) -> str:
        """The live value of the key a ``CredentialId`` tag names."""
        return self.keys[self.aliases.get(credential_id, credential_id)]

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/{self.provider}/{self.name}"
        )


@dataclass
class StorageAccount(Account):
    created: dict[str, str] = field(default_factory=dict)
    allow_shared_key_access: bool | None = None

    provider = "Microsoft.Storage/storageAccounts"


COSMOS_KEY_FIELDS = {
    "primary": "primaryMasterKey",
    "secondary": "secondaryMasterKey",
    "primaryReadonly": "primaryReadonlyMasterKey",
    "secondaryReadonly": "secondaryReadonlyMasterKey",
}


@dataclass
class CosmosAccount(Account):
    generated: dict[str, str] = field(default_factory=dict)
    disable_local_auth: bool = False

    provider = "Microsoft.DocumentDB/databaseAccounts"
    # Azure's Cosmos DB rotation sample tags the read-write pair key1/key2.
    aliases: ClassVar[dict[str, str]] = {"key1": "primary", "key2": "secondary"}

    @property
    def endpoint(self) -> str:
        return f"https://{self.name}.documents.azure.com:443/"


@dataclass
class Operation:
    """A Cosmos DB regenerateKey long-running operation; the key changes only when it completes."""

    id: str
    account: CosmosAccount
    key_kind: str
    completes_at: float
    fails: bool
    status: str = "InProgress"

    def settle(self, now: float) -> None:
        if self.status == "InProgress" and now >= self.completes_at:
            if self.fails:
                self.status = "Failed"
            else:
                self.account.keys[self.key_kind] = new_key()
                self.account.generated[self.key_kind] = _iso_now()
                self.status = "Succeeded"


@dataclass(frozen=True)
class RequestRecord:
    method: str
    host: str
    path: str
    route: str
    audience: str | None
    status: int


@dataclass
class Fault:
    """What the next ``count`` calls to a route get instead of (or before) the real answer.

    ``after`` lets the call take effect and then stalls or drops the answer: a client that
    dies or times out then has changed the world without knowing it. ``taken`` is set when
    a call meets the fault, so a test can kill the caller at that moment.
    """

    route: str
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    after: bool = False
    skip: int = 0
    code: str | None = None
    inner: str | None = None
    message: str = "Injected fault."
    taken: threading.Event = field(default_factory=threading.Event)

    def matches(self, route: str) -> bool:
        """Whether this call meets the fault; the first ``skip`` matching calls pass untouched."""
        if self.count <= 0 or not fnmatch.fnmatchcase(route, self.route):
            return False
        if self.skip:
            self.skip -= 1
            return False
        return True


@dataclass
class Tokens:
    issued: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, audience: str) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.issued[token] = audience.rstrip("/")
        return token, int(time.time()) + 3600

    def audience(self, token: str) -> str | None:
        return self.issued.get(token)


def _iso_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
