"""What a rotation knows about a secret version and what it has reached, as plain values.

:class:`RotationRecord` is kept beside the rotation lock so the next trigger resumes what a
dead one started. Its state changes are named methods, one per transition of a rotation
(``requested``, ``operation_started``, ``answered``, ``regenerated``, ``written``), in the
manner of Powertools' idempotency ``DataRecord``: the workflow says what happened and the
record says what that means. Pure: no I/O.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from rotators.core.logs import get_logger

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


class Phase(enum.StrEnum):
    STARTED = "started"
    REGENERATED = "regenerated"
    WRITTEN = "written"


def fingerprint(key_value: str, *, salt: str | None = None) -> str:
    """A salted digest of a key: enough to tell later whether it changed, useless to an attacker."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + key_value).encode()).hexdigest()}"


@dataclass(frozen=True)
class RotationRecord:
    """What a rotation reached, kept beside its lock so the next trigger resumes it.

    ``key_before`` fingerprints the target key before it was regenerated: a trigger that
    resumes a rotation whose holder died between regenerating and recording it sees the
    key changed and does not regenerate it again. ``requested_at`` is when the last
    regeneration request left without an answer we kept (a crash, a timeout, a dropped
    connection): Azure may still apply it, so it is not sent again until it has settled.
    """

    base_version: str
    target: str
    phase: Phase
    started_at: datetime
    key_before: str
    operation: str | None = None
    new_version: str | None = None
    requested_at: datetime | None = None

    @classmethod
    def start(cls, base_version: str, target: str, key_before: str, *, at: datetime) -> RotationRecord:
        """A rotation of ``base_version`` to ``target`` whose first regeneration request is about to go out."""
        return cls(base_version, target, Phase.STARTED, at, fingerprint(key_before), requested_at=at)

    def requested(self, at: datetime) -> RotationRecord:
        """A regeneration request is about to go out; until it is answered, it may take effect unseen."""
        return replace(self, requested_at=at)

    def operation_started(self, token: str) -> RotationRecord:
        """Azure accepted the request as a long-running operation that ``token`` resumes."""
        return replace(self, operation=token, requested_at=None)

    def answered(self) -> RotationRecord:
        """Azure refused the request or the operation ended: nothing is left in flight."""
        return replace(self, operation=None, requested_at=None)

    def regenerated(self) -> RotationRecord:
        return replace(self, phase=Phase.REGENERATED, requested_at=None)

    def written(self, version: str) -> RotationRecord:
        return replace(self, phase=Phase.WRITTEN, new_version=version)

    def resend_after(self, settle: timedelta) -> datetime | None:
        """When an unanswered regeneration request is old enough that Azure no longer applies it."""
        return None if self.requested_at is None else self.requested_at + settle

    def key_changed(self, key_value: str) -> bool:
        salt = self.key_before.partition("$")[0]
        return not hmac.compare_digest(fingerprint(key_value, salt=salt), self.key_before)

    def resumes(self, current: SecretVersionInfo, target_tag: str) -> bool:
        return (
            self.phase is not Phase.WRITTEN
            and self.base_version == current.version
            and self.target.lower() == target_tag.lower()
        )

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "baseVersion": self.base_version,
                "target": self.target,
                "phase": self.phase.value,
                "startedAt": self.started_at.isoformat(),
                "keyBefore": self.key_before,
                "operation": self.operation,
                "newVersion": self.new_version,
                "requestedAt": self.requested_at.isoformat() if self.requested_at else None,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> RotationRecord | None:
        """The record, or ``None`` for an empty blob or one of another shape.

        The blob is ours, but a bad deployment, a hand edit or another tool may have written
        it: anything but the exact shape is ignored with a warning, and the rotation rebuilds
        what it needs from Azure (the record only ever saves work, never decides safety alone).
        """
        if not raw:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            return cls(
                base_version=_text(data, "baseVersion"),
                target=_text(data, "target"),
                phase=Phase(_text(data, "phase")),
                started_at=_moment(data, "startedAt"),
                key_before=_text(data, "keyBefore"),
                operation=_text(data, "operation", optional=True),
                new_version=_text(data, "newVersion", optional=True),
                requested_at=_moment(data, "requestedAt", optional=True),
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            logger.warning("Ignoring a rotation record of an unexpected shape; the rotation starts from Azure's state.")
            return None


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
