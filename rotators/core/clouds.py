"""The Azure clouds a vault can live in, recognised by the vault's DNS suffix.

An event's vault URL decides the cloud, so the ARM endpoint and every service host always
match the vault's cloud; a host outside these suffixes is refused before any token is sent to
it. Every host that differs per cloud is a field of :class:`Cloud`, one row per cloud, here and
nowhere else (hosts a resource reports for itself, such as SignalR's ``hostName``, are read
from the resource instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rotators.core.errors import BadRequest
from rotators.core.parsing import PRINTABLE_ASCII, is_vault_name, shown


@dataclass(frozen=True, kw_only=True)
class Cloud:
    """One cloud's endpoints; each ``*_suffix`` follows a resource's name: ``https://<name>.<suffix>``.

    Sources: each service's endpoints in the national clouds' developer guides ("Azure China
    developer guide", "Azure Government developer guide"), and for App Configuration the
    national clouds' App Configuration docs.
    """

    name: str
    vault_suffix: str
    arm_endpoint: str
    storage_suffix: str  # <account>.blob.<suffix>, and EndpointSuffix= in a connection string
    cosmos_suffix: str
    appconfig_suffix: str
    redis_suffix: str
    search_suffix: str
    servicebus_suffix: str  # Service Bus and Event Hubs namespaces alike
    eventgrid_suffix: str  # custom topics: <topic>.<region>-1.<suffix>
    # The Log Analytics query API, and its token audience (azure-monitor-query's README, "sovereign clouds").
    logs_endpoint: str
    # Microsoft Graph and the Entra ID login host its applications sign in at (Graph "National cloud
    # deployments"). US Government L5 (DoD) has its own Graph host, dod-graph.microsoft.us, on the same vault
    # suffix as L4: ROTATION_GRAPH_HOST names it (rotators.core.settings).
    graph_host: str
    login_host: str


PUBLIC = Cloud(
    name="AzureCloud",
    vault_suffix="vault.azure.net",
    arm_endpoint="https://management.azure.com",
    storage_suffix="core.windows.net",
    cosmos_suffix="documents.azure.com",
    appconfig_suffix="azconfig.io",
    redis_suffix="redis.cache.windows.net",
    search_suffix="search.windows.net",
    servicebus_suffix="servicebus.windows.net",
    eventgrid_suffix="eventgrid.azure.net",
    logs_endpoint="https://api.loganalytics.io",
    graph_host="graph.microsoft.com",
    login_host="login.microsoftonline.com",
)
CLOUDS = (
    PUBLIC,
    Cloud(
        name="AzureChinaCloud",
        vault_suffix="vault.azure.cn",
        arm_endpoint="https://management.chinacloudapi.cn",
        storage_suffix="core.chinacloudapi.cn",
        cosmos_suffix="documents.azure.cn",
        appconfig_suffix="azconfig.azure.cn",
        redis_suffix="redis.cache.chinacloudapi.cn",
        search_suffix="search.azure.cn",
        servicebus_suffix="servicebus.chinacloudapi.cn",
        eventgrid_suffix="eventgrid.chinacloudapi.cn",
        logs_endpoint="https://api.loganalytics.azure.cn",
        graph_host="microsoftgraph.chinacloudapi.cn",
        login_host="login.chinacloudapi.cn",
    ),
    Cloud(
        name="AzureUSGovernment",
        vault_suffix="vault.usgovcloudapi.net",
        arm_endpoint="https://management.usgovcloudapi.net",
        storage_suffix="core.usgovcloudapi.net",
        cosmos_suffix="documents.azure.us",
        appconfig_suffix="azconfig.azure.us",
        redis_suffix="redis.cache.usgovcloudapi.net",
        search_suffix="search.azure.us",
        servicebus_suffix="servicebus.usgovcloudapi.net",
        eventgrid_suffix="eventgrid.azure.us",
        logs_endpoint="https://api.loganalytics.us",
        graph_host="graph.microsoft.us",
        login_host="login.microsoftonline.us",
    ),
)


@dataclass(frozen=True)
class VaultAddress:
    """A vault in one cloud: a vault name alone means public Azure, a URL names its cloud."""

    url: str
    name: str
    cloud: Cloud

    @classmethod
    def from_url(cls, url: str, *, allow_path: bool = False) -> VaultAddress:
        """The vault a URL names; only ``https://<vault>.<a cloud's vault suffix>`` with no port, user or query."""
        refused = BadRequest(
            f"{shown(url)} is not a Key Vault URL (https://<vault>.{PUBLIC.vault_suffix} or a sovereign cloud's)."
        )
        if not PRINTABLE_ASCII.fullmatch(url.strip()):  # urllib silently drops tabs and newlines inside a URL
            raise refused
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:  # an authority urllib cannot parse, such as "https://[::1"
            raise refused from None
        host = (parts.hostname or "").lower()
        name, _, suffix = host.partition(".")
        cloud = next((c for c in CLOUDS if suffix == c.vault_suffix), None)
        if (
            cloud is None
            or parts.scheme != "https"
            or not is_vault_name(name)
            or port not in (None, 443)
            or parts.username is not None
            or parts.query
            or parts.fragment
            or (not allow_path and parts.path not in ("", "/"))
        ):
            raise refused
        return cls(f"https://{host}", name, cloud)

    @classmethod
    def from_name(cls, name: object) -> VaultAddress:
        if not isinstance(name, str) or not is_vault_name(name.strip().lower()):
            raise BadRequest(
                f"Vault name {shown(name)} is invalid: 3-24 ASCII letters, digits and single hyphens, "
                "starting with a letter."
            )
        return cls.from_url(f"https://{name.strip().lower()}.{PUBLIC.vault_suffix}")

    @classmethod
    def parse(cls, text: object) -> VaultAddress:
        """A vault name (public Azure) or a vault URL (any cloud), as operators and the allowlist give them."""
        if isinstance(text, str) and "://" in text:
            return cls.from_url(text)
        return cls.from_name(text)

    def __str__(self) -> str:
        return self.name if self.cloud is PUBLIC else self.url
