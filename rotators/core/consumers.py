"""The apps that read a secret, and what their Key Vault references say. Pure.

A secret's consumers are declared by its optional ``Consumers`` tag: comma-separated entries
in the subscription of the secret's ``ProviderAddress``:

- ``<resource group>/<app>`` or ``<resource group>/<app>/<slot>``: an App Service or Function
  app (or one of its slots) that reads the secret through a Key Vault reference;
- ``appconfig:<resource group>/<store>``: an App Configuration store holding a Key Vault
  reference to the secret, whose apps reload on a sentinel key;
- either one's full ARM resource ID (``/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Web/sites/
  <app>[/slots/<slot>]`` or ``.../Microsoft.AppConfiguration/configurationStores/<store>``), in any subscription:
  the only form an Entra ID application's secret takes, since an application is in no subscription.
- ``apim:<resource group>/<service>/<named value id>``: an API Management named value holding a Key
  Vault reference to the secret (``properties.keyVault.secretIdentifier``); after a write it is asked to
  refresh (``refreshSecret``), and it confirms a version once its ``lastStatus`` says it fetched the
  secret successfully after that version was written;
- ``containerapp:<resource group>/<app>`` (or ``.../<app>/restart``): a Container App with a secret
  whose ``keyVaultUrl`` references the secret. Container Apps fetches a new version within 30 minutes,
  and a revision restart forces it, so a restart happens only when the entry ends in ``/restart`` (a
  restart is disruptive). The app says not which version it runs: only the audit trail confirms it,
  by the reads of the identity its secret names;
- ``identity:<principal id>``: whatever runs as that managed identity or service principal (its
  object ID) and reads the secret from Key Vault itself; only Key Vault's audit trail can say
  which version it read (``rotators.core.audit``).

Key Vault caps a tag value at 256 characters ("About secrets" now says 512, its earlier text and
the keys page 256: the smaller bound holds either way), about ten short entries. More (up to
:data:`MAX_REGISTERED`) go to the registry: the tag says ``@registry`` and the list is kept
beside the rotation records in the function's own storage (``python -m rotators consumers
--apply`` writes it).

After a rotation writes a new version, each app is asked to refresh its references and then
read: it *moved* when every reference to this secret is ``Resolved`` with the new version
active; it is *behind* while an older version is still active; it is *failing* when App
Service reports the reference broken (it names why: the app's identity lacking Key Vault
Secrets User, a vault it cannot reach, ...); it is *unreported* when App Service says the
reference resolves but not which version it runs, and then only the audit trail can confirm
it, by the reads of the app's managed identity. A store
is *signalled* once its sentinel is set after the version was written: its apps reload on
their own schedule, so a store never confirms anything.

Every name in an entry is checked against Azure's naming rules before anything calls Azure.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rotators.core.errors import NotRotatable
from rotators.core.parsing import shown

CONSUMERS = "Consumers"
REGISTRY = "@registry"  # the tag's value when the list lives in the function's storage
MAX_CONSUMERS = 20  # in the tag (256 characters hold about ten anyway)
MAX_REGISTERED = 100
API_MANAGEMENT_PREFIX = "apim:"
APP_CONFIGURATION_PREFIX = "appconfig:"
CONTAINER_APP_PREFIX = "containerapp:"
RESTART = "restart"  # the last part of a Container App entry that allows a restart
IDENTITY_PREFIX = "identity:"
# How much later than the version's creation (Key Vault's clock) a named value's fetch must be stamped (API
# Management's clock) to count as after it: the two clocks are not the same, and no source bounds their skew.
CLOCK_MARGIN = timedelta(minutes=5)
# An object ID (Entra ID's GUID), as Key Vault's audit records name the caller.
PRINCIPAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)

# Names as Microsoft's "Naming rules and restrictions for Azure resources" gives them
# (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules), checked before any
# call so that the path the product calls is exactly the one the operator named: no ".", "..", "/",
# "%" or look-alike punctuation ever reaches a URL.
# - Resource groups (Microsoft.Resources/resourcegroups): 1-90 "underscores, hyphens, periods,
#   parentheses, and letters or digits as defined by the Char.IsLetterOrDigit function" (the Unicode
#   categories below); "can't end with period", so "." and ".." are refused too.
# - Sites (Microsoft.Web/sites): 2-60 alphanumerics and hyphens, not starting or ending with a hyphen.
#   The rule also allows "Unicode characters that can be mapped to Punycode"; those are refused here,
#   because that mapping folds fullwidth and other compatibility forms into ASCII, so such a name
#   could stand for another app.
# - Slots (Microsoft.Web/sites/slots): 2-59 alphanumerics and hyphens (the same Unicode caveat).
# - App Configuration stores (Microsoft.AppConfiguration/configurationStores): 5-50 alphanumerics,
#   underscores and hyphens (the REST spec's configStoreName pattern ^[a-zA-Z0-9_-]*$, 5-50, agrees).
_LETTER_OR_DIGIT = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"})
_GROUP_MARKS = frozenset("_-.()")
_SITE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])", re.ASCII)
_SLOT = re.compile(r"[A-Za-z0-9-]{2,59}", re.ASCII)
_STORE = re.compile(r"[A-Za-z0-9_-]{5,50}", re.ASCII)
# - API Management services (Microsoft.ApiManagement/service): the spec's serviceName pattern
#   ^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$, 1-50; named values: the spec's namedValueId, 1-256 characters
#   but none of *#&+:<>?, here narrowed to ASCII letters, digits, '.', '_' and '-' (never '.' or '..').
_SERVICE = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?", re.ASCII)
_NAMED_VALUE = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,256}", re.ASCII)
# - Container Apps (Microsoft.App/containerApps): 2-32 lower-case letters, digits and '-', starting with a
#   letter, ending with a letter or digit, no '--' (the REST spec's containerAppName pattern
#   ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, and "Naming rules and restrictions for Azure resources").
_CONTAINER_APP = re.compile(r"(?=.{2,32}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*", re.ASCII)
_CONTAINER_APP_RULE = "2-32 lower-case ASCII letters, digits or single '-', starting with a letter"
_SERVICE_RULE = "1-50 ASCII letters, digits or '-', starting with a letter and not ending with '-'"
_NAMED_VALUE_RULE = "1-256 ASCII letters, digits, '.', '_' or '-'"
_GROUP_RULE = "1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'"
_SITE_RULE = "2-60 ASCII letters, digits or '-', not starting or ending with '-'"
_SLOT_RULE = "2-59 ASCII letters, digits or '-'"
_STORE_RULE = "5-50 ASCII letters, digits, '_' or '-'"
_EXPECTED = (
    "expected <resource group>/<app>, <resource group>/<app>/<slot> (App Service and Function apps), "
    f"{APP_CONFIGURATION_PREFIX}<resource group>/<store> (App Configuration), "
    f"{API_MANAGEMENT_PREFIX}<resource group>/<service>/<named value id> (API Management) or "
    f"{CONTAINER_APP_PREFIX}<resource group>/<app>[/{RESTART}] (Container Apps), in the subscription of "
    "ProviderAddress, or the app's or store's ARM resource ID (/subscriptions/<id>/resourceGroups/<group>/providers/"
    f"Microsoft.Web/sites/<app>), or {IDENTITY_PREFIX}<principal id> (the object ID of a managed identity or "
    f"service principal that reads the secret); or the whole tag '{REGISTRY}'"
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The provider and type(s) of a consumer's ARM resource ID, lower-cased, and the short entry they stand for.
_ARM_TYPES = {
    ("microsoft.web", "sites"): "{group}/{name}",
    ("microsoft.web", "sites", "slots"): "{group}/{name}/{slot}",
    ("microsoft.appconfiguration", "configurationstores"): APP_CONFIGURATION_PREFIX + "{group}/{name}",
}
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
    API_MANAGEMENT = "apim"
    CONTAINER_APP = "containerapp"
    IDENTITY = "identity"


# The kinds an entry may name by ARM resource ID (``Consumer.subscription`` set).
ARM_ID_KINDS = frozenset({ConsumerKind.APP_SERVICE, ConsumerKind.APP_CONFIGURATION})


@dataclass(frozen=True)
class Consumer:
    resource_group: str
    app: str  # the site, the App Configuration store, or the principal's object ID (lower-cased)
    slot: str | None = None  # an App Service slot, an API Management named value, or a Container App's "restart"
    kind: ConsumerKind = ConsumerKind.APP_SERVICE
    subscription: str | None = None  # named by an entry's ARM ID; None: the subscription of ProviderAddress

    def __str__(self) -> str:
        if self.subscription is not None:
            return self._arm_id()
        tail = f"/{self.slot}" if self.slot else ""
        if self.kind is ConsumerKind.APP_CONFIGURATION:
            return f"{APP_CONFIGURATION_PREFIX}{self.resource_group}/{self.app}"
        if self.kind is ConsumerKind.IDENTITY:
            return f"{IDENTITY_PREFIX}{self.app}"
        if self.kind is ConsumerKind.API_MANAGEMENT:
            return f"{API_MANAGEMENT_PREFIX}{self.resource_group}/{self.app}{tail}"
        if self.kind is ConsumerKind.CONTAINER_APP:
            return f"{CONTAINER_APP_PREFIX}{self.resource_group}/{self.app}{tail}"
        return f"{self.resource_group}/{self.app}{tail}"

    def _arm_id(self) -> str:
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers"
        if self.kind is ConsumerKind.APP_CONFIGURATION:
            return f"{group}/Microsoft.AppConfiguration/configurationStores/{self.app}"
        return f"{group}/Microsoft.Web/sites/{self.app}" + (f"/slots/{self.slot}" if self.slot else "")

    @property
    def can_confirm(self) -> bool:
        """App Service reports the version an app runs, Key Vault's audit trail what an identity read; a store's
        apps reload unseen."""
        return self.kind is not ConsumerKind.APP_CONFIGURATION


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
    # Resolved, but App Service does not say which version: the one published real answer of its
    # reference APIs shows a versionless reference as "status": "Resolved", "activeVersion": null
    # (blog.remcoeissing.nl, "updating-key-vault-references-app-service"), and Microsoft documents no
    # meaning for activeVersion. Such an app can never confirm a version, so it keeps the full cool-down.
    UNREPORTED = "unreported"
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
    """Consumer entries (from the tag or the registry), validated alike; a bad or repeated one is named by position."""
    listed = list(entries)
    if len(listed) > most:
        more = f"; list more in the registry ('{REGISTRY}')" if most < MAX_REGISTERED else ""
        raise NotRotatable(f"{where} names {len(listed)} consumers; at most {most}{more}.")
    consumers: list[Consumer] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(listed, start=1):
        entry = raw.strip()
        consumer, wrong = _entry(entry)
        if consumer is None:
            raise NotRotatable(f"{where} entry {position} is {shown(entry)}: {wrong}; {_EXPECTED}.")
        first = seen.setdefault(str(consumer).lower(), position)
        if first != position:
            raise NotRotatable(f"{where} entry {position} ({shown(entry)}) names the same consumer as entry {first}.")
        consumers.append(consumer)
    return tuple(consumers)


def _entry(entry: str) -> tuple[Consumer | None, str]:
    """One entry, or what is wrong with it."""
    if entry.startswith("/"):
        return _arm_entry(entry)
    prefixed = next((prefix for prefix in _PARSERS if entry.lower().startswith(prefix)), None)
    if prefixed is not None:
        return _PARSERS[prefixed](entry[len(prefixed) :])
    store = entry.startswith(APP_CONFIGURATION_PREFIX)
    parts = entry.removeprefix(APP_CONFIGURATION_PREFIX).split("/")
    if len(parts) not in ((2,) if store else (2, 3)):
        return None, "not a resource group and a name separated by '/'"
    group, name, *slot = parts
    checks = (
        (is_resource_group(group), f"resource group {shown(group)}", _GROUP_RULE),
        (not store or _STORE.fullmatch(name), f"store {shown(name)}", _STORE_RULE),
        (store or _SITE.fullmatch(name), f"app {shown(name)}", _SITE_RULE),
        (not slot or _SLOT.fullmatch(slot[0]), f"slot {shown(''.join(slot))}", _SLOT_RULE),
    )
    if (wrong := _broken(checks)) is not None:
        return None, wrong
    if store:
        return Consumer(group, name, kind=ConsumerKind.APP_CONFIGURATION), ""
    return Consumer(group, name, slot[0] if slot else None), ""


def _arm_entry(entry: str) -> tuple[Consumer | None, str]:
    """An entry given as its consumer's ARM resource ID: the same names and rules, in the subscription it names."""
    segments = entry.split("/")
    literals = [segment.lower() for segment in segments[1:6:2]]
    if len(segments) not in (9, 11) or literals != ["subscriptions", "resourcegroups", "providers"]:
        return None, "not a resource group and a name separated by '/', nor an ARM resource ID"
    _, _, subscription, _, group, _, provider, *rest = segments
    form = _ARM_TYPES.get((provider.lower(), *(kind.lower() for kind in rest[0::2])))
    if form is None:
        return None, "not the ID of an App Service or Function app, a slot, or an App Configuration store"
    if not _GUID.fullmatch(subscription):
        return None, f"subscription {shown(subscription)} is not a GUID"
    if not is_resource_group(group):
        return None, f"resource group {shown(group)} breaks Azure's naming rules ({_GROUP_RULE})"
    consumer, wrong = _entry(form.format(group=group, name=rest[1], slot=rest[-1]))
    return (None, wrong) if consumer is None else (replace(consumer, subscription=subscription.lower()), "")


