"""The apps that read a secret, and what their Key Vault references say. Pure.

A secret's consumers are declared by its optional ``Consumers`` tag: comma-separated entries
in the subscription of the secret's ``ProviderAddress``:

- ``<resource group>/<app>`` or ``<resource group>/<app>/<slot>``: an App Service or Function
  app (or one of its slots) that reads the secret through a Key Vault reference;
- ``appconfig:<resource group>/<store>``: an App Configuration store holding a Key Vault
  reference to the secret, whose apps reload on a sentinel key.

Key Vault caps a tag value at 256 characters, about ten short entries. More (up to
:data:`MAX_REGISTERED`) go to the registry: the tag says ``@registry`` and the list is kept
beside the rotation records in the function's own storage (``python -m rotators consumers
--apply`` writes it).

After a rotation writes a new version, each app is asked to refresh its references and then
read: it *moved* when every reference to this secret is ``Resolved`` with the new version
active; it is *behind* while an older version is still active; it is *failing* when App
Service reports the reference broken (it names why: the app's identity lacking Key Vault
Secrets User, a vault it cannot reach, ...). A store is *signalled* once its sentinel is set
after the version was written: its apps reload on their own schedule, so a store never
confirms anything.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rotators.core.errors import NotRotatable
from rotators.core.parsing import shown

CONSUMERS = "Consumers"
REGISTRY = "@registry"  # the tag's value when the list lives in the function's storage
MAX_CONSUMERS = 20  # in the tag (256 characters hold about ten anyway)
MAX_REGISTERED = 100
APP_CONFIGURATION_PREFIX = "appconfig:"
# App Service names: letters, digits and hyphens (2-60); resource groups: letters, digits, - _ . ( ) (1-90).
_APP = r"[A-Za-z0-9][A-Za-z0-9-]{0,58}[A-Za-z0-9]"
_GROUP = r"[A-Za-z0-9_.()-]{1,90}"
_ENTRY = re.compile(rf"(?P<group>{_GROUP})/(?P<app>{_APP})(?:/(?P<slot>{_APP}))?")
# App Configuration store names: letters, digits and hyphens (5-50).
_STORE = re.compile(
    rf"{APP_CONFIGURATION_PREFIX}(?P<group>{_GROUP})/(?P<store>[A-Za-z0-9][A-Za-z0-9-]{{3,48}}[A-Za-z0-9])"
)
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


class ConsumerKind(enum.StrEnum):
    APP_SERVICE = "app"
    APP_CONFIGURATION = "appconfig"


@dataclass(frozen=True)
class Consumer:
    resource_group: str
    app: str  # the site, or the App Configuration store
    slot: str | None = None
    kind: ConsumerKind = ConsumerKind.APP_SERVICE

    def __str__(self) -> str:
        if self.kind is ConsumerKind.APP_CONFIGURATION:
            return f"{APP_CONFIGURATION_PREFIX}{self.resource_group}/{self.app}"
        return f"{self.resource_group}/{self.app}" + (f"/{self.slot}" if self.slot else "")

    @property
    def can_confirm(self) -> bool:
        """Only App Service reports the version an app runs; a store's apps reload unseen."""
        return self.kind is ConsumerKind.APP_SERVICE


@dataclass(frozen=True)
class Declared:
    """What the ``Consumers`` tag says: the consumers themselves, or that the registry holds them."""

    consumers: tuple[Consumer, ...] = ()
    in_registry: bool = False

    def __bool__(self) -> bool:
        return self.in_registry or bool(self.consumers)


class Standing(enum.StrEnum):
    """Where a consumer stands on a secret's version (only ``moved`` confirms anything)."""

    MOVED = "moved"
    BEHIND = "behind"
    FAILING = "failing"
    UNREFERENCED = "unreferenced"
    UNREACHABLE = "unreachable"
    SIGNALLED = "signalled"  # an App Configuration store's sentinel is set


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
    state: Standing
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"consumer": str(self.consumer), "state": self.state.value, "detail": self.detail}


