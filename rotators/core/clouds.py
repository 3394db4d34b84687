"""The Azure clouds a vault can live in, recognised by the vault's DNS suffix.

An event's vault URL decides the cloud, so the ARM endpoint, Storage and Cosmos DB
suffixes always match the vault's cloud; a host outside these suffixes is refused
before any token is sent to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rotators.core.errors import BadRequest


@dataclass(frozen=True)
class Cloud:
    name: str
    vault_suffix: str
    arm_endpoint: str
    storage_suffix: str
    cosmos_suffix: str


PUBLIC = Cloud(
    "AzureCloud", "vault.azure.net", "https://management.azure.com", "core.windows.net", "documents.azure.com"
)
CLOUDS = (
    PUBLIC,
    Cloud(
        "AzureChinaCloud",
        "vault.azure.cn",
        "https://management.chinacloudapi.cn",
        "core.chinacloudapi.cn",
        "documents.azure.cn",
    ),
    Cloud(
        "AzureUSGovernment",
        "vault.usgovcloudapi.net",
        "https://management.usgovcloudapi.net",
        "core.usgovcloudapi.net",
        "documents.azure.us",
    ),
)


@dataclass(frozen=True)
class VaultAddress:
    url: str
    name: str
    cloud: Cloud

    @classmethod
    def from_url(cls, url: str) -> VaultAddress:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        name, _, suffix = host.partition(".")
        for cloud in CLOUDS:
            if parts.scheme == "https" and suffix == cloud.vault_suffix and _valid_vault_name(name):
                return cls(f"https://{host}", name, cloud)
        raise BadRequest(
            f"'{url}' is not a Key Vault URL (https://<vault>.{PUBLIC.vault_suffix} or a sovereign cloud's)."
        )

    @classmethod
    def from_name(cls, name: str) -> VaultAddress:
        if not isinstance(name, str) or not _valid_vault_name(name.strip().lower()):
            raise BadRequest(f"Vault name {name!r} is invalid: 3-24 letters, digits and hyphens.")
        return cls.from_url(f"https://{name.strip().lower()}.{PUBLIC.vault_suffix}")


def _valid_vault_name(name: str) -> bool:
    return 3 <= len(name) <= 24 and name[0].isalpha() and all(c.isalnum() or c == "-" for c in name)