def _broken(checks: Iterable[tuple[object, str, str]]) -> str | None:
    """The first name that breaks its rule, said so; ``None`` when each keeps it."""
    wrong = next(((what, rule) for passed, what, rule in checks if not passed), None)
    return None if wrong is None else f"{wrong[0]} breaks Azure's naming rules ({wrong[1]})"


def _identity(principal: str) -> tuple[Consumer | None, str]:
    if not PRINCIPAL.fullmatch(principal.lower()):
        return None, "not an object ID (a GUID such as 00000000-0000-0000-0000-000000000000) after 'identity:'"
    return Consumer("", principal.lower(), kind=ConsumerKind.IDENTITY), ""


def _container_app(parts: list[str]) -> tuple[Consumer | None, str]:
    if len(parts) not in (2, 3) or parts[2:] not in ([], [RESTART]):
        return None, f"not a resource group and an app separated by '/', optionally followed by '/{RESTART}'"
    group, app = parts[:2]
    checks = (
        (is_resource_group(group), f"resource group {shown(group)}", _GROUP_RULE),
        (_CONTAINER_APP.fullmatch(app), f"container app {shown(app)}", _CONTAINER_APP_RULE),
    )
    if (wrong := _broken(checks)) is not None:
        return None, wrong
    return Consumer(group, app, RESTART if parts[2:] else None, kind=ConsumerKind.CONTAINER_APP), ""


