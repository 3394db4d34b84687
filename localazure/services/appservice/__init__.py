"""Microsoft.Web sites (App Service and Function apps) and their slots behind ARM: Key Vault references.

``GET <app>/config/configreferences/appsettings`` (``WebApps_GetAppSettingsKeyVaultReferences``,
spec example ``Microsoft.Web/stable/2023-12-01/examples/GetKeyVaultReferencesForAppSettings.json``;
``ApiKVReference`` properties ``reference``, ``status``, ``vaultName``, ``secretName``,
``secretVersion``, ``identityType``, ``details``, ``source``, ``activeVersion``), the same for
``.../configreferences/connectionstrings`` (``WebApps_GetSiteConnectionStringKeyVaultReferences``),
and ``POST <app>/config/configreferences/appsettings/refresh``, which Microsoft's "Use Key Vault
references as app settings" doc gives to make an app read its references again. As that doc
says, a versionless reference is otherwise re-read every 24 hours, and "any configuration change
to the app causes an app restart and an immediate refetch of all referenced secrets": the
version an app runs moves on refresh, on a configuration change (``change_settings``) or after 24
hours on this backend's clock (``advance``), never by itself. Apps are listed per subscription
and per group (``WebApps_List``, ``WebApps_ListByResourceGroup``), slots per app
(``WebApps_ListSlots``, name ``<site>/<slot>`` as in ``GetWebAppSlot.json``).

What the doc does not say is offered as options: the refresh's answer (``refresh_status``: 200,
or 204), whether it re-reads connection strings too (``refresh_covers_connection_strings``, default no:
no refresh is documented for them), and whether a reference reports the version it runs
(``reports_active_version``). Microsoft documents no meaning for ``activeVersion``, its spec example
shows neither it nor ``status``, and the one published real answer shows a versionless, resolved
reference as ``"status": "Resolved", "activeVersion": null`` (a refresh answer quoted at
blog.remcoeissing.nl, "updating-key-vault-references-app-service"): False answers that for every
reference, True (the default) names the version resolved. Per app: ``vault_access`` (False: the
app's identity cannot read the vault, status ``AccessToKeyVaultDenied``) and ``refresh_delay`` (a
refresh that takes effect that many seconds later, as a slow app does).

Each app has its own system-assigned managed identity (the ``Site`` definition's ``identity``,
``ManagedServiceIdentity``: ``type``, ``principalId``, ``tenantId``, ``userAssignedIdentities``;
``WebApps_Get``, ``WebApps_GetSlot``). Its references are resolved by the identity its
``keyVaultReferenceIdentity`` names: the system-assigned one by default, or a user-assigned one set by
its resource ID ("Use Key Vault references as app settings in Azure App Service": "Key Vault references
use the app's system-assigned identity by default, but you can specify a user-assigned identity");
``reference_identity`` (a user-assigned identity's resource ID and object ID) sets one here. Every
reference it resolves is a ``SecretGet`` by that identity in the vault's audit trail
(``cloud.loganalytics``), as Key Vault logs each read ("Azure Key Vault logging").
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote

from localazure.services import arm
from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, RG, ArmResource
from localazure.services.base import Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\(SecretUri=https://(?P<vault>[^./]+)\.vault\.azure\.net/secrets/(?P<secret>[^/)]+)/?"
    r"(?P<version>[^/)]*)\)"
)
DAY = 86400.0
APP_SETTINGS, CONNECTION_STRINGS = "appsettings", "connectionstrings"
_DENIED = (
    "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault."
)


@dataclass
class App(ArmResource):
    """A site or one of its slots: app settings, and the version each reference last resolved to."""

    slot: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    connection_strings: dict[str, str] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)  # "appsettings/<name>" -> version resolved
    resolved_at: float = 0.0
    pending_until: float | None = None  # a slow refresh lands then
    vault_access: bool = True
    refresh_delay: float = 0.0
    principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    reference_identity: tuple[str, str] | None = None  # a user-assigned identity's resource ID and object ID

    provider: ClassVar[str] = "Microsoft.Web/sites"

    @property
    def reference_principal(self) -> str:
        """The object ID of the identity that resolves the app's Key Vault references."""
        return self.reference_identity[1] if self.reference_identity else self.principal_id

    @property
    def id(self) -> str:
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
        return f"{group}/providers/Microsoft.Web/sites/{self.name}" + (f"/slots/{self.slot}" if self.slot else "")


class AppServiceBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.apps: dict[str, App] = {}  # by "site" or "site/slot", lower-cased
        self.refresh_status = 200
        self.refresh_covers_connection_strings = False  # only app settings are documented
        self.reports_active_version = True  # False: "activeVersion": null, as the one published real answer
        self._skew = 0.0

    def create_app(
        self,
        name: str,
        settings: dict[str, str],
        *,
        slot: str | None = None,
        connection_strings: dict[str, str] | None = None,
        resource_group: str = "rg-apps",
        subscription: str = DEFAULT_SUBSCRIPTION,
    ) -> App:
        app = App(
            subscription,
            resource_group,
            name,
            slot=slot,
            settings=dict(settings),
            connection_strings=dict(connection_strings or {}),
        )
        with self.cloud.lock:
            self.apps[_key(name, slot)] = app
            self.cloud.arm.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
            self.resolve(app)
        return app

    def advance(self, seconds: float) -> None:
        self._skew += seconds

    def now(self) -> float:
        return time.monotonic() + self._skew

    def change_settings(self, app: App, settings: dict[str, str]) -> None:
        """A configuration change: the app restarts and reads every reference at once."""
        with self.cloud.lock:
            app.settings.update(settings)
            self.resolve(app)

    def settle(self, app: App) -> None:
        if app.pending_until is not None and self.now() >= app.pending_until:
            app.pending_until = None
            self.resolve(app, sources=self.refreshed())
        elif self.now() - app.resolved_at >= DAY:  # App Service re-reads references every 24 hours
            self.resolve(app)

    def refreshed(self) -> tuple[str, ...]:
        return (APP_SETTINGS, CONNECTION_STRINGS) if self.refresh_covers_connection_strings else (APP_SETTINGS,)

    def resolve(self, app: App, sources: tuple[str, ...] = (APP_SETTINGS, CONNECTION_STRINGS)) -> None:
        for source in sources:
            for setting, value in _values(app, source).items():
                match = _REFERENCE.fullmatch(value)
                if match and app.vault_access and match["vault"].lower() in self.cloud.keyvault.vaults:
                    versions = self.cloud.keyvault.secret_versions(match["vault"], match["secret"])
                    if versions:
                        read = match["version"] or versions[-1].version
                        app.active[f"{source}/{setting}"] = read
                        self.cloud.loganalytics.secret_get(
                            app.reference_principal,
                            match["vault"],
                            match["secret"],
                            read,
                            versionless=not match["version"],
                        )
        app.resolved_at = self.now()


def _values(app: App, source: str) -> dict[str, str]:
    return app.settings if source == APP_SETTINGS else app.connection_strings


def _key(name: str, slot: str | None) -> str:
    return f"{name}/{slot}".lower() if slot else name.lower()


def _app(backend: AppServiceBackend, match: re.Match[str]) -> App:
    """The app a path names. Its names arrive percent-encoded (the SDK quotes every path parameter,
    ``Serializer.url``: ``quote(value, safe="")``) and are compared decoded, as any HTTP server does."""
    name, group, slot = unquote(match["name"]), unquote(match["rg"]), match.groupdict().get("slot")
    app = backend.apps.get(_key(name, unquote(slot) if slot else None))
    if app is None or app.resource_group.lower() != group.lower():
        raise backend.cloud.arm.missing(match["sub"], group, "Microsoft.Web/sites", name)
    backend.settle(app)
    return app


def _reference(backend: AppServiceBackend, app: App, source: str, setting: str, text: str) -> dict[str, object] | None:
    """One ``ApiKVReference``, or ``None`` for a setting that holds no Key Vault reference."""
    reference = _REFERENCE.fullmatch(text)
    if reference is None:
        return None
    denied = not app.vault_access
    return {
        "id": f"{app.id}/config/configreferences/{source}/{setting}",
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
            "activeVersion": app.active.get(f"{source}/{setting}") if backend.reports_active_version else None,
        },
    }


