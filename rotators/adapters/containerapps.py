"""Container Apps whose secrets reference Key Vault (``keyVaultUrl``): read them, restart their active revisions.

The operations of Microsoft.App (REST spec, api-version 2024-03-01): ``ContainerApps_Get`` (spec example
``ContainerApps_Get.json``: ``properties.configuration.secrets`` as ``{name, keyVaultUrl, identity}``, never
a value: the values come only from ``listSecrets``, which the product never calls),
``ContainerApps_ListBySubscription``/``ListByResourceGroup`` for discovery,
``ContainerAppsRevisions_ListRevisions`` (``properties.active``) and ``ContainerAppsRevisions_RestartRevision``
(``POST .../revisions/{revision}/restart``). Microsoft's "Manage secrets in Azure Container Apps" says a
Key Vault reference picks up a new version within 30 minutes, that a revision restart fetches it at once,
and that an updated secret does not affect existing revisions: which value running replicas hold is
nowhere reported, so a container app never confirms. The calls go through the ARM pipeline every client
has (:func:`rotators.adapters.clients.arm_send`).
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _app_path(consumer: Consumer, subscription: str) -> str:
    return f"{clients.arm_scope(subscription, consumer.resource_group)}/{_PROVIDER}/{quote(consumer.app, safe='')}"


def read(consumer: Consumer, subscription: str, cloud: Cloud) -> ContainerApp:
    with calling(f"Read container app {consumer}", role=ROLE):
        return _container_app(clients.arm_call(cloud, "GET", _app_path(consumer, subscription), API_VERSION))


def restart(consumer: Consumer, subscription: str, cloud: Cloud) -> int:
    """Restart each active revision once (no SDK retry); returns how many were restarted."""
    path = _app_path(consumer, subscription)
    restarted = 0
    with calling(f"Restart the active revisions of container app {consumer}", role=ROLE):
        for revision in clients.arm_items(cloud, f"{path}/revisions", API_VERSION):
            if (revision.get("properties") or {}).get("active"):
                name = quote(str(revision.get("name") or ""), safe="")
                restart_path = f"{path}/revisions/{name}/restart"
                clients.arm_call(cloud, "POST", restart_path, API_VERSION, accept=(200, 202, 204), retry_total=0)
                restarted += 1
    return restarted


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
    configuration = ((item or {}).get("properties") or {}).get("configuration") or {}
    secrets = tuple(
        ContainerSecret(str(s.get("name") or ""), s.get("keyVaultUrl"))
        for s in configuration.get("secrets") or []
        if isinstance(s, dict)
    )
    return ContainerApp(secrets)