def _named_value(parts: list[str]) -> tuple[Consumer | None, str]:
    if len(parts) != 3:
        return None, "not a resource group, a service and a named value separated by '/'"
    group, service, named = parts
    checks = (
        (is_resource_group(group), f"resource group {shown(group)}", _GROUP_RULE),
        (_SERVICE.fullmatch(service), f"service {shown(service)}", _SERVICE_RULE),
        (_NAMED_VALUE.fullmatch(named), f"named value {shown(named)}", _NAMED_VALUE_RULE),
    )
    if (wrong := _broken(checks)) is not None:
        return None, wrong
    return Consumer(group, service, named, kind=ConsumerKind.API_MANAGEMENT), ""


# The entries with a prefix of their own, each by its parser of what follows it.
_PARSERS: dict[str, Callable[[str], tuple[Consumer | None, str]]] = {
    API_MANAGEMENT_PREFIX: lambda rest: _named_value(rest.split("/")),
    CONTAINER_APP_PREFIX: lambda rest: _container_app(rest.split("/")),
    IDENTITY_PREFIX: _identity,
}


def declarable(consumer: Consumer) -> bool:
    """Whether the ``Consumers`` tag accepts this consumer (discovery finds apps by what ARM lists)."""
    return _entry(str(consumer))[0] == consumer


