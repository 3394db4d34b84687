"""App Configuration stores that hold a Key Vault reference to a secret: their sentinel key.

Apps that read a store through the App Configuration provider reload everything, Key Vault
references included, when a registered sentinel key changes ("Use dynamic configuration":
``Register("Sentinel", refreshAll: true)``). So after a rotation the sentinel
(``ROTATION_APPCONFIG_SENTINEL``, label empty) is set with the azure-appconfiguration SDK and the
managed identity (Entra ID tokens for the audience ``https://azconfig.io``; the role App
Configuration Data Owner on the store). Its value names the version written, never a key.

The endpoint is ``https://<store>.<cloud's App Configuration suffix>``; the SDK is imported on
first use and pinned to the GA api-version 2023-11-01, which every cloud serves.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import Cloud
from rotators.core.consumers import Consumer

if TYPE_CHECKING:
    from azure.appconfiguration import AzureAppConfigurationClient

API_VERSION = "2023-11-01"
ROLE = "the App Configuration Data Owner role on the store"


def client_options(*, retries: int = 3) -> dict[str, Any]:
    """This client sets per-call policies of its own and refuses a second list, so the trigger's deadline
    bounds it from the retry policy (the whole call) and a per-try policy (each attempt's timeouts)."""
    from rotators.adapters.bounds import DeadlinePolicy, DeadlineRetryPolicy

    options = clients.client_options()
    options.pop("per_call_policies")
    transport = clients.transport_options()
    retry = DeadlineRetryPolicy(**{**transport, "retry_total": retries, "timeout": options["timeout"]})
    per_try = DeadlinePolicy(
        read_timeout=transport["read_timeout"], connection_timeout=transport["connection_timeout"], per_try=True
    )
    return {**options, "retry_policy": retry, "per_retry_policies": [per_try], "api_version": API_VERSION}


@functools.cache
def _client(store: str, cloud: Cloud) -> AzureAppConfigurationClient:
    from azure.appconfiguration import AzureAppConfigurationClient

    endpoint = f"https://{store.lower()}.{cloud.appconfig_suffix}"
    return AzureAppConfigurationClient(endpoint, clients.credential(), **client_options())


def set_sentinel(consumer: Consumer, cloud: Cloud, key: str, value: str) -> None:
    from azure.appconfiguration import ConfigurationSetting

    with calling(f"Set the sentinel {key} of App Configuration store {consumer.app}", role=ROLE):
        _client(consumer.app, cloud).set_configuration_setting(ConfigurationSetting(key=key, label=None, value=value))


def sentinel_set_at(consumer: Consumer, cloud: Cloud, key: str) -> datetime | None:
    """When the sentinel was last set (``None``: never)."""
    from azure.core.exceptions import ResourceNotFoundError

    with calling(f"Read the sentinel {key} of App Configuration store {consumer.app}", role=ROLE):
        try:
            setting = _client(consumer.app, cloud).get_configuration_setting(key, label=None)
        except ResourceNotFoundError:
            return None
        return setting.last_modified if setting is not None else None
