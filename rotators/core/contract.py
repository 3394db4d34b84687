"""The secret contract: the tags that enrol a secret for rotation, validated into a :class:`Contract`.

The tag names are those of Azure's own rotation samples, so their users switch over
without retagging. Pure: no I/O, no SDK imports. A contract is read against the registry of
kinds the caller passes (:class:`~rotators.core.resources.Kinds`) and holds what it needs of
its kind (:class:`~rotators.core.resources.ContractKind`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

from rotators.core.clouds import Cloud
from rotators.core.consumers import CONSUMERS, Declared, parse_consumers, unplaced
from rotators.core.errors import NotRotatable
from rotators.core.parsing import ascii_int, parse_application_path, parse_resource_id, shown
from rotators.core.records import SecretVersionInfo
from rotators.core.resources import ContractKind, Credential, Kinds, Resource, credential_key

CREDENTIAL_ID = "CredentialId"
PROVIDER_ADDRESS = "ProviderAddress"
VALIDITY_PERIOD_DAYS = "ValidityPeriodDays"
VALUE_FORMAT = "ValueFormat"
CONTRACT_TAGS = (CREDENTIAL_ID, PROVIDER_ADDRESS, VALIDITY_PERIOD_DAYS)
MAX_VALIDITY_DAYS = 3650
# Key Vault sends SecretNearExpiry this long before expiry; not configurable for secrets.
NEAR_EXPIRY_WINDOW = timedelta(days=30)
# Key Vault keeps at most 15 tags on a secret, each name and value up to 512 characters ("About Azure
# Key Vault secrets", Secret tags); a write with more is refused 400 BadParameter "Property has invalid
# value" (hashicorp/terraform-provider-azurerm#16780).
MAX_TAGS = 15


class ValueFormat(enum.Enum):
    KEY = "Key"
    CONNECTION_STRING = "ConnectionString"


@dataclass(frozen=True)
class Contract:
    kind: ContractKind
    resource: Resource
    credential: Credential
    validity: timedelta
    value_format: ValueFormat
    consumers: Declared = field(default_factory=Declared)

    @property
    def alternate(self) -> Credential:
        return self.kind.credentials[credential_key(self.credential.alternate)]

    @property
    def key_pair(self) -> tuple[str, frozenset[str]]:
        """The resource and the two keys this contract rotates between."""
        return self.resource.id.lower(), frozenset({self.credential.key, self.alternate.key})

    @property
    def pair_name(self) -> str:
        """The pair as a blob name: the resource's ID, lower-cased, and its two key names."""
        resource_id, keys = self.key_pair
        return f"{resource_id.lstrip('/')}/{'+'.join(sorted(key.lower() for key in keys))}"

    def held_key(self, value: str) -> str | None:
        """The key a secret value of this contract holds: the value itself, or the key in its connection string."""
        if self.value_format is ValueFormat.CONNECTION_STRING:
            return self.kind.key_in_connection_string(value)
        return value

    def describe_key_pair(self) -> str:
        first, second = sorted((self.credential.tag, self.alternate.tag))
        return f"{first}/{second} pair of {self.resource.name}"

    @property
    def expires_within_near_expiry_window(self) -> bool:
        """True when every new version is already near expiry the moment it is written."""
        return self.validity <= NEAR_EXPIRY_WINDOW


def shared_key_pairs(contracts: Mapping[str, Contract]) -> dict[str, list[str]]:
    """Secrets (by name) whose key pair another secret also rotates, with those others' names.

    Two secrets on one pair would each regenerate the key the other holds, so neither may rotate.
    """
    owners: dict[tuple[str, frozenset[str]], list[str]] = {}
    for name, contract in contracts.items():
        owners.setdefault(contract.key_pair, []).append(name)
    return {
        name: [other for other in names if other != name]
        for names in owners.values()
        if len(names) > 1
        for name in names
    }


def key_pair_conflict(name: str, contract: Contract, others: list[str]) -> str:
    quoted = ", ".join(f"'{other}'" for other in others)
    return (
        f"Secrets '{name}' and {quoted} both rotate the {contract.describe_key_pair()}: rotating one "
        "would regenerate the key the other holds. Keep one secret per key pair."
    )


def enrolled_contracts(secrets: Iterable[SecretVersionInfo], cloud: Cloud, kinds: Kinds) -> dict[str, Contract]:
    """The valid contracts among ``secrets``, by secret name; misconfigured ones are left out."""
    contracts = {}
    for secret in secrets:
        if is_enrolled(secret.tags):
            with suppress(NotRotatable):
                contracts[secret.name] = read_contract(secret.tags, cloud, kinds)
    return contracts


def is_enrolled(tags: Mapping[str, str] | None) -> bool:
    names = {name.lower() for name in tags or {}}
    return any(tag.lower() in names for tag in CONTRACT_TAGS)


def tag_name(tags: Mapping[str, str], wanted: str) -> str:
    """The tag's name as the secret spells it (matching is case-insensitive)."""
    return next((name for name in tags if name.strip().lower() == wanted.lower()), wanted)


def ambiguous_tags(tags: Mapping[str, str]) -> list[str]:
    """Contract tags given twice under spellings that differ only in case or spaces."""
    clashes = []
    for wanted in (*CONTRACT_TAGS, VALUE_FORMAT, CONSUMERS):
        spellings = [name for name in tags if name.strip().lower() == wanted.lower()]
        if len(spellings) > 1:
            clashes.append(" and ".join(repr(name) for name in spellings))
    return clashes