def is_resource_group(name: str) -> bool:
    """Azure's rule for a resource group's name (see the naming rules above)."""
    return (
        1 <= len(name) <= 90
        and not name.endswith(".")
        and all(c in _GROUP_MARKS or unicodedata.category(c) in _LETTER_OR_DIGIT for c in name)
    )


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
        if reference.status and reference.status != "Resolved":
            fix = _FIXES.get(reference.status, "see the app's Key Vault reference status")
            detail = f"setting {reference.setting}: App Service reports {reference.status}; {fix}"
            return ConsumerReport(consumer, Standing.FAILING, detail)
    behind = [r for r in mine if r.active_version and r.active_version.lower() != version.lower()]
    if behind:
        names = ", ".join(r.setting for r in behind)
        return ConsumerReport(
            consumer, Standing.BEHIND, f"setting {names} still runs version {behind[0].active_version}"
        )
    unreported = [r for r in mine if not (r.status and r.active_version)]
    if unreported:
        first = unreported[0]
        said = first.status or "no status"
        return ConsumerReport(
            consumer,
            Standing.UNREPORTED,
            f"setting {first.setting}: App Service reports {said} but not which version it runs (no activeVersion), "
            "so this app cannot confirm a new version and the full cool-down holds",
        )
    return ConsumerReport(consumer, Standing.MOVED, f"runs version {version}")


