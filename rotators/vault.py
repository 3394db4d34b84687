"""Key Vault adapter: read the current version of a secret, write the next one, list the enrolled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from rotators import clients
from rotators.clouds import VaultAddress
from rotators.errors import BadRequest, SecretNotFound
from rotators.plan import SecretVersionInfo
from rotators.upstream import calling

if TYPE_CHECKING:
    from azure.keyvault.secrets import SecretProperties

_SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def check_secret_name(name: object) -> str:
    if not isinstance(name, str) or not _SECRET_NAME.match(name.strip()):
        raise BadRequest(f"Secret name {name!r} is invalid: 1-127 letters, digits and hyphens.")
    return name.strip()


def read_current(vault: VaultAddress, name: str) -> SecretVersionInfo:
    with calling(
        f"Read secret {name} in {vault.name}",
        not_found=lambda: SecretNotFound(f"Secret '{name}' was not found in vault '{vault.name}'."),
    ):
        secret = clients.secret_client(vault.url).get_secret(name)
    return _info(name, secret.properties)


def write_version(
    vault: VaultAddress, name: str, value: str, *, tags: dict[str, str], content_type: str | None, expires_on: datetime
) -> SecretVersionInfo:
    with calling(f"Write a new version of secret {name} in {vault.name}"):
        secret = clients.secret_client(vault.url).set_secret(
            name, value, tags=tags, content_type=content_type, expires_on=expires_on, enabled=True
        )
    return _info(name, secret.properties)


def list_secrets(vault: VaultAddress) -> Iterator[SecretVersionInfo]:
    """Every secret's current version properties, following ``nextLink`` through large vaults."""
    with calling(f"List secrets in {vault.name}"):
        for properties in clients.secret_client(vault.url).list_properties_of_secrets():
            yield _info(properties.name, properties)


def _info(name: str, properties: SecretProperties) -> SecretVersionInfo:
    return SecretVersionInfo(
        name=properties.name or name,
        version=properties.version or "",
        created_on=properties.created_on,
        expires_on=properties.expires_on,
        tags=dict(properties.tags or {}),
        content_type=properties.content_type,
    )
