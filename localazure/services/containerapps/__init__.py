"""Microsoft.App container apps behind ARM: secrets that reference Key Vault, revisions and their restart.

As the REST spec (api-version 2024-03-01) and its examples show them: ``ContainerApps_Get``
(``ContainerApps_Get.json``: ``identity`` ``{type, principalId, userAssignedIdentities}``,
``properties.configuration.secrets`` as ``{name, keyVaultUrl, identity}`` with no value),
``ContainerApps_ListBySubscription``/``ListByResourceGroup``, ``ContainerAppsRevisions_ListRevisions``
(``properties.active``) and ``ContainerAppsRevisions_RestartRevision`` (200, empty). Microsoft's "Manage
secrets in Azure Container Apps": a Key Vault reference picks up a new version within 30 minutes, and a
revision restart fetches it at once; each fetch is a ``SecretGet`` by the secret's identity in the vault's
audit trail (``cloud.loganalytics``). The same page: "An updated or deleted secret doesn't automatically
affect existing revisions in your app": the platform's fetch says nothing of what running replicas hold.
Here the platform's fetch comes every ``fetch_every`` seconds on this backend's clock (``advance``);
Microsoft gives only the 30-minute bound.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote

from localazure.services import arm
from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, RG
from localazure.services.base import Clock, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_PROVIDER = "Microsoft.App/containerApps"
_URL = re.compile(r"https://(?P<vault>[^./]+)\.vault\.azure\.net/secrets/(?P<secret>[^/]+)/?(?P<version>[^/]*)")


@dataclass
class ContainerApp:
    subscription: str
    resource_group: str
    name: str
    secrets: dict[str, str]  # secret name -> keyVaultUrl (each read as the system identity)
    principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    revisions: dict[str, bool] = field(default_factory=dict)  # revision name -> active
    fetched_at: datetime | None = None
    restarts: int = 0

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/{_PROVIDER}/{self.name}"
        )


class ContainerAppsBackend(Clock):
    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__()
        self.cloud = cloud
        self.apps: dict[str, ContainerApp] = {}
        self.fetch_every = 30 * 60.0

    def create(
        self,
        name: str,
        secrets: dict[str, str],
        *,
        resource_group: str = "rg-apps",
        subscription: str = DEFAULT_SUBSCRIPTION,
    ) -> ContainerApp:
        app = ContainerApp(subscription, resource_group, name, dict(secrets))
        app.revisions = {f"{name}--old1": False, f"{name}--cur2": True}  # one inactive, one active
        with self.cloud.lock:
            self.apps[name.lower()] = app
            self.cloud.arm.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
            self.fetch(app)
        return app

    def fetch(self, app: ContainerApp) -> None:
        """The platform reads each referenced secret, as the app's identity (running replicas keep their value)."""
        app.fetched_at = self.now()
        for url in app.secrets.values():
            match = _URL.fullmatch(url)
            if match is None or match["vault"].lower() not in self.cloud.keyvault.vaults:
                continue
            versions = self.cloud.keyvault.secret_versions(match["vault"], match["secret"])
            if versions:
                version = match["version"] or versions[-1].version
                self.cloud.loganalytics.secret_get(
                    app.principal_id, match["vault"], match["secret"], version, versionless=not match["version"]
                )

    def settle(self, app: ContainerApp) -> None:
        if app.fetched_at is not None and (self.now() - app.fetched_at).total_seconds() >= self.fetch_every:
            self.fetch(app)


def _app(backend: ContainerAppsBackend, match: re.Match[str]) -> ContainerApp:
    name, group = unquote(match["app"]), unquote(match["rg"])
    app = backend.apps.get(name.lower())
    if app is None or app.resource_group.lower() != group.lower():
        raise backend.cloud.arm.missing(match["sub"], group, _PROVIDER, name)
    backend.settle(app)
    return app


def _body(app: ContainerApp) -> dict[str, object]:
    secrets = [{"name": name, "keyVaultUrl": url, "identity": "System"} for name, url in app.secrets.items()]
    return {
        "id": app.id,
        "name": app.name,
        "type": _PROVIDER,
        "location": "East US",
        "identity": {"type": "SystemAssigned", "principalId": app.principal_id, "tenantId": str(uuid.UUID(int=0))},
        "properties": {"provisioningState": "Succeeded", "configuration": {"secrets": secrets}},
    }


def get_app(backend: ContainerAppsBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, _body(_app(backend, match)))


def list_apps(backend: ContainerAppsBackend, request: Request, match: re.Match[str]) -> Response:
    group = unquote(match["rg"]) if match.groupdict().get("rg") else None
    listed = [
        _body(app)
        for app in backend.apps.values()
        if app.subscription.lower() == match["sub"].lower()
        and (group is None or app.resource_group.lower() == group.lower())
    ]
    return Response(200, {"value": listed})


def list_revisions(backend: ContainerAppsBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    revisions = [
        {
            "id": f"{app.id}/revisions/{name}",
            "name": name,
            "type": f"{_PROVIDER}/revisions",
            "properties": {"active": active},
        }
        for name, active in app.revisions.items()
    ]
    return Response(200, {"value": revisions})


def restart_revision(backend: ContainerAppsBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    if unquote(match["revision"]) not in app.revisions:
        raise ApiError(404, "ContainerAppRevisionNotFound", "Revision not found.")
    app.restarts += 1
    backend.fetch(app)
    return Response(200, None)


_APPS = r"/providers/Microsoft\.App/containerApps"
_APP = RG + _APPS + r"/(?P<app>[^/]+)"
SERVICE = Service(
    "containerapps",
    arm.FRONT,
    ContainerAppsBackend,
    (
        Url("containerapps.get", "GET", _APP, get_app),
        Url("containerapps.list", "GET", r"/subscriptions/(?P<sub>[^/]+)" + _APPS, list_apps),
        Url("containerapps.list", "GET", RG + _APPS, list_apps),
        Url("containerapps.list_revisions", "GET", _APP + "/revisions", list_revisions),
        Url(
            "containerapps.restart_revision", "POST", _APP + r"/revisions/(?P<revision>[^/]+)/restart", restart_revision
        ),
    ),
    frozenset({"2024-03-01"}),
)
