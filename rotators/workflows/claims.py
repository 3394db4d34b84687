"""Who rotates a key pair: the first secret to rotate (or enrol on) it owns it.

Two secrets on one key pair would each regenerate the key the other holds, so a key pair
has one owner, recorded in its lock blob. The first claim of a pair checks the vault's
listing once (or the sweep's index of it); after that a rotation checks the claim in the
record it reads anyway, so its cost does not grow with the vault. Another secret found on
an owned pair is refused and marks the pair contested, which stops the owner too until
one of them is fixed. A deleted or renamed owner frees its pair. Two secrets claiming at
the same moment meet at the pair's lease: one waits, then finds the other's claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rotators.adapters import lock, vault
from rotators.core.clouds import VaultAddress
from rotators.core.contract import Contract, enrolled_contracts, key_pair_conflict, read_contract, shared_key_pairs
from rotators.core.errors import KeyPairClaimed, NotRotatable, RotationError, SecretNotFound
from rotators.core.records import PairRecord, SecretRef
from rotators.core.settings import get_settings
from rotators.kinds import KINDS, canonical, password_kind

PairIndex = Mapping[tuple[str, frozenset[str]], Sequence[str]]


def claim(me: SecretRef, contract: Contract, lease: lock.Lease, pairs: PairIndex | None, *, save: bool = False) -> None:
    """Own the key pair, or be refused (and contest it, which stops its owner too).

    A rotation's claim is saved with the record it saves before its regeneration request
    (until then nothing of the pair has changed, and a lost claim is only checked again);
    ``save`` persists it at once, for enrolment.
    """
    record = lease.record
    try:
        check(me, contract, record, pairs)
    except KeyPairClaimed:
        if record.owner is not None and me not in (record.owner, record.contested_by):
            lease.save(record.contested(me))
        raise
    if record.owner != me or record.contested_by is not None:
        (lease.save if save else lease.stage)(record.claimed_by(me))


def contest(me: SecretRef, contract: Contract) -> bool:
    """Mark the key pair another secret owns as contested by ``me``; ``True`` when the mark is new."""
    with lock.hold(canonical(contract).pair_name, holder=str(me)) as lease:
        record = lease.record
        if record.owner is None or me in (record.owner, record.contested_by):
            return False
        lease.save(record.contested(me))
        return True


def check(me: SecretRef, contract: Contract, record: PairRecord, pairs: PairIndex | None) -> None:
    """Refuse when another secret still rotates this key pair; reads, never writes."""
    if record.owner == me and record.contested_by is None:
        return
    other = record.contested_by if record.owner == me else record.owner
    if other is not None and _still_on_pair(other, contract):
        raise KeyPairClaimed(
            f"Secret {me} and secret {other} both rotate the {contract.describe_key_pair()}: rotating one would "
            "regenerate the key the other holds. Keep one secret per key pair (remove the other's tags, or delete it)."
        )
    _check_sole_owner(me, contract, pairs)


def _still_on_pair(other: SecretRef, contract: Contract) -> bool:
    """Whether another secret's current tags still name this key pair; when unsure, assume so."""
    address = VaultAddress.from_url(other.vault_url)
    try:
        get_settings().check_vault(address)
        current, _ = vault.read_current(address, other.name)
    except SecretNotFound:
        return False  # deleted or renamed: the pair is free
    except RotationError:
        return True  # a vault this app may not read, or Azure unavailable: keep the claim
    try:
        tagged = read_contract(current.tags, address.cloud, KINDS)
    except NotRotatable:
        return False  # no longer enrolled
    try:
        return canonical(tagged).key_pair == contract.key_pair
    except RotationError:
        return True  # its application cannot be read: keep the claim


def _check_sole_owner(me: SecretRef, contract: Contract, pairs: PairIndex | None) -> None:
    """The first claim of a pair: no other secret of the vault may be enrolled on it."""
    if pairs is None or password_kind(contract) is not None:  # an index keys applications as their tags name them
        address = VaultAddress.from_url(me.vault_url)
        listed = (s for s in vault.list_secrets(address) if s.name.lower() != me.name)
        contracts = {name: as_locked(c) for name, c in enrolled_contracts(listed, address.cloud, KINDS).items()}
        others = shared_key_pairs({**contracts, me.name: contract}).get(me.name, [])
    else:
        others = [name for name in pairs.get(contract.key_pair, ()) if name.lower() != me.name]
    if others:
        raise KeyPairClaimed(key_pair_conflict(me.name, contract, others))


def as_locked(contract: Contract) -> Contract:
    """Another secret's contract as locks name it; as tagged when its application cannot be read (gone, not ours
    to read, or Graph unavailable). Safe: should that secret share this one's application after all, it names the
    application's one lock itself before it rotates, finds this secret's claim there, and is refused (contesting)."""
    try:
        return canonical(contract)
    except RotationError:
        return contract
