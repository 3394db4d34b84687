"""App Service and Function apps that read a secret: refresh their Key Vault references, read their status.

Refresh is Microsoft's documented nudge ("Use Key Vault references as app settings", rotation:
``POST <app ID>/config/configreferences/appsettings/refresh``); the status is
``GET <app ID>/config/configreferences/appsettings`` (``WebApps_GetAppSettingsKeyVaultReferences``,
spec example ``Microsoft.Web/stable/2023-12-01/examples/GetKeyVaultReferencesForAppSettings.json``),
slots alike. The SDK (azure-mgmt-web) is imported on first use.
"""

from __future__ import annotations

from typing import Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import Cloud
from rotators.core.consumers import Consumer, Reference

API_VERSION = "2023-12-01"  # GA, with the references' status and activeVersion
ROLE = "the 'App Service Key Vault Reference Refresher' role on the app"


def _client(subscription: str, cloud: Cloud) -> Any:
    return clients.management_client("azure.mgmt.web:WebSiteManagementClient", API_VERSION, subscription, cloud)


def _app_id(consumer: Consumer, subscription: str) -> str:
    group = f"/subscriptions/{subscription}/resourceGroups/{consumer.resource_group}"
    return f"{group}/providers/Microsoft.Web/sites/{consumer.app}" + (
        f"/slots/{consumer.slot}" if consumer.slot else ""
    )


def refresh(consumer: Consumer, subscription: str, cloud: Cloud) -> None:
    from azure.core.rest import HttpRequest

    url = f"{cloud.arm_endpoint}{_app_id(consumer, subscription)}/config/configreferences/appsettings/refresh"
    with calling(f"Refresh the Key Vault references of {consumer}", role=ROLE):
        response = _client(subscription, cloud).send_request(
            HttpRequest("POST", url, params={"api-version": API_VERSION}, json={})
        )
        response.raise_for_status()


def references(consumer: Consumer, subscription: str, cloud: Cloud) -> list[Reference]:
    operations = _client(subscription, cloud).web_apps
    with calling(f"Read the Key Vault references of {consumer}", role=ROLE):
        if consumer.slot:
            listed = operations.get_app_settings_key_vault_references_slot(
                consumer.resource_group, consumer.app, consumer.slot
            )
        else:
            listed = operations.get_app_settings_key_vault_references(consumer.resource_group, consumer.app)
        return [_reference(item) for item in listed]


def _reference(item: Any) -> Reference:
    properties = item.properties
    status = getattr(properties, "status", None)
    return Reference(
        setting=str(item.name or "").rsplit("/", 1)[-1],
        status=str(getattr(status, "value", status) or ""),
        vault_name=str(properties.vault_name or ""),
        secret_name=str(properties.secret_name or ""),
        secret_version=properties.secret_version,
        active_version=properties.active_version,
    )
