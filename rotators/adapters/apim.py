"""API Management named values that reference a secret: refresh them, read their status, find them.

The operations of Microsoft.ApiManagement ``namedValues`` (REST spec, api-version 2022-08-01, which every
cloud serves): ``NamedValue_Get`` (``GET .../service/{service}/namedValues/{id}``: ``properties.keyVault``
with ``secretIdentifier`` and ``lastStatus`` ``{code, timeStampUtc}``, spec example
``ApiManagementGetNamedValueWithKeyVault.json``), ``NamedValue_RefreshSecret`` (``POST .../refreshSecret``,
long-running: 202 with a ``location``, spec example ``ApiManagementRefreshNamedValue.json``; the refresh is
started once and not followed: its outcome shows in ``lastStatus``), ``NamedValue_ListByService`` and
``ApiManagementService_List``/``ListByResourceGroup`` for discovery (paged with ``nextLink``). No
API Management SDK is a dependency: the calls go through the ARM pipeline every client has
(:func:`rotators.adapters.clients.arm_send`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import Cloud
from rotators.core.consumers import Consumer, ConsumerKind, NamedValue

API_VERSION = "2022-08-01"
ROLE = "the API Management Named Value Refresher role on the service (infra/modules/consumer-apim.json)"
_PROVIDER = "providers/Microsoft.ApiManagement/service"


def _service_path(subscription: str, group: str, service: str) -> str:
    return f"{clients.arm_scope(subscription, group)}/{_PROVIDER}/{quote(service, safe='')}"


def _named_value_path(consumer: Consumer, subscription: str) -> str:
    service = _service_path(subscription, consumer.resource_group, consumer.app)
    return f"{service}/namedValues/{quote(consumer.slot or '', safe='')}"


def refresh(consumer: Consumer, subscription: str, cloud: Cloud) -> None:
    """Start the named value's refresh from Key Vault, once (no SDK retry); its result shows in ``lastStatus``."""
    with calling(f"Refresh API Management named value {consumer}", role=ROLE):
        path = _named_value_path(consumer, subscription) + "/refreshSecret"
        clients.arm_call(cloud, "POST", path, API_VERSION, accept=(200, 202), retry_total=0)


def named_value(consumer: Consumer, subscription: str, cloud: Cloud) -> NamedValue:
    with calling(f"Read API Management named value {consumer}", role=ROLE):
        return _named(clients.arm_call(cloud, "GET", _named_value_path(consumer, subscription), API_VERSION))


def named_values(
    subscription: str, cloud: Cloud, resource_group: str | None = None
) -> list[tuple[Consumer, NamedValue]]:
    """Every named value with a Key Vault reference, in every API Management service of a subscription (or group)."""
    scope = clients.arm_scope(subscription, resource_group)
    found = []
    with calling(f"List the API Management named values of {scope}", role="Reader on the scope"):
        for service in clients.arm_items(cloud, f"{scope}/{_PROVIDER}", API_VERSION):
            group, name = clients.listed_group(service), str(service.get("name") or "")
            if group is None or not name:
                continue
            for item in clients.arm_items(
                cloud, _service_path(subscription, group, name) + "/namedValues", API_VERSION
            ):
                named = _named(item)
                if named.secret_identifier:
                    found.append((Consumer(group, name, named.name, kind=ConsumerKind.API_MANAGEMENT), named))
    return found


def _named(item: Any) -> NamedValue:
    properties = (item or {}).get("properties") or {}
    vault = properties.get("keyVault") or {}
    status = vault.get("lastStatus") or {}
    at = status.get("timeStampUtc")
    return NamedValue(
        name=str((item or {}).get("name") or ""),
        secret_identifier=vault.get("secretIdentifier"),
        status_code=status.get("code"),
        status_at=clients.arm_time(at),
    )
