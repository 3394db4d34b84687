"""Onboarding: write a secret's first tagged version from the resource's current key."""

from __future__ import annotations

from datetime import datetime, timezone

from rotators.adapters import vault
from rotators.core.clouds import VaultAddress
from rotators.core.contract import (
    CREDENTIAL_ID,
    PROVIDER_ADDRESS,
    VALIDITY_PERIOD_DAYS,
    VALUE_FORMAT,
    ValueFormat,
    read_contract,
    secret_value,
)
from rotators.core.records import SecretVersionInfo
from rotators.core.settings import get_settings


def enroll(
    address: VaultAddress,
    secret_name: str,
    resource_id: str,
    *,
    credential: str = "key1",
    validity_days: int = 90,
    value_format: str = ValueFormat.KEY.value,
    content_type: str | None = None,
) -> SecretVersionInfo:
    get_settings().check_vault(address)
    tags = {CREDENTIAL_ID: credential, PROVIDER_ADDRESS: resource_id, VALIDITY_PERIOD_DAYS: str(validity_days)}
    if value_format.lower() != ValueFormat.KEY.value.lower():
        tags[VALUE_FORMAT] = value_format
    contract = read_contract(tags, address.cloud)
    tags[CREDENTIAL_ID] = contract.credential.tag
    key_value = contract.kind.read_key(contract.resource, contract.credential.key)
    return vault.write_version(
        address,
        secret_name,
        secret_value(contract, key_value),
        tags=tags,
        content_type=content_type,
        expires_on=datetime.now(timezone.utc) + contract.validity,
    )
