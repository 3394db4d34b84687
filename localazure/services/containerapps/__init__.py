"""Microsoft.App container apps behind ARM: secrets that reference Key Vault, revisions and their restart.

As the REST spec (api-version 2024-03-01) and its examples show them: ``ContainerApps_Get``
(``ContainerApps_Get.json``: ``identity`` ``{type, principalId, userAssignedIdentities}``,
``properties.configuration.secrets`` as ``{name, keyVaultUrl, identity}`` with no value),
``ContainerApps_ListBySubscription``/``ListByResourceGroup``, ``ContainerAppsRevisions_ListRevisions``
(``properties.active``), ``ContainerAppsRevisions_RestartRevision`` (200, empty) and
``ContainerAppsRevisionReplicas_ListReplicas`` (``{value: [Replica]}``, each with ``properties.createdTime``,
"Timestamp describing when the pod was created by controller", and ``runningState``: the ``Replica`` model
of the spec). Microsoft's "Manage
secrets in Azure Container Apps": a Key Vault reference picks up a new version within 30 minutes, and a
revision restart fetches it at once; each fetch is a ``SecretGet`` by the secret's identity in the vault's
audit trail (``cloud.loganalytics``). The same page: "An updated or deleted secret doesn't automatically
affect existing revisions in your app": the platform's fetch says nothing of what running replicas hold;
"Restart an existing revision" is its way to use the new value, so a restart replaces the revision's
replicas with new ones (new ``createdTime``). Here the platform's fetch comes every ``fetch_every`` seconds
on this backend's clock (``advance``); Microsoft gives only the 30-minute bound. Whether a restart's read
comes before its new replicas are created or after is not documented: ``read_before_replicas`` says which
(the product confirms only in the first case, and is safe in both).
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
class Replica:
    name: str
    created: datetime | None  # None: the answer carries no createdTime


@dataclass
class ContainerApp:
    subscription: str
    resource_group: str
    name: str
    secrets: dict[str, str]  # secret name -> keyVaultUrl
    principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identities: dict[str, str] = field(default_factory=dict)  # secret name -> user-assigned identity's resource ID
    user_assigned: dict[str, str] = field(default_factory=dict)  # user-assigned resource ID -> principalId
    revisions: dict[str, bool] = field(default_factory=dict)  # revision name -> active
    replicas: dict[str, list[Replica]] = field(default_factory=dict)  # revision name -> its replicas
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
        self.read_before_replicas = True

    def create(
        self,
        name: str,
        secrets: dict[str, str],
        *,
        resource_group: str = "rg-apps",
        subscription: str = DEFAULT_SUBSCRIPTION,
        identities: dict[str, str] | None = None,
    ) -> ContainerApp:
        """An app whose secrets are read as its system identity, or as the user-assigned identity (a resource ID)
        ``identities`` names for them."""
        app = ContainerApp(subscription, resource_group, name, dict(secrets), identities=dict(identities or {}))
        app.user_assigned = {rid: str(uuid.uuid4()) for rid in sorted(set(app.identities.values()))}
        app.revisions = {f"{name}--old1": False, f"{name}--cur2": True}  # one inactive, one active
        app.replicas = {revision: self._replicas(revision) for revision, active in app.revisions.items() if active}
        with self.cloud.lock:
            self.apps[name.lower()] = app
            self.cloud.arm.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
            self.fetch(app)
        return app

    def _replicas(self, revision: str) -> list[Replica]:
        return [Replica(f"{revision}-5d9774cff-{uuid.uuid4().hex[:5]}", self.now())]

    def restart(self, app: ContainerApp, revision: str) -> None:
        """The platform reads the secrets again and the revision runs new replicas (in ``read_before_replicas``
        order)."""
        if not self.read_before_replicas:
            app.replicas[revision] = self._replicas(revision)
        self.fetch(app)
        if self.read_before_replicas:
            app.replicas[revision] = self._replicas(revision)

    def fetch(self, app: ContainerApp) -> None:
        """The platform reads each referenced secret, as the identity the secret names (running replicas keep their
        value)."""
        app.fetched_at = self.now()
        for secret, url in app.secrets.items():
            match = _URL.fullmatch(url)
            if match is None or match["vault"].lower() not in self.cloud.keyvault.vaults:
                continue
            versions = self.cloud.keyvault.secret_versions(match["vault"], match["secret"])
            if versions:
                version = match["version"] or versions[-1].version
                principal = app.user_assigned.get(app.identities.get(secret, ""), app.principal_id)
                self.cloud.loganalytics.secret_get(
                    principal, match["vault"], match["secret"], version, versionless=not match["version"]
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
    secrets = [
        {"name": name, "keyVaultUrl": url, "identity": app.identities.get(name, "System")}
        for name, url in app.secrets.items()
    ]
    identity: dict[str, object] = {
        "type": "SystemAssigned,UserAssigned" if app.user_assigned else "SystemAssigned",
        "principalId": app.principal_id,
        "tenantId": str(uuid.UUID(int=0)),
    }
    if app.user_assigned:
        identity["userAssignedIdentities"] = {
            rid: {"principalId": principal, "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid))}
            for rid, principal in app.user_assigned.items()
        }
    return {
        "id": app.id,
        "name": app.name,
        "type": _PROVIDER,
        "location": "East US",
        "identity": identity,
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
    backend.restart(app, unquote(match["revision"]))
    return Response(200, None)


def list_replicas(backend: ContainerAppsBackend, request: Request, match: re.Match[str]) -> Response:
    app = _app(backend, match)
    revision = unquote(match["revision"])
    if revision not in app.revisions:
        raise ApiError(404, "ContainerAppRevisionNotFound", "Revision not found.")
    replicas = [
        {
            "id": f"{app.id}/revisions/{revision}/replicas/{replica.name}",
            "name": replica.name,
            "type": f"{_PROVIDER}/revisions/replicas",
            "properties": {"runningState": "Running", "containers": []}
            | ({"createdTime": replica.created.isoformat().replace("+00:00", "Z")} if replica.created else {}),
        }
        for replica in app.replicas.get(revision, [])
    ]
    return Response(200, {"value": replicas})


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
        Url("containerapps.list_replicas", "GET", _APP + r"/revisions/(?P<revision>[^/]+)/replicas", list_replicas),
    ),
    frozenset({"2024-03-01"}),
)
