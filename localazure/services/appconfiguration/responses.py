"""Configuration store GET, listKeys and regenerateKey, as the spec examples show them.

``ConfigurationStoresGet.json`` (2024-06-01: ``endpoint``, ``disableLocalAuth``),
``ConfigurationStoresListKeys.json`` (one page of four ``ApiKey``s: ``id``, ``name``, ``value``,
``connectionString``, ``lastModified``, ``readOnly``) and ``ConfigurationStoresRegenerateKey.json``
(body ``{"id"}``, 200 with the one regenerated ``ApiKey``). With local authentication off the
keys are deleted (Microsoft's "Disable access key authentication" doc): the list is empty.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.appconfiguration.models import ConfigurationStore
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.appconfiguration.models import AppConfigurationBackend


def _store(backend: AppConfigurationBackend, match: re.Match[str]) -> ConfigurationStore:
    return backend.cloud.arm.find(backend.items, match, ConfigurationStore.provider)


def _api_key(store: ConfigurationStore, name: str) -> dict:
    key_id, value = store.ids[name], store.keys[name]
    return {
        "id": key_id,
        "name": name,
        "value": value,
        "connectionString": f"Endpoint=https://{store.name}.azconfig.io;Id={key_id};Secret={value}",
        "lastModified": store.modified[name],
        "readOnly": "Read Only" in name,
    }


def get_store(backend: AppConfigurationBackend, request: Request, match: re.Match[str]) -> Response:
    store = _store(backend, match)
    return Response(
        200,
        {
            "id": store.id,
            "name": store.name,
            "type": "Microsoft.AppConfiguration/configurationStores",
            "location": store.location,
            "sku": {"name": "Standard"},
            "properties": {
                "provisioningState": "Succeeded",
                "endpoint": f"https://{store.name}.azconfig.io",
                "disableLocalAuth": store.keys_off,
            },
        },
    )


def list_keys(backend: AppConfigurationBackend, request: Request, match: re.Match[str]) -> Response:
    store = _store(backend, match)
    return Response(200, {"value": [] if store.keys_off else [_api_key(store, name) for name in store.keys]})


def regenerate_key(backend: AppConfigurationBackend, request: Request, match: re.Match[str]) -> Response:
    store = _store(backend, match)
    wanted = (request.json() or {}).get("id")
    name = next((name for name, key_id in store.ids.items() if key_id == wanted), None)
    if name is None or store.keys_off:
        raise ApiError(400, "InvalidRequestContent", f"The key id '{wanted}' is not a key of the store.")
    store.regenerate(name, new_id=backend.ids_change)
    return Response(200, _api_key(store, name))
