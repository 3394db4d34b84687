"""Azure App Configuration access keys (``Microsoft.AppConfiguration/configurationStores``).

Four keys in two pairs: ``Primary``/``Secondary`` (read-write) and ``Primary Read Only``/
``Secondary Read Only``. ``listKeys`` pages through them with their ``id``, ``value`` and
ready-made ``connectionString`` (spec example ``Microsoft.AppConfiguration/stable/2023-03-01/
examples/ConfigurationStoresListKeys.json``); ``regenerateKey`` takes a key's ``id`` and answers
200 with that one key (``…/stable/2024-06-01/examples/ConfigurationStoresRegenerateKey.json``).
Whether the id survives a regeneration is not documented, so a key is found by name in a fresh
listing every time, never by a remembered id. ``properties.disableLocalAuth`` refuses keys
(and deletes them, Microsoft's "Disable access key authentication" doc).

The connection string embeds the key's id (``Endpoint=https://<store>.azconfig.io;Id=…;Secret=…``),
so it is the one ``listKeys`` returns for the key, not one built around the value.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from rotators.adapters import appconfig, clients
from rotators.adapters.dataplane import testing_key
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, key_in_connection_string
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds.base import Role, arm_call

API_VERSION = "2024-06-01"  # the latest GA and the SDK's default, with disableLocalAuth
PROBE_KEY = "keyrotation-probe"  # a key the test asks for and nobody sets
_NAMES = ("Primary", "Secondary", "Primary Read Only", "Secondary Read Only")


class AppConfigurationKind:
    resource_type = "Microsoft.AppConfiguration/configurationStores"
    display_name = "App Configuration store"
    credentials: Mapping[str, Credential] = {
        **pair("Primary", "Secondary"),
        **pair("Primary Read Only", "Secondary Read Only"),
    }
    passwordless = "Microsoft Entra ID: give the app a managed identity and the 'App Configuration Data Reader' role"
    role = Role(
        "App Configuration Key Rotator",
        (
            "Microsoft.AppConfiguration/configurationStores/read",
            "Microsoft.AppConfiguration/configurationStores/ListKeys/action",
            "Microsoft.AppConfiguration/configurationStores/RegenerateKey/action",
        ),
    )
    has_connection_string = True

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            store = _stores(resource).get(resource.resource_group, resource.name)
        return Description({}, "disableLocalAuth is true" if store.disable_local_auth else None)

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        return {name: str(key.value) for name, key in self._listed(resource).items()}

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        listed = self._listed(resource)
        with arm_call(self, resource, f"Regenerate {key} of"):
            answer = _stores(resource).regenerate_key(
                resource.resource_group,
                resource.name,
                {"id": listed[key].id},
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        if answer.name != key or not answer.value:
            raise UpstreamError(f"Azure answered the regeneration of {key} of {resource.name} with another key.")
        return {**{name: str(k.value) for name, k in listed.items()}, key: str(answer.value)}

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        for key in self._listed(resource).values():
            if hmac.compare_digest(str(key.value).encode(), key_value.encode()) and key.connection_string:
                return str(key.connection_string)
        raise UpstreamError(f"{resource.name} no longer lists the key being written; rotate again.")

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "Secret")

    def verify_key(self, resource: Resource, key: str, value: str, described: Description) -> str | None:
        """List Key-Values for one key that is never set (an empty page), signed with the new key (HMAC).

        Any of the four keys may read (the read-only ones only read). The connection string is
        the store's own, from a fresh listing: it carries the key's id and the store's endpoint.
        A client per test, not cached: it holds the key, which is about to change.
        """
        from azure.appconfiguration import AzureAppConfigurationClient

        connection = self.connection_string(resource, value, described)
        with testing_key(f"Test the new {key} of {resource.name}"):
            options = appconfig.client_options(retries=1)  # a refusal is retried by the verification itself
            client = AzureAppConfigurationClient.from_connection_string(connection, **options)
            next(iter(client.list_configuration_settings(key_filter=PROBE_KEY)), None)
        return None

    def _listed(self, resource: Resource) -> dict[str, Any]:
        with arm_call(self, resource, "List keys of"):
            listed = {str(key.name): key for key in _stores(resource).list_keys(resource.resource_group, resource.name)}
        missing = [name for name in _NAMES if not getattr(listed.get(name), "value", None)]
        if missing:
            raise UpstreamError(f"The App Configuration store's key list lacks {', '.join(missing)}.")
        return listed


def _stores(resource: Resource) -> Any:
    client = clients.management_client(
        "azure.mgmt.appconfiguration:AppConfigurationManagementClient",
        API_VERSION,
        resource.subscription,
        resource.cloud,
    )
    return client.configuration_stores


KIND = AppConfigurationKind()
