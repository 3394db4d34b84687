"""Container Apps whose secrets reference Key Vault (``keyVaultUrl``): read them, restart their active revisions.

The operations of Microsoft.App (REST spec, api-version 2024-03-01): ``ContainerApps_Get`` (spec example
``ContainerApps_Get.json``: ``properties.configuration.secrets`` as ``{name, keyVaultUrl, identity}``, never
a value: the values come only from ``listSecrets``, which the product never calls),
``ContainerApps_ListBySubscription``/``ListByResourceGroup`` for discovery,
``ContainerAppsRevisions_ListRevisions`` (``properties.active``), ``ContainerAppsRevisions_RestartRevision``
(``POST .../revisions/{revision}/restart``) and ``ContainerAppsRevisionReplicas_ListReplicas``
(``GET .../revisions/{revision}/replicas``: ``properties.createdTime``, "when the pod was created by
controller"). Microsoft's "Manage secrets in Azure Container Apps" says a Key Vault reference picks up a
new version within 30 minutes, that a revision restart fetches it at once, and that an updated secret
does not affect existing revisions: which value running replicas hold is nowhere reported, so a container
app confirms only when the audit trail shows its identities read the current version before every replica
of its active revisions was created (:func:`rotators.core.audit.judge_replicas`). The calls go through the
ARM pipeline every client has (:func:`rotators.adapters.clients.arm_send`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import Cloud
from rotators.core.consumers import Consumer, ConsumerKind, ContainerSecret

API_VERSION = "2024-03-01"
ROLE = "the Container App Revision Restarter role on the app (infra/modules/consumer-containerapp.json)"
_PROVIDER = "providers/Microsoft.App/containerApps"


@dataclass(frozen=True)
class ContainerApp:
    secrets: tuple[ContainerSecret, ...]
    system_principal: str | None = None  # identity.principalId
    user_principals: Mapping[str, str] = field(default_factory=dict)  # resource ID (lower case) -> principalId

    def principal_of(self, secret: ContainerSecret) -> str | None:
        """The object ID of the identity a secret is read as (``"system"`` or a user-assigned identity's resource ID;
        ``None`` when it names none the app has)."""
        identity = (secret.identity or "").lower()
        return self.system_principal if identity == "system" else self.user_principals.get(identity)


def _app_path(consumer: Consumer, subscription: str) -> str:
    return f"{clients.arm_scope(subscription, consumer.resource_group)}/{_PROVIDER}/{quote(consumer.app, safe='')}"


def read(consumer: Consumer, subscription: str, cloud: Cloud) -> ContainerApp:
    with calling(f"Read container app {consumer}", role=ROLE):
        return _container_app(clients.arm_call(cloud, "GET", _app_path(consumer, subscription), API_VERSION))


def restart(consumer: Consumer, subscription: str, cloud: Cloud) -> int:
    """Restart each active revision once (no SDK retry); returns how many were restarted."""
    restarted = 0
    with calling(f"Restart the active revisions of container app {consumer}", role=ROLE):
        for revision_path in _active_revisions(consumer, subscription, cloud):
            clients.arm_call(
                cloud, "POST", f"{revision_path}/restart", API_VERSION, accept=(200, 202, 204), retry_total=0
            )
            restarted += 1
    return restarted


def replicas_created(consumer: Consumer, subscription: str, cloud: Cloud) -> tuple[datetime | None, ...]:
    """When each replica of each active revision was created (``None``: it says not)."""
    with calling(f"List the replicas of the active revisions of container app {consumer}", role=ROLE):
        return tuple(
            _created(replica)
            for revision_path in _active_revisions(consumer, subscription, cloud)
            for replica in clients.arm_items(cloud, f"{revision_path}/replicas", API_VERSION)
        )


def _active_revisions(consumer: Consumer, subscription: str, cloud: Cloud) -> Iterator[str]:
    """The ARM path of each active revision (``properties.active``)."""
    path = _app_path(consumer, subscription)
    for revision in clients.arm_items(cloud, f"{path}/revisions", API_VERSION):
        if (revision.get("properties") or {}).get("active"):
            yield f"{path}/revisions/{quote(str(revision.get('name') or ''), safe='')}"


def _created(replica: dict[str, Any]) -> datetime | None:
    return clients.arm_time((replica.get("properties") or {}).get("createdTime"))


def apps(subscription: str, cloud: Cloud, resource_group: str | None = None) -> list[tuple[Consumer, ContainerApp]]:
    """Every container app of a subscription (or one group), with its secrets."""
    scope = clients.arm_scope(subscription, resource_group)
    with calling(f"List the container apps of {scope}", role="Reader on the scope"):
        listed = [
            (clients.listed_group(item), item) for item in clients.arm_items(cloud, f"{scope}/{_PROVIDER}", API_VERSION)
        ]
        return [
            (Consumer(group, str(item["name"]), kind=ConsumerKind.CONTAINER_APP), _container_app(item))
            for group, item in listed
            if group is not None and item.get("name")
        ]


def _container_app(item: Any) -> ContainerApp:
    properties = (item or {}).get("properties") or {}
    configuration = properties.get("configuration") or {}
    secrets = tuple(
        ContainerSecret(str(s.get("name") or ""), s.get("keyVaultUrl"), s.get("identity"))
        for s in configuration.get("secrets") or []
        if isinstance(s, dict)
    )
    identity = (item or {}).get("identity") or {}
    assigned = identity.get("userAssignedIdentities") or {}
    users = {
        str(rid).lower(): str(value["principalId"]).lower()
        for rid, value in assigned.items()
        if isinstance(value, dict) and isinstance(value.get("principalId"), str)
    }
    system = identity.get("principalId")
    return ContainerApp(secrets, system.lower() if isinstance(system, str) else None, users)
