"""What a rotation knows about a secret version and what it has reached, as plain values.

:class:`PairRecord` is the content of a key pair's lock blob: who owns the pair and the
:class:`RotationRecord` the next trigger resumes. State changes are named methods, one per
transition (``start``, ``requested``, ``accepted_by_azure``, ``refused``; ``claimed_by``,
``contested``), in the manner of Powertools' idempotency ``DataRecord``:
the workflow says what happened and the record says what that means. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rotators.core.logs import get_logger
from rotators.core.resources import Credential

logger = get_logger(__name__)


@dataclass(frozen=True)
class SecretVersionInfo:
    """A secret version's properties, never its value."""

    name: str
    version: str
    created_on: datetime
    expires_on: datetime | None
    tags: dict[str, str]
    content_type: str | None


@dataclass(frozen=True)
class NewVersion:
    """A version about to be written, all but its value (kept apart, so that no ``repr`` ever shows it):
    the secret's name, the version's tags, content type and expiry."""

    name: str
    tags: dict[str, str]
    content_type: str | None
    expires_on: datetime


def fingerprint(key_value: str, *, salt: str | None = None) -> str:
    """A salted digest of a key: enough to tell later whether it changed, useless to an attacker."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + key_value).encode()).hexdigest()}"


@dataclass(frozen=True)
class SecretRef:
    """One secret of one vault: the owner of a key pair, or a secret contesting it."""

    vault_url: str
    name: str

    @classmethod
    def of(cls, vault_url: str, name: str) -> SecretRef:
        return cls(vault_url.lower().rstrip("/"), name.lower())

    def __str__(self) -> str:
        return f"'{self.name}' in {self.vault_url.removeprefix('https://').partition('.')[0]}"


@dataclass(frozen=True)
class RotationRecord:
    """What a rotation reached, kept beside its lock so the next trigger resumes it.

    ``key_before`` fingerprints the target key before it was regenerated and
    ``generated_before`` is Azure's generation time for it then, where the service reports
    one: a trigger that resumes sees from either that a request took effect and does not
    ask again. ``requested_at`` is when the last regeneration request went out without an
    answer that says it changed nothing; ``accepted`` says Azure took it as a long-running
    operation that runs on Azure's clock.

    Nothing marks a rotation finished: its write makes a newer version current, so a record
    resumes only while the version it started from is still the current one (:meth:`resumes`).
    """

    base_version: str
    base_created: datetime
    target: str
    target_key: str
    started_at: datetime
    key_before: str
    generated_before: str | None = None
    requested_at: datetime | None = None
    accepted: bool = False

    @classmethod
    def start(
        cls, base: SecretVersionInfo, target: Credential, *, key_before: str, generated_before: str | None, at: datetime
    ) -> RotationRecord:
        """A rotation of version ``base`` to ``target`` whose first regeneration request goes out at ``at``."""
        return cls(
            base.version,
            base.created_on,
            target.tag,
            target.key,
            at,
            fingerprint(key_before),
            generated_before,
            requested_at=at,
        )

    def requested(self, at: datetime) -> RotationRecord:
        """The request is sent again; until it is answered, it may take effect unseen."""
        return replace(self, requested_at=at, accepted=False)

    def accepted_by_azure(self) -> RotationRecord:
        """Azure answered 202: the regeneration runs on its clock and completes, or fails, without us."""
        return replace(self, accepted=True)

    def refused(self) -> RotationRecord:
        """Azure answered 4xx: the request changed nothing and nothing of ours is in flight."""
        return replace(self, requested_at=None, accepted=False)

    def key_changed(self, key_value: str) -> bool:
        salt = self.key_before.partition("$")[0]
        return not hmac.compare_digest(fingerprint(key_value, salt=salt), self.key_before)

    def resumes(self, current: SecretVersionInfo, target_tag: str) -> bool:
        return self.base_version == current.version and self.target.lower() == target_tag.lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseVersion": self.base_version,
            "baseCreated": self.base_created.isoformat(),
            "target": self.target,
            "targetKey": self.target_key,
            "startedAt": self.started_at.isoformat(),
            "keyBefore": self.key_before,
            "generatedBefore": self.generated_before,
            "requestedAt": self.requested_at.isoformat() if self.requested_at else None,
            "accepted": self.accepted,
        }

    @classmethod
    def from_dict(cls, data: Any) -> RotationRecord:
        if not isinstance(data, dict) or not isinstance(data.get("accepted", False), bool):
            raise TypeError("not a rotation record")
        return cls(
            base_version=_text(data, "baseVersion"),
            base_created=_moment(data, "baseCreated"),
            target=_text(data, "target"),
            target_key=_text(data, "targetKey"),
            started_at=_moment(data, "startedAt"),
            key_before=_text(data, "keyBefore"),
            generated_before=_text(data, "generatedBefore", optional=True),
            requested_at=_moment(data, "requestedAt", optional=True),
            accepted=data.get("accepted", False),
        )


@dataclass(frozen=True)
class PairRecord:
    """What the blob of one key pair holds: who owns the pair, who contests it, the rotation under way.

    The first secret to rotate (or enrol on) a key pair owns it; another secret on the same
    pair is refused and marked as contesting it, which stops the owner too until one of the
    two is fixed: two secrets on one pair would each regenerate the key the other holds.
    """

    owner: SecretRef | None = None
    contested_by: SecretRef | None = None
    rotation: RotationRecord | None = None

    def claimed_by(self, owner: SecretRef) -> PairRecord:
        return replace(self, owner=owner, contested_by=None)

    def contested(self, by: SecretRef | None) -> PairRecord:
        return replace(self, contested_by=by)

    def with_rotation(self, rotation: RotationRecord | None) -> PairRecord:
        return replace(self, rotation=rotation)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "owner": _ref_dict(self.owner),
                "contestedBy": _ref_dict(self.contested_by),
                "rotation": self.rotation.to_dict() if self.rotation else None,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PairRecord:
        """The record; an empty blob, or one of another shape, reads as an unclaimed pair with no rotation.

        The blob is ours, but a bad deployment, a hand edit or another tool may have written
        it: anything but the exact shape is ignored with a warning, and the rotation rebuilds
        what it needs from Azure. That is safe because the record only ever saves work: the
        key checks against Azure decide whether a request took effect, and a lost claim is
        taken again after the sole-owner check.
        """
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            rotation = data.get("rotation")
            return cls(
                owner=_ref(data.get("owner")),
                contested_by=_ref(data.get("contestedBy")),
                rotation=None if rotation is None else RotationRecord.from_dict(rotation),
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            logger.warning("Ignoring a rotation record of an unexpected shape; the rotation starts from Azure's state.")
            return cls()


def _ref_dict(ref: SecretRef | None) -> dict[str, str] | None:
    return None if ref is None else {"vaultUrl": ref.vault_url, "name": ref.name}


def _ref(data: Any) -> SecretRef | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("not a secret reference")
    return SecretRef.of(_text(data, "vaultUrl"), _text(data, "name"))


def _text(data: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = data.get(key) if optional else data[key]
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} is not a string")
    return value


def _moment(data: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    text = _text(data, key, optional=optional)
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{key} has no time zone")
    return moment