@dataclass(frozen=True)
class NamedValue:
    """An API Management named value as its GET shows it (``properties.keyVault``)."""

    name: str
    secret_identifier: str | None  # the Key Vault secret it references, if any
    status_code: str | None  # keyVault.lastStatus.code ("Success" after a fetch that worked)
    status_at: datetime | None  # keyVault.lastStatus.timeStampUtc


def referenced_secret(identifier: str) -> tuple[str, str, str | None] | None:
    """The vault, the secret and the version (``None``: versionless) a Key Vault secret identifier names."""
    parts = identifier.lower().removeprefix("https://").rstrip("/").split("/")
    if len(parts) not in (3, 4) or parts[1] != "secrets" or not parts[0] or not parts[2]:
        return None
    return parts[0].split(".")[0], parts[2], parts[3] if len(parts) == 4 else None


def judge_named_value(
    consumer: Consumer, named: NamedValue, secret: tuple[str, str], version: str, written: datetime
) -> ConsumerReport:
    """Where a named value stands on ``version``, written at ``written``, of ``secret`` (its vault, its name)."""
    vault, name = secret
    referenced = referenced_secret(named.secret_identifier or "")
    if referenced is None or referenced[:2] != (vault.lower(), name.lower()):
        return ConsumerReport(
            consumer, Standing.UNREFERENCED, f"named value {named.name} does not reference secret {name}"
        )
    if referenced[2]:
        return ConsumerReport(
            consumer,
            Standing.FAILING,
            f"named value {named.name} pins version {referenced[2]}: use a versionless secret identifier",
        )
    if named.status_code is None or named.status_at is None:
        return ConsumerReport(
            consumer, Standing.UNREPORTED, f"named value {named.name} reports no lastStatus: no fetch is known"
        )
    at = named.status_at.isoformat(timespec="seconds")
    if named.status_code.lower() != "success":
        return ConsumerReport(
            consumer, Standing.FAILING, f"named value {named.name}: API Management reports {named.status_code} at {at}"
        )
    if named.status_at <= written + CLOCK_MARGIN:
        return ConsumerReport(
            consumer,
            Standing.BEHIND,
            f"named value {named.name} last fetched the secret at {at}, not surely after version {version} "
            f"(API Management's clock must say {int(CLOCK_MARGIN.total_seconds()) // 60} minutes later)",
        )
    return ConsumerReport(
        consumer, Standing.MOVED, f"named value {named.name} fetched the secret at {at}, after version {version}"
    )


