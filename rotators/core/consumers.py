"""The apps that read a secret, and what their Key Vault references say. Pure.

A secret's consumers are declared by its optional ``Consumers`` tag: comma-separated
``<resource group>/<app>`` or ``<resource group>/<app>/<slot>`` entries, App Service and
Function apps in the subscription of the secret's ``ProviderAddress``. Key Vault caps a tag
value at 256 characters, which holds about ten short entries.

After a rotation writes a new version, each consumer is asked to refresh its references and
then read: it *moved* when a reference to this secret is ``Resolved`` with the new version
active; it is *behind* while the old version is still active; it is *failing* when App
Service reports the reference broken (it names why: the app's identity lacking Key Vault
Secrets User, a vault it cannot reach, ...).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rotators.core.errors import NotRotatable
from rotators.core.parsing import shown

CONSUMERS = "Consumers"
MAX_CONSUMERS = 20
# App Service names: letters, digits and hyphens (2-60); resource groups: letters, digits, - _ . ( ) (1-90).
_APP = r"[A-Za-z0-9][A-Za-z0-9-]{0,58}[A-Za-z0-9]"
_GROUP = r"[A-Za-z0-9_.()-]{1,90}"
_ENTRY = re.compile(rf"(?P<group>{_GROUP})/(?P<app>{_APP})(?:/(?P<slot>{_APP}))?")
# What App Service says of a reference it could not resolve, and what the operator does about it.
_FIXES = {
    "AccessToKeyVaultDenied": "give the app's identity the Key Vault Secrets User role on the vault",
    "MSINotEnabled": "turn on the app's managed identity",
    "VaultNotFound": "check the vault name, and that the app can reach the vault",
    "SecretNotFound": "check the secret name in the reference",
    "SecretVersionNotFound": "use a versionless reference so the app follows rotations",
    "UnauthorizedClient": "give the app's identity the Key Vault Secrets User role on the vault",
    "InvalidSyntax": "fix the @Microsoft.KeyVault(...) reference",
}


@dataclass(frozen=True)
class Consumer:
    resource_group: str
    app: str
    slot: str | None = None

    def __str__(self) -> str:
        return f"{self.resource_group}/{self.app}" + (f"/{self.slot}" if self.slot else "")


class Moved(enum.StrEnum):
    MOVED = "moved"
    BEHIND = "behind"
    FAILING = "failing"
    UNREFERENCED = "unreferenced"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Reference:
    """One Key Vault reference as App Service reports it (config/configreferences/appsettings)."""

    setting: str
    status: str
    vault_name: str
    secret_name: str
    secret_version: str | None
    active_version: str | None


@dataclass(frozen=True)
class ConsumerReport:
    consumer: Consumer
    state: Moved
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"consumer": str(self.consumer), "state": self.state.value, "detail": self.detail}


def parse_consumers(raw: str | None) -> tuple[Consumer, ...]:
    """The ``Consumers`` tag's entries; a bad entry is refused, naming it."""
    if raw is None or not raw.strip():
        return ()
    entries = [entry.strip() for entry in raw.split(",")]
    consumers = []
    for position, entry in enumerate(entries, start=1):
        match = _ENTRY.fullmatch(entry)
        if match is None:
            raise NotRotatable(
                f"Tag '{CONSUMERS}' entry {position} is {shown(entry)}; expected <resource group>/<app> or "
                "<resource group>/<app>/<slot> (App Service and Function apps in the subscription of ProviderAddress)."
            )
        consumers.append(Consumer(match["group"], match["app"], match["slot"]))
    if len(set(consumers)) != len(consumers):
        raise NotRotatable(f"Tag '{CONSUMERS}' names an app twice.")
    if len(consumers) > MAX_CONSUMERS:
        raise NotRotatable(f"Tag '{CONSUMERS}' names {len(consumers)} apps; at most {MAX_CONSUMERS}.")
    return tuple(consumers)


def judge(consumer: Consumer, references: Iterable[Reference], vault: str, secret: str, version: str) -> ConsumerReport:
    """What a consumer's references to ``vault``/``secret`` say about ``version``, the one just written."""
    mine = [r for r in references if r.vault_name.lower() == vault.lower() and r.secret_name.lower() == secret.lower()]
    if not mine:
        return ConsumerReport(consumer, Moved.UNREFERENCED, f"no app setting of {consumer} references secret {secret}")
    for reference in mine:
        if reference.status != "Resolved":
            fix = _FIXES.get(reference.status, "see the app's Key Vault reference status")
            detail = f"setting {reference.setting}: App Service reports {reference.status}; {fix}"
            return ConsumerReport(consumer, Moved.FAILING, detail)
    behind = [r for r in mine if (r.active_version or "").lower() != version.lower()]
    if behind:
        names = ", ".join(r.setting for r in behind)
        return ConsumerReport(consumer, Moved.BEHIND, f"setting {names} still runs version {behind[0].active_version}")
    return ConsumerReport(consumer, Moved.MOVED, f"runs version {version}")
