"""The Azure clouds a vault can live in, recognised by the vault's DNS suffix.

An event's vault URL decides the cloud, so the ARM endpoint, Storage and Cosmos DB
suffixes always match the vault's cloud; a host outside these suffixes is refused
before any token is sent to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rotators.core.errors import BadRequest
from rotators.core.parsing import PRINTABLE_ASCII, is_vault_name, shown


@dataclass(frozen=True)
class Cloud:
    name: str
    vault_suffix: str
    arm_endpoint: str
    storage_suffix: str
    cosmos_suffix: str
    # App Configuration stores: https://<store>.<suffix> (the national clouds' App Configuration docs).
    appconfig_suffix: str


PUBLIC = Cloud(
    "AzureCloud",
    "vault.azure.net",
    "https://management.azure.com",
    "core.windows.net",
    "documents.azure.com",
    "azconfig.io",
)
CLOUDS = (
    PUBLIC,
    Cloud(
        "AzureChinaCloud",
        "vault.azure.cn",
        "https://management.chinacloudapi.cn",
        "core.chinacloudapi.cn",
        "documents.azure.cn",
        "azconfig.azure.cn",
    ),
    Cloud(
        "AzureUSGovernment",
        "vault.usgovcloudapi.net",
        "https://management.usgovcloudapi.net",
        "core.usgovcloudapi.net",
        "documents.azure.us",
        "azconfig.azure.us",
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
