"""App settings, read and validated once per process."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from rotators.core.clouds import VaultAddress
from rotators.core.errors import ConfigurationError, VaultNotAllowed


@dataclass(frozen=True)
class Settings:
    allowed_vaults: frozenset[str]
    min_interval: timedelta = timedelta(hours=24)
    operation_wait_seconds: float = 240.0
    http_timeout_seconds: float = 30.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        vaults = frozenset(
            v.strip().lower() for v in environ.get("ROTATION_ALLOWED_VAULTS", "").split(",") if v.strip()
        )
        return cls(
            allowed_vaults=vaults,
            min_interval=timedelta(hours=_number(environ, "ROTATION_MIN_INTERVAL_HOURS", 24, low=0, high=8760)),
            operation_wait_seconds=_number(environ, "ROTATION_OPERATION_WAIT_SECONDS", 240, low=1, high=3600),
            http_timeout_seconds=_number(environ, "ROTATION_HTTP_TIMEOUT_SECONDS", 30, low=1, high=300),
        )

    @property
    def call_budget_seconds(self) -> float:
        """The most one call to Azure may take, retries included (azure-core's ``timeout``)."""
        return 4 * self.http_timeout_seconds

    @property
    def request_settle(self) -> timedelta:
        """How long after a regeneration call began Azure may still apply one of its requests.

        The SDK may send for the whole call budget, the last request may be in flight for a
        read timeout more, and Azure may act on it a read timeout after that.
        """
        return timedelta(seconds=self.call_budget_seconds + 2 * self.http_timeout_seconds)

    def check_vault(self, vault: VaultAddress) -> None:
        """Fail closed: no allowlist means no vault is allowed."""
        if not self.allowed_vaults:
            raise ConfigurationError(
                "ROTATION_ALLOWED_VAULTS is not set: every rotation is refused until it lists the vaults to serve."
            )
        if vault.name not in self.allowed_vaults:
            raise VaultNotAllowed(f"Vault '{vault.name}' is not in ROTATION_ALLOWED_VAULTS.")


def _number(environ: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}, got {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}, got {raw!r}.")
    return value


@functools.cache
def get_settings() -> Settings:
    return Settings.from_environ()