@dataclass(frozen=True)
class ContainerSecret:
    """A Container App's secret as its GET shows it (``configuration.secrets``: never a value), with the identity
    the platform reads it as (``"system"`` or a user-assigned identity's resource ID)."""

    name: str
    key_vault_url: str | None
    identity: str | None = None


def referencing(secrets: Iterable[ContainerSecret], vault: str, name: str) -> list[ContainerSecret]:
    """The secrets whose ``keyVaultUrl`` references secret ``name`` of ``vault`` (pinned or not)."""
    return [s for s, _ in _referencing(secrets, vault, name)]


def _referencing(secrets: Iterable[ContainerSecret], vault: str, name: str) -> list[tuple[ContainerSecret, str | None]]:
    """Each secret referencing secret ``name`` of ``vault``, with the version its URL pins (``None``: none)."""
    referenced = ((s, referenced_secret(s.key_vault_url or "")) for s in secrets)
    return [(s, r[2]) for s, r in referenced if r is not None and r[:2] == (vault.lower(), name.lower())]


def judge_container_app(
    consumer: Consumer, secrets: Iterable[ContainerSecret], vault: str, name: str
) -> ConsumerReport:
    """Where a Container App stands from its secrets alone: never ``moved``.

    The platform fetches a new version into the app's configuration, but "an updated or deleted secret doesn't
    automatically affect existing revisions" ("Manage secrets in Azure Container Apps"): neither that fetch (a
    ``SecretGet`` by the app's identity in the audit trail) nor an accepted restart shows the running replicas hold
    the new value. Only the audit trail together with the replicas' creation times may
    (:func:`rotators.core.audit.judge_replicas`); without them the full cool-down holds.
    """
    mine = _referencing(secrets, vault, name)
    if not mine:
        detail = f"no secret of {consumer} has a keyVaultUrl referencing secret {name}"
        return ConsumerReport(consumer, Standing.UNREFERENCED, detail)
    pinned = next((s for s, version in mine if version), None)
    if pinned is not None:
        detail = f"secret {pinned.name} pins a version in its keyVaultUrl: use a versionless URL"
        return ConsumerReport(consumer, Standing.FAILING, detail)
    detail = (
        f"secret {mine[0][0].name}: Container Apps fetches new versions within 30 minutes, but existing revisions "
        "keep the value they started with, and only Key Vault's audit trail with replicas created after the read "
        "can say they run it (none was found), so the full cool-down holds"
    )
    return ConsumerReport(consumer, Standing.UNREPORTED, detail)


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


def unplaced(consumers: Iterable[Consumer], subscription: str) -> Consumer | None:
    """A consumer named without its subscription where ``subscription`` (ProviderAddress's) is none: an Entra ID
    application's secret takes ARM IDs and identities (which are in no subscription) only."""
    if subscription:
        return None
    return next((c for c in consumers if c.subscription is None and c.kind is not ConsumerKind.IDENTITY), None)


def unconfirmable(consumers: Iterable[Consumer]) -> Consumer | None:
    """A consumer that can never confirm it moved (an App Configuration store), if one is declared."""
    return next((consumer for consumer in consumers if not consumer.can_confirm), None)