def list_references(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    source = match["source"]
    listed = (_reference(backend, app, source, setting, text) for setting, text in _values(app, source).items())
    return Response(200, {"value": [reference for reference in listed if reference is not None]})


def get_reference(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    """``WebApps_GetAppSettingKeyVaultReference`` (spec example ``GetKeyVaultReferencesForAppSetting.json``).

    What App Service answers for a setting without a reference is not documented: 404 here."""
    app = _app(backend, match)
    source, setting = match["source"], match["setting"]
    text = next((v for k, v in _values(app, source).items() if k.lower() == setting.lower()), None)
    reference = _reference(backend, app, source, setting, text) if text is not None else None
    if reference is None:
        raise ApiError(404, "NotFound", f"No Key Vault reference named {setting}.")
    return Response(200, reference)


def refresh(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    if app.refresh_delay:
        app.pending_until = backend.now() + app.refresh_delay
    else:
        backend.resolve(app, sources=backend.refreshed())
    return Response(backend.refresh_status, None)


def _site(app: App) -> dict[str, object]:
    """A Site as ``GetWebApp.json`` shows it, trimmed to what listing needs."""
    name, kind = (
        (f"{app.name}/{app.slot}", "Microsoft.Web/sites/slots") if app.slot else (app.name, "Microsoft.Web/sites")
    )
    identity: dict[str, object] = {
        "type": "SystemAssigned",
        "principalId": app.principal_id,
        "tenantId": str(uuid.UUID(int=0)),
    }
    properties: dict[str, object] = {"keyVaultReferenceIdentity": "SystemAssigned"}
    if app.reference_identity:
        resource_id, principal_id = app.reference_identity
        identity["type"] = "SystemAssigned, UserAssigned"
        identity["userAssignedIdentities"] = {resource_id: {"principalId": principal_id, "clientId": str(uuid.uuid4())}}
        properties["keyVaultReferenceIdentity"] = resource_id
    return {
        "id": app.id,
        "name": name,
        "type": kind,
        "location": app.location,
        "kind": "app",
        "identity": identity,
        "properties": properties,
    }


def get_site(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, _site(_app(backend, match)))


def list_sites(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    group = unquote(match["rg"]) if match.groupdict().get("rg") else None
    if group is not None and group.lower() not in backend.cloud.arm.resource_groups.get(match["sub"].lower(), set()):
        raise backend.cloud.arm.missing(match["sub"], group, "Microsoft.Web/sites", "")
    sites = [
        _site(app)
        for app in backend.apps.values()
        if app.slot is None
        and app.subscription.lower() == match["sub"].lower()
        and (group is None or app.resource_group.lower() == group.lower())
    ]
    return Response(200, {"value": sites})


def list_slots(backend: AppServiceBackend, request: Request, match: re.Match[str]) -> Response:
    site = _app(backend, match)
    slots = [_site(app) for app in backend.apps.values() if app.slot and app.name.lower() == site.name.lower()]
    return Response(200, {"value": slots})


_SITES = r"/providers/Microsoft\.Web/sites"
_SITE = RG + _SITES + r"/(?P<name>[^/]+)(?:/slots/(?P<slot>[^/]+))?"
_REFERENCES = _SITE + r"/config/configreferences/(?P<source>appsettings|connectionstrings)"
SERVICE = Service(
    "appservice",
    arm.FRONT,
    AppServiceBackend,
    (
        Url("appservice.list_references", "GET", _REFERENCES, list_references),
        Url("appservice.get_reference", "GET", _REFERENCES + r"/(?P<setting>[^/]+)", get_reference),
        Url("appservice.refresh", "POST", _SITE + "/config/configreferences/appsettings/refresh", refresh),
        Url("appservice.list_sites", "GET", r"/subscriptions/(?P<sub>[^/]+)" + _SITES, list_sites),
        Url("appservice.list_sites", "GET", RG + _SITES, list_sites),
        Url("appservice.list_slots", "GET", RG + _SITES + r"/(?P<name>[^/]+)/slots", list_slots),
        Url("appservice.get_site", "GET", _SITE, get_site),
    ),
    frozenset({"2023-12-01"}),
)