ROTATED_BY = "RotatedBy"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def rotated_by(writer: str, event_id: str | None = None) -> str:
    """The ``RotatedBy`` tag of a version the product writes: the trigger, and the event's id.

    An event id is whatever the publisher sent: only its plain characters are kept, and at
    most 128 of them, so the tag stays well inside Key Vault's 512 characters.
    """
    if not event_id:
        return writer
    kept = "".join(c for c in event_id if c in _ID_CHARS)[:128]
    return f"{writer} {kept}" if kept else writer


def next_version_tags(tags: Mapping[str, str], credential: str, written_by: str) -> dict[str, str]:
    """The tags of the next version the product writes: the current ones, with ``CredentialId`` and
    ``RotatedBy`` set under whatever spelling the current version uses.

    Refused when Key Vault would refuse them: a current version with 15 tags and no ``RotatedBy``
    leaves no room for it. Callers ask before anything is regenerated, so the refusal costs nothing.
    """
    written = {**tags, tag_name(tags, CREDENTIAL_ID): credential, tag_name(tags, ROTATED_BY): written_by}
    if len(written) > MAX_TAGS:
        added = ", ".join(repr(name) for name in written if name not in tags)
        raise NotRotatable(
            f"The next version would carry {len(written)} tags ({added} added to the current {len(tags)}), but Key "
            f"Vault keeps at most {MAX_TAGS} on a secret. Remove {len(written) - MAX_TAGS} tag(s) the rotation does "
            f"not read (any but {', '.join((*CONTRACT_TAGS, VALUE_FORMAT, CONSUMERS, ROTATED_BY))}) from the current "
            "version, then rotate; nothing was regenerated."
        )
    return written


def read_contract(tags: Mapping[str, str] | None, cloud: Cloud, kinds: Kinds) -> Contract:
    tags = dict(tags or {})
    if clashes := ambiguous_tags(tags):
        raise NotRotatable(
            f"Tags {'; '.join(clashes)} name the same contract tag: which one holds is ambiguous. "
            "Keep one spelling of each."
        )
    resource, kind = locate(_tag(tags, PROVIDER_ADDRESS), cloud, kinds)
    credential_id = _tag(tags, CREDENTIAL_ID)
    credential = kind.credentials.get(credential_key(credential_id))
    if credential is None:
        expected = ", ".join(c.tag for c in kind.credentials.values())
        raise NotRotatable(
            f"Tag '{CREDENTIAL_ID}' is {shown(credential_id)}; expected one of {expected} for a {kind.display_name}."
        )
    value_format = _value_format(tags)
    if value_format is ValueFormat.CONNECTION_STRING and not kind.has_connection_string:
        raise NotRotatable(
            f"Tag '{VALUE_FORMAT}' is ConnectionString, but a {kind.display_name} has no connection string; use Key."
        )
    consumers = parse_consumers(tags.get(tag_name(tags, CONSUMERS)))
    if (unplaced_consumer := unplaced(consumers.consumers, resource.subscription)) is not None:
        raise NotRotatable(
            f"Tag '{CONSUMERS}' names {unplaced_consumer} by its resource group, but {resource.id} is in no "
            "subscription: name each consumer by its ARM resource ID (/subscriptions/<id>/resourceGroups/<group>/"
            "providers/Microsoft.Web/sites/<app>)."
        )
    return Contract(kind, resource, credential, _validity(_tag(tags, VALIDITY_PERIOD_DAYS)), value_format, consumers)


def _tag(tags: Mapping[str, str], name: str) -> str:
    value = tags.get(tag_name(tags, name))
    if value is None or not str(value).strip():
        raise NotRotatable(f"Tag '{name}' is missing; the secret is not enrolled for rotation.")
    return str(value).strip()


def locate(address: str, cloud: Cloud, kinds: Kinds) -> tuple[Resource, ContractKind]:
    """The resource a ``ProviderAddress`` names and the kind that rotates it, or why it is not rotatable."""
    parsed = parse_resource_id(address) or parse_application_path(address)
    if parsed is None:
        raise NotRotatable(
            f"Tag '{PROVIDER_ADDRESS}' is {shown(address)}; expected an ARM resource ID in canonical form "
            "(/subscriptions/<guid>/resourceGroups/<group>/providers/<namespace>/<type>/<name>, "
            "ASCII, no empty, '.' or '..' segments, nothing percent-encoded), or an Entra ID application's "
            "Microsoft Graph path (/applications/<object id> or /applications(appId='<client id>'))."
        )
    kind = kinds.get(parsed.resource_type)
    if kind is None:
        raise NotRotatable(
            f"Tag '{PROVIDER_ADDRESS}' names a {parsed.resource_type} resource; "
            f"supported: {', '.join(kinds.supported)}."
        )
    return Resource(parsed, cloud), kind


def _validity(raw: str) -> timedelta:
    days = ascii_int(raw, low=1, high=MAX_VALIDITY_DAYS)
    if days is None:
        raise NotRotatable(
            f"Tag '{VALIDITY_PERIOD_DAYS}' is {shown(raw)}; expected a whole number of days from 1 to "
            f"{MAX_VALIDITY_DAYS} in ASCII digits."
        )
    return timedelta(days=days)


def _value_format(tags: Mapping[str, str]) -> ValueFormat:
    raw = str(tags.get(tag_name(tags, VALUE_FORMAT)) or ValueFormat.KEY.value).strip()
    for value_format in ValueFormat:
        if raw.lower() == value_format.value.lower():
            return value_format
    raise NotRotatable(f"Tag '{VALUE_FORMAT}' is {shown(raw)}; expected Key or ConnectionString.")
