"""App settings, read and validated once per process, on first use.

Every setting has a grammar: numbers are ASCII decimals in a range, and each entry of
``ROTATION_ALLOWED_VAULTS`` is a vault name (public Azure) or a vault URL (its cloud).
Anything else is a :class:`ConfigurationError` naming the setting and the entry.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from rotators.core.clouds import CLOUDS, VaultAddress
from rotators.core.errors import BadRequest, ConfigurationError, VaultNotAllowed
from rotators.core.parsing import shown

ALLOWED_VAULTS = "ROTATION_ALLOWED_VAULTS"
EVENTS_TOPIC_ENDPOINT = "ROTATION_EVENTS_TOPIC_ENDPOINT"
SENTINEL = "ROTATION_APPCONFIG_SENTINEL"
TENANT_ID = "AZURE_TENANT_ID"
GRAPH_HOST = "ROTATION_GRAPH_HOST"
AUDIT_WORKSPACE = "ROTATION_AUDIT_WORKSPACE_ID"
# "the cloud's own" (graph.microsoft.us for a .vault.usgovcloudapi.net vault), or DoD's (Graph "National cloud
# deployments": US Government L5 is dod-graph.microsoft.us).
DOD_GRAPH_HOST = "dod-graph.microsoft.us"
GRAPH_HOSTS = ("cloud", DOD_GRAPH_HOST)
_TENANT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
VERIFY_MODES = ("required", "best-effort", "off")
EARLY_REVOCATION = "ROTATION_EARLY_PASSWORD_REVOCATION"
# "off": the password the previous version holds stays until the next rotation; "confirmed": it is removed once
# every declared consumer confirms the current version, past the confirmed floor (rotators.workflows.revocation).
EARLY_REVOCATION_MODES = ("off", "confirmed")
# Event Grid custom topic hosts, in any cloud: https://<topic>.<region>-1.<the cloud's Event Grid suffix>/api/events.
_TOPIC_HOST = re.compile(
    r"[a-z0-9][a-z0-9-]{1,48}\.[a-z0-9-]{2,40}\.(?:" + "|".join(re.escape(c.eventgrid_suffix) for c in CLOUDS) + ")"
)
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")


@dataclass(frozen=True)
class Settings:
    allowed_vaults: frozenset[VaultAddress]
    # The cool-down: App Service refetches Key Vault references every 24 hours, but a running app keeps
    # what it read until it restarts (a Microsoft answer in MicrosoftDocs/azure-docs#36650; a Function
    # app still held an old value after 44 hours in #73264), so three refetch cycles (README, "Settings").
    min_interval: timedelta = timedelta(hours=72)
    http_timeout_seconds: float = 30.0
    poll_seconds: float = 5.0
    # What each trigger may spend: Event Grid redelivers after 30 s without an answer, App
    # Service's front end drops an HTTP request after 230 s, the sweep must end inside
    # host.json's functionTimeout (10 min) with its last rotation.
    event_budget_seconds: float = 25.0
    http_budget_seconds: float = 120.0
    cli_budget_seconds: float = 600.0
    sweep_budget_seconds: float = 300.0
    # Where outcome events go (an Event Grid custom topic's endpoint); None publishes none.
    events_topic_endpoint: str | None = None
    # Whether a new key is tested on the resource's data plane before it is published.
    verify: str = "best-effort"
    # The shortest cool-down, reached only when every declared consumer confirms it runs the current version.
    confirmed_min_interval: timedelta = timedelta(minutes=15)
    # The key (label empty) set in declared App Configuration stores after each rotation.
    appconfig_sentinel: str = "Sentinel"
    # The tenant of the Entra ID applications whose passwords are rotated (AZURE_TENANT_ID); None: the tenant
    # the vault's Key Vault challenge names (rotators.kinds.entra).
    tenant_id: str | None = None
    # US Government L5 (DoD) Graph: its vaults share the L4 suffix, so only this setting tells them apart.
    dod_graph: bool = False
    # Remove an application password the previous version holds once every declared consumer confirms the current one.
    early_password_revocation: bool = False
    # How old the current version must be before its older passwords go early: a consumer's confirmation says which
    # version App Service's reference cache holds, not what a running process read, and App Service refetches
    # references within 24 hours ("Use Key Vault references", Rotation), hence at least that (an assumption).
    early_revocation_min_age: timedelta = timedelta(hours=72)
    # The Log Analytics workspace (its workspace ID, a GUID) that receives the vaults' AuditEvent logs; None: the
    # audit trail is not read, and identities confirm nothing (rotators.core.audit).
    audit_workspace: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            allowed_vaults=_allowed_vaults(environ.get(ALLOWED_VAULTS, "")),
            min_interval=timedelta(hours=_number(environ, "ROTATION_MIN_INTERVAL_HOURS", 72, low=0, high=8760)),
            poll_seconds=_number(environ, "ROTATION_POLL_SECONDS", 5, low=0.01, high=60),
            http_timeout_seconds=_number(environ, "ROTATION_HTTP_TIMEOUT_SECONDS", 30, low=1, high=300),
            event_budget_seconds=_number(environ, "ROTATION_EVENT_BUDGET_SECONDS", 25, low=1, high=28),
            http_budget_seconds=_number(environ, "ROTATION_HTTP_BUDGET_SECONDS", 120, low=1, high=220),
            cli_budget_seconds=_number(environ, "ROTATION_CLI_BUDGET_SECONDS", 600, low=1, high=86400),
            sweep_budget_seconds=_number(environ, "ROTATION_SWEEP_BUDGET_SECONDS", 300, low=1, high=480),
            events_topic_endpoint=_topic_endpoint(environ.get(EVENTS_TOPIC_ENDPOINT, "")),
            verify=_choice(environ, "ROTATION_VERIFY", VERIFY_MODES, "best-effort"),
            confirmed_min_interval=timedelta(
                minutes=_number(environ, "ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", 15, low=0, high=525600)
            ),
            appconfig_sentinel=_sentinel(environ.get(SENTINEL, "")),
            tenant_id=_tenant(environ.get(TENANT_ID, "")),
            dod_graph=_choice(environ, GRAPH_HOST, GRAPH_HOSTS, GRAPH_HOSTS[0]) == DOD_GRAPH_HOST,
            early_password_revocation=_choice(environ, EARLY_REVOCATION, EARLY_REVOCATION_MODES, "off") == "confirmed",
            early_revocation_min_age=timedelta(
                hours=_number(environ, "ROTATION_EARLY_REVOCATION_MIN_HOURS", 72, low=24, high=8760)
            ),
            audit_workspace=_guid(environ.get(AUDIT_WORKSPACE, ""), AUDIT_WORKSPACE, "the workspace ID"),
        )

    @property
    def call_budget_seconds(self) -> float:
        """The most one call to Azure may take, retries included (azure-core's ``timeout``)."""
        return 4 * self.http_timeout_seconds

    @property
    def request_settle(self) -> timedelta:
        """How long after a regeneration request went out without an answer Azure may still apply it.

        The request is sent once (never retried by the SDK) and may be in flight for a
        connection and a read timeout; ARM may hand it to the resource provider after the
        caller stopped listening. No Microsoft source bounds that; six read timeouts (3 min
        by default) leave a wide margin.
        """
        return timedelta(seconds=6 * self.http_timeout_seconds)

    def check_vault(self, vault: VaultAddress) -> None:
        """Fail closed: no allowlist means no vault is allowed."""
        if not self.allowed_vaults:
            raise ConfigurationError(
                f"{ALLOWED_VAULTS} is not set: every rotation is refused until it lists the vaults to serve."
            )
        if vault not in self.allowed_vaults:
            raise VaultNotAllowed(f"Vault '{vault}' is not in {ALLOWED_VAULTS}.")


def _allowed_vaults(raw: str) -> frozenset[VaultAddress]:
    """Every entry must name one vault; an empty value means none (and every rotation is refused)."""
    if not raw.strip():
        return frozenset()
    vaults = set()
    for position, entry in enumerate(raw.split(","), start=1):
        try:
            vaults.add(VaultAddress.parse(entry.strip()))
        except BadRequest:
            raise ConfigurationError(
                f"{ALLOWED_VAULTS} entry {position} ({shown(entry.strip())}) is not a vault name or a vault URL "
                f"(https://<vault>.vault.azure.net, .vault.azure.cn or .vault.usgovcloudapi.net); "
                "wildcards, host names and empty entries are refused."
            ) from None
    return frozenset(vaults)


def _sentinel(raw: str) -> str:
    """An App Configuration key: not ``.`` or ``..``, no ``%`` (Microsoft's "Keys" doc), here at most 256 characters."""
    raw = raw.strip()
    if not raw:
        return "Sentinel"
    if raw in (".", "..") or "%" in raw or len(raw) > 256 or not raw.isprintable():
        raise ConfigurationError(f"{SENTINEL} is {shown(raw)}; expected an App Configuration key such as Sentinel.")
    return raw


def _tenant(raw: str) -> str | None:
    return _guid(raw, TENANT_ID, "the tenant ID")


def _guid(raw: str, name: str, what: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    if not _TENANT.fullmatch(raw):
        raise ConfigurationError(f"{name} is {shown(raw)}; expected {what}, a GUID.")
    return raw.lower()


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {shown(raw)}.")
    return raw.lower()


def _topic_endpoint(raw: str) -> str | None:
    """An Event Grid custom topic's endpoint, https only: the function sends it a token.

    ``urlsplit`` and its ``port`` raise ``ValueError`` for text such as a port of ``abc`` or
    ``99999``, a lone ``[``, or a host with characters NFKC folds into ``/`` (a fullwidth slash):
    each is this setting's error like any other, never an internal one.
    """
    from urllib.parse import urlsplit

    raw = raw.strip()
    if not raw:
        return None
    refused = ConfigurationError(
        f"{EVENTS_TOPIC_ENDPOINT} is {shown(raw)}; expected an Event Grid topic endpoint such as "
        "https://<topic>.<region>-1.eventgrid.azure.net/api/events."
    )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise refused from None
    if (
        parts.scheme != "https"
        or port is not None
        or not _TOPIC_HOST.fullmatch(parts.hostname or "")
        or parts.path not in ("", "/", "/api/events")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise refused
    return f"https://{parts.hostname}/api/events"


def _number(environ: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    value = float(raw) if _DECIMAL.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}, got {shown(raw)}.")
    return value


@functools.cache
def get_settings() -> Settings:
    return Settings.from_environ()
