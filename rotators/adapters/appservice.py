"""App Service and Function apps that read a secret: refresh their Key Vault references, read their status.

Refresh is Microsoft's documented nudge ("Use Key Vault references as app settings", rotation:
``POST <app ID>/config/configreferences/appsettings/refresh``); no refresh is documented for
connection strings. The status is ``GET <app ID>/config/configreferences/appsettings``
(``WebApps_GetAppSettingsKeyVaultReferences``, spec example
``Microsoft.Web/stable/2023-12-01/examples/GetKeyVaultReferencesForAppSettings.json``) and
``.../configreferences/connectionstrings`` (``WebApps_GetSiteConnectionStringKeyVaultReferences``),
slots alike. An app whose references say no version is confirmed by its managed identity's reads
in Key Vault's audit trail: its principal ID is the site's ``identity.principalId``
(``WebApps_Get``/``WebApps_GetSlot``, the ``ManagedServiceIdentity`` of the ``Site`` definition).
Discovery lists the apps of a subscription or group (``WebApps_List``, ``WebApps_ListByResourceGroup``)
and their slots (``WebApps_ListSlots``). The SDK (azure-mgmt-web) is imported on first use.
"""

from __future__ import annotations

from typing import Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import Cloud
from rotators.core.consumers import Consumer, Reference

API_VERSION = "2023-12-01"  # GA, with the references' status and activeVersion
ROLE = "the Key Vault Reference Reader role on the app (infra/modules/consumer-refresher.json)"
# Microsoft publishes no action for the refresh, so the deployment's role cannot hold it; ARM's 403
# names the one it checked, and the message says to grant it (rotators/adapters/upstream.py).
REFRESH_ROLE = "a role with the refresh's action on the app (the Key Vault Reference Reader role has none)"


def _client(subscription: str, cloud: Cloud) -> Any:
    return clients.management_client("azure.mgmt.web:WebSiteManagementClient", API_VERSION, subscription, cloud)


def _app_id(consumer: Consumer, subscription: str) -> str:
    """The app's ID with every name percent-encoded, as the SDK's own operations send them (a resource
    group may hold letters beyond ASCII, and parentheses)."""
    from urllib.parse import quote

    group = f"/subscriptions/{quote(subscription, safe='')}/resourceGroups/{quote(consumer.resource_group, safe='')}"
    return f"{group}/providers/Microsoft.Web/sites/{quote(consumer.app, safe='')}" + (
        f"/slots/{quote(consumer.slot, safe='')}" if consumer.slot else ""
    )


def refresh(consumer: Consumer, subscription: str, cloud: Cloud) -> None:
    from azure.core.rest import HttpRequest

    url = f"{cloud.arm_endpoint}{_app_id(consumer, subscription)}/config/configreferences/appsettings/refresh"
    with calling(f"Refresh the Key Vault references of {consumer}", role=REFRESH_ROLE):
        response = _client(subscription, cloud).send_request(
            HttpRequest("POST", url, params={"api-version": API_VERSION}, json={})
        )
        response.raise_for_status()


def references(consumer: Consumer, subscription: str, cloud: Cloud) -> list[Reference]:
    """The app's Key Vault references: its app settings', then its connection strings'."""
    operations = _client(subscription, cloud).web_apps
    group, app, slot = consumer.resource_group, consumer.app, consumer.slot
    with calling(f"Read the Key Vault references of {consumer}", role=ROLE):
        if slot:
            settings = operations.get_app_settings_key_vault_references_slot(group, app, slot)
            strings = operations.get_site_connection_string_key_vault_references_slot(group, app, slot)
        else:
            settings = operations.get_app_settings_key_vault_references(group, app)
            strings = operations.get_site_connection_string_key_vault_references(group, app)
        return [_reference(item) for item in settings] + [_reference(item, "connection string ") for item in strings]


def principal(consumer: Consumer, subscription: str, cloud: Cloud) -> str | None:
    """The object ID of the identity that resolves the app's Key Vault references (``None``: it has none).

    That is the one ``keyVaultReferenceIdentity`` names: the system-assigned identity by default, or a
    user-assigned one by its resource ID ("Use Key Vault references as app settings in Azure App Service").
    """
    operations = _client(subscription, cloud).web_apps
    group, app, slot = consumer.resource_group, consumer.app, consumer.slot
    with calling(f"Read the managed identity of {consumer}", role=ROLE):
        site = operations.get_slot(group, app, slot) if slot else operations.get(group, app)
    identity = getattr(site, "identity", None)
    chosen = str(getattr(site, "key_vault_reference_identity", None) or "SystemAssigned")
    if chosen.lower() == "systemassigned":
        found = getattr(identity, "principal_id", None)
    else:
        assigned = {str(k).lower(): v for k, v in (getattr(identity, "user_assigned_identities", None) or {}).items()}
        found = getattr(assigned.get(chosen.lower()), "principal_id", None)
    return str(found).lower() if found else None


def apps(subscription: str, cloud: Cloud, resource_group: str | None = None) -> list[Consumer]:
    """Every App Service and Function app of a subscription (or one group), with its slots."""
    operations = _client(subscription, cloud).web_apps
    where = f"resource group {resource_group}" if resource_group else f"subscription {subscription}"
    found = []
    with calling(f"List the apps of {where}", role="Reader on the scope"):
        sites = operations.list_by_resource_group(resource_group) if resource_group else operations.list()
        for site in sites:
            group = str(site.id).split("/")[4]
            found.append(Consumer(group, str(site.name)))
            found.extend(
                Consumer(group, str(site.name), str(slot.name).rsplit("/", 1)[-1])
                for slot in operations.list_slots(group, site.name)
            )
    return found


def _reference(item: Any, prefix: str = "") -> Reference:
    properties = item.properties
    status = getattr(properties, "status", None)
    return Reference(
        setting=prefix + str(item.name or "").rsplit("/", 1)[-1],
        status=str(getattr(status, "value", status) or ""),
        vault_name=str(properties.vault_name or ""),
        secret_name=str(properties.secret_name or ""),
        secret_version=properties.secret_version,
        active_version=properties.active_version,
    )
