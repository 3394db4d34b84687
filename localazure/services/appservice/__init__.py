"""Microsoft.Web sites (App Service and Function apps) and their slots behind ARM: Key Vault references.

``GET <app>/config/configreferences/appsettings`` (``WebApps_GetAppSettingsKeyVaultReferences``,
spec example ``Microsoft.Web/stable/2023-12-01/examples/GetKeyVaultReferencesForAppSettings.json``;
``ApiKVReference`` properties ``reference``, ``status``, ``vaultName``, ``secretName``,
``secretVersion``, ``identityType``, ``details``, ``source``, ``activeVersion``) and
``POST <app>/config/configreferences/appsettings/refresh``, which Microsoft's "Use Key Vault
references as app settings" doc gives to make an app read its references again. As that doc
says, a versionless reference is otherwise re-read every 24 hours: the version an app runs
moves on refresh or after 24 hours on this backend's clock (``advance``), never by itself.

The doc does not say what the refresh answers: ``refresh_status`` (200, or 204) offers both.
Options: ``vault_access`` per app (False: the app's identity cannot read the vault, status
``AccessToKeyVaultDenied``) and ``refresh_delay`` per app (a refresh that takes effect that many
seconds later, as a slow app does).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from localazure.services import arm
from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, RG, ArmResource
from localazure.services.base import Service, Url
from localazure.wire import Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\(SecretUri=https://(?P<vault>[^./]+)\.vault\.azure\.net/secrets/(?P<secret>[^/)]+)/?"
    r"(?P<version>[^/)]*)\)"
)
DAY = 86400.0
_DENIED = (
    "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault."
)


@dataclass
class App(ArmResource):
    """A site or one of its slots: app settings, and the version each reference last resolved to."""

    slot: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)  # setting -> version resolved
    resolved_at: float = 0.0
    pending_until: float | None = None  # a slow refresh lands then
    vault_access: bool = True
    refresh_delay: float = 0.0

    provider: ClassVar[str] = "Microsoft.Web/sites"

    @property
    def id(self) -> str:
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
        return f"{group}/providers/Microsoft.Web/sites/{self.name}" + (f"/slots/{self.slot}" if self.slot else "")


class AppServiceBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.apps: dict[str, App] = {}  # by "site" or "site/slot", lower-cased
        self.refresh_status = 200
        self._skew = 0.0

    def create_app(
        self,
        name: str,
        settings: dict[str, str],
        *,
        slot: str | None = None,
        resource_group: str = "rg-apps",
        subscription: str = DEFAULT_SUBSCRIPTION,
    ) -> App:
        app = App(subscription, resource_group, name, slot=slot, settings=dict(settings))
        with self.cloud.lock:
            self.apps[_key(name, slot)] = app
            self.cloud.arm.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
            self.resolve(app)
        return app

    def advance(self, seconds: float) -> None:
        self._skew += seconds

    def now(self) -> float:
        return time.monotonic() + self._skew

    def settle(self, app: App) -> None:
        if app.pending_until is not None and self.now() >= app.pending_until:
            app.pending_until = None
            self.resolve(app)
        elif self.now() - app.resolved_at >= DAY:  # App Service re-reads references every 24 hours
            self.resolve(app)

    def resolve(self, app: App) -> None:
        for setting, value in app.settings.items():
            match = _REFERENCE.fullmatch(value)
            if match and app.vault_access and match["vault"].lower() in self.cloud.keyvault.vaults:
                versions = self.cloud.keyvault.secret_versions(match["vault"], match["secret"])
                if versions:
                    app.active[setting] = match["version"] or versions[-1].version
        app.resolved_at = self.now()


def _key(name: str, slot: str | None) -> str:
    return f"{name}/{slot}".lower() if slot else name.lower()


def _app(backend: AppServiceBackend, match: re.Match[str]) -> App:
    app = backend.apps.get(_key(match["name"], match["slot"]))
    if app is None or app.resource_group.lower() != match["rg"].lower():
        raise backend.cloud.arm.missing(match["sub"], match["rg"], "Microsoft.Web/sites", match["name"])
    backend.settle(app)
    return app


def list_references(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    value = []
    for setting, text in app.settings.items():
        reference = _REFERENCE.fullmatch(text)
        if reference is None:
            continue
        denied = not app.vault_access
        value.append(
            {
                "id": f"{app.id}/config/configreferences/appsettings/{setting}",
                "name": setting,
                "type": "Microsoft.Web/sites/config/configreferences",
                "properties": {
                    "reference": text,
                    "status": "AccessToKeyVaultDenied" if denied else "Resolved",
                    "vaultName": reference["vault"],
                    "secretName": reference["secret"],
                    "secretVersion": reference["version"] or None,
                    "identityType": "SystemAssigned",
                    "details": _DENIED if denied else "Reference has been successfully resolved.",
                    "source": "KeyVault",
                    "activeVersion": app.active.get(setting),
                },
            }
        )
    return Response(200, {"value": value})


def refresh(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    if app.refresh_delay:
        app.pending_until = backend.now() + app.refresh_delay
    else:
        backend.resolve(app)
    return Response(backend.refresh_status, None)


_SITE = RG + r"/providers/Microsoft\.Web/sites/(?P<name>[^/]+)(?:/slots/(?P<slot>[^/]+))?"
SERVICE = Service(
    "appservice",
    arm.FRONT,
    AppServiceBackend,
    (
        Url("appservice.list_references", "GET", _SITE + "/config/configreferences/appsettings", list_references),
        Url("appservice.refresh", "POST", _SITE + "/config/configreferences/appsettings/refresh", refresh),
    ),
    frozenset({"2023-12-01"}),
)
