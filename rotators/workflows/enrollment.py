"""Onboarding: claim the key pair and write a secret's first tagged version from the resource's current key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from rotators.adapters import lock, vault
from rotators.core.clouds import VaultAddress
from rotators.core.contract import (
    CREDENTIAL_ID,
    PROVIDER_ADDRESS,
    ROTATED_BY,
    VALIDITY_PERIOD_DAYS,
    VALUE_FORMAT,
    ValueFormat,
    locate,
    read_contract,
)
from rotators.core.errors import NotRotatable, SecretNotFound
from rotators.core.records import NewVersion, SecretRef, SecretVersionInfo
from rotators.core.resources import Resource
from rotators.core.settings import get_settings
from rotators.core.verdict import refusal, verdict
from rotators.kinds import KINDS, canonical, entra, inspect, secret_value
from rotators.workflows import claims


@dataclass(frozen=True)
class Enrolment:
    """What a secret is enrolled with: its resource, the key its first version holds (by default the kind's
    first: key1, primary, PrimaryKey, ...), each version's lifetime and the value's format."""

    resource_id: str
    credential: str | None = None
    validity_days: int = 90
    value_format: str = ValueFormat.KEY.value


def enroll(address: VaultAddress, secret_name: str, enrolment: Enrolment) -> SecretVersionInfo:
    """Enrol a secret on a key pair nobody else rotates; refused, with nothing written, otherwise."""
    get_settings().check_vault(address)
    resource_id, credential = enrolment.resource_id, enrolment.credential
    resource, kind = locate(resource_id, address.cloud, KINDS)
    if isinstance(kind, entra.ApplicationPasswords):
        return _adopt_password(address, secret_name, enrolment, kind.read(resource), resource)
    if credential is None:
        credential = next(iter(kind.credentials.values())).tag
    tags = {
        CREDENTIAL_ID: credential,
        PROVIDER_ADDRESS: resource_id,
        VALIDITY_PERIOD_DAYS: str(enrolment.validity_days),
    }
    if enrolment.value_format.lower() != ValueFormat.KEY.value.lower():
        tags[VALUE_FORMAT] = enrolment.value_format
    contract = read_contract(tags, address.cloud, KINDS)
    tags[CREDENTIAL_ID] = contract.credential.tag
    state = inspect(contract)
    if (refused := refusal(verdict(contract, None, state), contract, state, secret_name)) is not None:
        raise refused
    value = secret_value(contract, state.values[contract.credential.key], state)
    me = SecretRef.of(address.url, secret_name)
    with lock.hold(contract.pair_name, holder=str(me)) as lease:
        claims.claim(me, contract, lease, None, save=True)
        lease.ensure_held()
        version = NewVersion(
            secret_name, {**tags, ROTATED_BY: "enroll"}, None, datetime.now(timezone.utc) + contract.validity
        )
        return vault.write_version(address, version, value)


def _adopt_password(
    address: VaultAddress,
    secret_name: str,
    enrolment: Enrolment,
    application: entra.Application,
    resource: Resource,
) -> SecretVersionInfo:
    """Enrol a secret that already holds one of an application's passwords (Graph never returns a password's text
    again, so the secret must hold it first): a new version with the same value, the contract's tags on top of
    its own, and an expiry no later than the password's end."""
    try:
        current, value = vault.read_current(address, secret_name)
    except SecretNotFound:
        raise NotRotatable(
            f"Secret '{secret_name}' was not found in vault '{address}'. Store the application password's text in "
            "it first (az keyvault secret set): Graph never returns a password's text again."
        ) from None
    tags = {
        CREDENTIAL_ID: enrolment.credential or "",
        PROVIDER_ADDRESS: enrolment.resource_id,
        VALIDITY_PERIOD_DAYS: str(enrolment.validity_days),
    }
    held = entra.adopted(application, value, enrolment.credential and enrolment.credential.lower(), resource)
    tags[CREDENTIAL_ID] = held.key_id
    contract = canonical(read_contract(tags, address.cloud, KINDS))
    expires = min(datetime.now(timezone.utc) + contract.validity, held.ends)
    me = SecretRef.of(address.url, secret_name)
    with lock.hold(contract.pair_name, holder=str(me)) as lease:
        claims.claim(me, contract, lease, None, save=True)
        lease.ensure_held()
        version = NewVersion(secret_name, {**current.tags, **tags, ROTATED_BY: "enroll"}, current.content_type, expires)
        return vault.write_version(address, version, value)
