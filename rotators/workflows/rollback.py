"""Rollback: publish the previous version's key again, the way an operator undoes a rotation that broke an app.

The previous key stays valid until the next rotation regenerates it, so a rollback is a new
version holding the previous version's value and ``CredentialId`` (``RotatedBy`` says
``rollback``). It is refused, with nothing written, when that key is no longer live on the
resource (publishing it would break every app), when the resource refuses keys or the value
format as a rotation would (:mod:`rotators.core.verdict`), when the previous version names another
key pair, or while a rotation of the current version is under way; it holds the pair's lock, so no rotation
or early revocation runs meanwhile, and chooses the current and previous versions under it. Nothing is
regenerated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from rotators.adapters import lock, vault
from rotators.core.clouds import VaultAddress
from rotators.core.contract import Contract, next_version_tags, read_contract
from rotators.core.errors import RollbackRefused, TransientError
from rotators.core.history import previous_version
from rotators.core.logs import get_logger
from rotators.core.records import NewVersion, SecretRef, SecretVersionInfo
from rotators.core.settings import get_settings
from rotators.core.verdict import Verdict, refusal, verdict
from rotators.kinds import KINDS, canonical, entra, inspect, password_kind

logger = get_logger(__name__)


@dataclass(frozen=True)
class RollbackOutcome:
    """What a rollback did, for the CLI and the HTTP answer. Never holds a key value."""

    vault: str
    secret: str
    rolled_back_version: str
    restored_version: str
    credential: str
    new_version: str | None  # None for a dry run
    expires_on: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "rolledBack" if self.new_version else "planned",
            "vault": self.vault,
            "secret": self.secret,
            "rolledBackVersion": self.rolled_back_version,
            "restoredVersion": self.restored_version,
            "credential": self.credential,
            "newVersion": self.new_version,
            "expiresOn": self.expires_on.isoformat() if self.expires_on else None,
        }


def rollback(address: VaultAddress, secret_name: str, *, dry_run: bool = False) -> RollbackOutcome:
    get_settings().check_vault(address)
    current, _ = vault.read_current(address, secret_name)
    pair = canonical(read_contract(current.tags, address.cloud, KINDS)).pair_name
    me = SecretRef.of(address.url, secret_name)
    with lock.hold(pair, holder=str(me)) as lease:
        # Chosen under the lock: a rotation or an early revocation that ran before it was taken changed them.
        current, _ = vault.read_current(address, secret_name)
        contract = canonical(read_contract(current.tags, address.cloud, KINDS))
        if contract.pair_name != pair:
            raise TransientError(f"The tags of secret '{secret_name}' changed during its rollback; retry.")
        previous, earlier = _previous(address, secret_name, current, contract)
        rotation = lease.record.rotation
        if rotation is not None and rotation.resumes(current, rotation.target):
            raise RollbackRefused(
                f"A rotation of secret '{secret_name}' to {rotation.target} is under way; "
                "let it finish (or fail), then roll back."
            )
        _, value = vault.read_version(address, secret_name, previous.version)
        expires_on = min(
            datetime.now(timezone.utc) + contract.validity,
            _restorable_until(earlier, value, previous.version, secret_name),
        )
        outcome = RollbackOutcome(
            vault=str(address),
            secret=secret_name,
            rolled_back_version=current.version,
            restored_version=previous.version,
            credential=earlier.credential.tag,
            new_version=None,
            expires_on=expires_on,
        )
        if dry_run:
            return outcome
        tags = next_version_tags(current.tags, earlier.credential.tag, f"rollback {current.version}")
        lease.ensure_held()
        written = vault.write_version(address, NewVersion(secret_name, tags, previous.content_type, expires_on), value)
    logger.warning(
        "Rolled back secret %s in %s: version %s (%s) -> %s holding %s of version %s again.",
        secret_name,
        address,
        current.version,
        contract.credential.tag,
        written.version,
        earlier.credential.tag,
        previous.version,
    )
    return replace(outcome, new_version=written.version)


def _previous(
    address: VaultAddress, secret_name: str, current: SecretVersionInfo, contract: Contract
) -> tuple[SecretVersionInfo, Contract]:
    """The version a rollback restores and its contract: the enabled one before ``current``, of the same key pair
    and value format."""
    previous = previous_version(vault.list_versions(address, secret_name), current.version)
    if previous is None:
        raise RollbackRefused(f"Secret '{secret_name}' has no earlier enabled version to roll back to.")
    earlier = canonical(read_contract(previous.tags, address.cloud, KINDS))
    if earlier.pair_name != contract.pair_name or earlier.value_format is not contract.value_format:
        raise RollbackRefused(
            f"Version {previous.version} of secret '{secret_name}' names another key pair or value format "
            f"({earlier.describe_key_pair()}): a rollback restores a key of the same pair, in the same format."
        )
    return previous, earlier


def _restorable_until(earlier: Contract, value: str, version: str, secret_name: str) -> datetime:
    """Refuse unless ``value`` (version ``version``) still works: the key it holds was not regenerated since, or
    the application password it holds still exists. Returns how long it may stay valid: an application password
    ends on its own date; a key does not."""
    adding = password_kind(earlier)
    if adding is not None:
        held = adding.read(earlier.resource).password(earlier.credential.tag)
        if held is None or not entra.holds(held, value):
            raise RollbackRefused(
                f"Version {version} of secret '{secret_name}' holds password {earlier.credential.tag} of application "
                f"{earlier.resource.name}, which the application no longer has: publishing it would break every app. "
                "Nothing was written."
            )
        if held.ends <= datetime.now(timezone.utc):
            raise RollbackRefused(
                f"Version {version} of secret '{secret_name}' holds password {earlier.credential.tag} of application "
                f"{earlier.resource.name}, which ended {held.ends:%Y-%m-%d %H:%M} UTC: Entra ID no longer accepts it, "
                "so publishing it would break every app. Nothing was written."
            )
        return held.ends
    state = inspect(earlier)
    judged = verdict(earlier, value, state)
    if (refused := refusal(judged, earlier, state, secret_name)) is not None:
        raise refused
    if judged is not Verdict.SOUND:
        raise RollbackRefused(
            f"Version {version} of secret '{secret_name}' holds {earlier.credential.tag} of "
            f"{earlier.resource.name} as it was, but that key has been regenerated since: publishing it "
            "would break every app. Nothing was written."
        )
    return datetime.max.replace(tzinfo=timezone.utc)
