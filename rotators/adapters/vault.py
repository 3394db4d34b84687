"""Key Vault adapter: read the current version of a secret, write the next one, list the enrolled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import VaultAddress
from rotators.core.errors import SecretNotFound, UpstreamError
from rotators.core.records import NewVersion, SecretVersionInfo

if TYPE_CHECKING:
    from azure.core.paging import PageIterator
    from azure.keyvault.secrets import SecretProperties


def read_current(vault: VaultAddress, name: str) -> tuple[SecretVersionInfo, str]:
    """The current version's properties and its value (which only the key checks ever look at)."""
    with calling(
        f"Read secret {name} in {vault}",
        role=_role(vault),
        not_found=lambda: SecretNotFound(f"Secret '{name}' was not found in vault '{vault}'."),
    ):
        secret = clients.secret_client(vault.url).get_secret(name)
    return _info(name, secret.properties), secret.value or ""


def write_version(vault: VaultAddress, version: NewVersion, value: str) -> SecretVersionInfo:
    """Write ``version`` holding ``value``, enabled."""
    name = version.name
    with calling(f"Write a new version of secret {name} in {vault}", role=_role(vault)):
        secret = clients.secret_client(vault.url).set_secret(
            name,
            value,
            tags=version.tags,
            content_type=version.content_type,
            expires_on=version.expires_on,
            enabled=True,
        )
    return _info(name, secret.properties)


def update_tags(vault: VaultAddress, name: str, version: str, tags: dict[str, str]) -> SecretVersionInfo:
    """Replace one version's tags (Key Vault's PATCH replaces the whole set); no new version."""
    with calling(f"Update the tags of secret {name} in {vault}", role=_role(vault)):
        properties = clients.secret_client(vault.url).update_secret_properties(name, version, tags=tags)
    return _info(name, properties)


def disable_version(vault: VaultAddress, name: str, version: str) -> None:
    """Disable one version: Key Vault refuses to read its value from then on (403 SecretDisabled)."""
    with calling(f"Disable version {version} of secret {name} in {vault}", role=_role(vault)):
        clients.secret_client(vault.url).update_secret_properties(name, version, enabled=False)


def list_secrets(vault: VaultAddress) -> Iterator[SecretVersionInfo]:
    """Every secret's current version properties, following ``nextLink`` through large vaults."""
    with calling(f"List secrets in {vault}", role=_role(vault)):
        for properties in clients.secret_client(vault.url).list_properties_of_secrets():
            yield _info(properties.name or "", properties)


def list_secret_pages(
    vault: VaultAddress, page: str | None = None
) -> Iterator[tuple[list[SecretVersionInfo], str | None]]:
    """The listing one page at a time, from its start or from ``page`` (a ``nextLink`` Key Vault gave),
    each with the link to the page after it (``None`` after the last): the sweep's fan-out stops
    between pages and hands the rest of a vault to another message."""
    with calling(f"List secrets in {vault}", role=_role(vault)):
        listing = clients.secret_client(vault.url).list_properties_of_secrets()
        pages = cast("PageIterator[SecretProperties]", listing.by_page(continuation_token=page))
        for items in pages:
            yield [_info(properties.name or "", properties) for properties in items], pages.continuation_token


def _info(name: str, properties: SecretProperties) -> SecretVersionInfo:
    if properties.created_on is None:  # Key Vault stamps every version; an answer without it is not Key Vault's
        raise UpstreamError(f"Key Vault answered for secret {name} without a creation time.")
    return SecretVersionInfo(
        name=properties.name or name,
        version=properties.version or "",
        created_on=properties.created_on,
        expires_on=properties.expires_on,
        tags=dict(properties.tags or {}),
        content_type=properties.content_type,
    )


def _role(vault: VaultAddress) -> str:
    return f"the Key Vault Secrets Rotator role (or Key Vault Secrets Officer) on vault {vault}"


def read_version(vault: VaultAddress, name: str, version: str) -> tuple[SecretVersionInfo, str]:
    """One earlier version's properties and value (a rollback's source)."""
    with calling(
        f"Read version {version} of secret {name} in {vault}",
        role=_role(vault),
        not_found=lambda: SecretNotFound(f"Version '{version}' of secret '{name}' was not found in vault '{vault}'."),
    ):
        secret = clients.secret_client(vault.url).get_secret(name, version)
    return _info(name, secret.properties), secret.value or ""


def list_versions(vault: VaultAddress, name: str) -> list[tuple[SecretVersionInfo, bool]]:
    """Every version of a secret (properties only, never a value) and whether it is enabled."""
    with calling(
        f"List versions of secret {name} in {vault}",
        role=_role(vault),
        not_found=lambda: SecretNotFound(f"Secret '{name}' was not found in vault '{vault}'."),
    ):
        return [
            (_info(name, properties), properties.enabled is not False)
            for properties in clients.secret_client(vault.url).list_properties_of_secret_versions(name)
        ]
