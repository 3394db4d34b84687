"""Vaults and their secret versions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localazure.server import LocalAzure

VAULT_SUFFIX = ".vault.azure.net"


def new_version() -> str:
    return secrets.token_hex(16)


@dataclass
class SecretVersion:
    version: str
    value: str = field(repr=False)  # secret text: never in a test failure message
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


class KeyVaultBackend:
    """Every vault of the stand-in; ``page_size`` is how many items a listing page holds
    (25, as the real service pages: a team measurement recorded in shared/README.md)."""

    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self._lock = cloud.lock
        self.vaults: dict[str, Vault] = {}
        self.page_size = 25

    def vault_of(self, host: str) -> Vault | None:
        return self.vaults.get(host[: -len(VAULT_SUFFIX)]) if host.endswith(VAULT_SUFFIX) else None

    def create_vault(self, name: str) -> str:
        with self._lock:
            self.vaults.setdefault(name.lower(), Vault(name.lower()))
        return f"https://{name.lower()}{VAULT_SUFFIX}"

    def seed_secret(
        self,
        vault: str,
        name: str,
        value: str,
        *,
        tags: dict[str, str] | None = None,
        content_type: str | None = None,
        created: datetime | None = None,
        expires: datetime | None = None,
        enabled: bool = True,
    ) -> str:
        """Add a secret version as if written at ``created``; returns its version id."""
        stamp = int((created or datetime.now(timezone.utc)).timestamp())
        item = SecretVersion(
            version=new_version(),
            value=value,
            created=stamp,
            updated=stamp,
            tags=dict(tags or {}),
            content_type=content_type,
            enabled=enabled,
            expires=int(expires.timestamp()) if expires else None,
        )
        with self._lock:
            self.vaults[vault.lower()].secrets.setdefault(name.lower(), []).append(item)
        return item.version

    def secret_versions(self, vault: str, name: str) -> list[SecretVersion]:
        with self._lock:
            return list(self.vaults[vault.lower()].secrets.get(name.lower(), []))

    def current_secret(self, vault: str, name: str) -> SecretVersion:
        return self.secret_versions(vault, name)[-1]