def parse_consumers(raw: str | None) -> Declared:
    """The ``Consumers`` tag: ``@registry``, or its entries; a bad entry is refused, naming it."""
    if raw is None or not raw.strip():
        return Declared()
    if raw.strip().lower() == REGISTRY:
        return Declared(in_registry=True)
    return Declared(parse_entries(raw.split(","), f"Tag '{CONSUMERS}'", MAX_CONSUMERS))


def parse_entries(entries: Iterable[str], where: str, most: int = MAX_REGISTERED) -> tuple[Consumer, ...]:
    """Consumer entries (from the tag or the registry), validated alike."""
    consumers = []
    for position, raw in enumerate(entries, start=1):
        entry = raw.strip()
        app, store = _ENTRY.fullmatch(entry), _STORE.fullmatch(entry)
        if app is not None:
            consumers.append(Consumer(app["group"], app["app"], app["slot"]))
        elif store is not None:
            consumers.append(Consumer(store["group"], store["store"], kind=ConsumerKind.APP_CONFIGURATION))
        else:
            raise NotRotatable(
                f"{where} entry {position} is {shown(entry)}; expected <resource group>/<app>, "
                "<resource group>/<app>/<slot> (App Service and Function apps) or "
                f"{APP_CONFIGURATION_PREFIX}<resource group>/<store> (App Configuration), in the subscription of "
                f"ProviderAddress; or the whole tag '{REGISTRY}'."
            )
    if len({str(c).lower() for c in consumers}) != len(consumers):
        raise NotRotatable(f"{where} names a consumer twice.")
    if len(consumers) > most:
        more = f"; list more in the registry ('{REGISTRY}')" if most < MAX_REGISTERED else ""
        raise NotRotatable(f"{where} names {len(consumers)} consumers; at most {most}{more}.")
    return tuple(consumers)


def tag_value(consumers: Iterable[Consumer]) -> str:
    return ",".join(str(consumer) for consumer in consumers)


def judge(consumer: Consumer, references: Iterable[Reference], vault: str, secret: str, version: str) -> ConsumerReport:
    """What a consumer's references to ``vault``/``secret`` say about ``version``, the one just written."""
    mine = [r for r in references if r.vault_name.lower() == vault.lower() and r.secret_name.lower() == secret.lower()]
    if not mine:
        return ConsumerReport(
            consumer,
            Standing.UNREFERENCED,
            f"no app setting or connection string of {consumer} references secret {secret}",
        )
    for reference in mine:
        if reference.status != "Resolved":
            fix = _FIXES.get(reference.status, "see the app's Key Vault reference status")
            detail = f"setting {reference.setting}: App Service reports {reference.status}; {fix}"
            return ConsumerReport(consumer, Standing.FAILING, detail)
    behind = [r for r in mine if (r.active_version or "").lower() != version.lower()]
    if behind:
        names = ", ".join(r.setting for r in behind)
        return ConsumerReport(
            consumer, Standing.BEHIND, f"setting {names} still runs version {behind[0].active_version}"
        )
    return ConsumerReport(consumer, Standing.MOVED, f"runs version {version}")


@dataclass(frozen=True)
class Confirmation:
    """Where the declared consumers stand on the secret's current version, before the next rotation.

    ``unconfirmed`` says why they could not all be asked (a store declared, an unreadable
    registry): then nothing is confirmed.
    """

    version: str
    reports: tuple[ConsumerReport, ...] = ()
    unconfirmed: str | None = None

    def holding(self) -> str | None:
        """Why the cool-down holds (``None``: every consumer runs the current version)."""
        if self.unconfirmed is not None:
            return self.unconfirmed
        if not self.reports:
            return "no consumer was asked"  # nobody confirmed anything: never a reason to start early
        holder = next((report for report in self.reports if report.state is not Standing.MOVED), None)
        if holder is None:
            return None
        return f"consumer {holder.consumer} holds it ({holder.state.value}: {holder.detail})"


def unconfirmable(consumers: Iterable[Consumer]) -> Consumer | None:
    """A consumer that can never confirm it moved (an App Configuration store), if one is declared."""
    return next((consumer for consumer in consumers if not consumer.can_confirm), None)
