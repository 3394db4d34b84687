"""The pure core: given the secret's current version, its contract and any unfinished
rotation, decide what to do and why. No I/O, so every rule is testable on plain values.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from rotators.contract import Contract
from rotators.kinds import Credential


@dataclass(frozen=True)
class SecretVersionInfo:
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

    def resend_after(self, settle: timedelta) -> datetime | None:
        """When an unanswered regeneration request is old enough that Azure no longer applies it."""
        return None if self.requested_at is None else self.requested_at + settle

    def key_changed(self, key_value: str) -> bool:
        salt = self.key_before.partition("$")[0]
        return not hmac.compare_digest(fingerprint(key_value, salt=salt), self.key_before)

    def resumes(self, current: SecretVersionInfo, target: Credential) -> bool:
        return (
            self.phase is not Phase.WRITTEN
            and self.base_version == current.version
            and self.target.lower() == target.tag.lower()
        )


class Action(enum.StrEnum):
    ROTATE = "rotate"
    STALE = "stale"
    COOLING_DOWN = "cooling_down"


@dataclass(frozen=True)
class Plan:
    action: Action
    reason: str
    current: Credential
    target: Credential
    expires_on: datetime
    resume: RotationRecord | None = None


def plan_rotation(
    current: SecretVersionInfo,
    contract: Contract,
    *,
    now: datetime,
    min_interval: timedelta,
    event_version: str | None = None,
    force: bool = False,
    record: RotationRecord | None = None,
) -> Plan:
    target = contract.alternate

    def plan(action: Action, reason: str, resume: RotationRecord | None = None) -> Plan:
        return Plan(action, reason, contract.credential, target, now + contract.validity, resume)

    if event_version is not None and event_version != current.version:
        return plan(Action.STALE, f"the event is for version {event_version}; the current version is {current.version}")
    if record is not None and record.resumes(current, target):
        return plan(
            Action.ROTATE, f"resuming a rotation to {target.tag} interrupted after '{record.phase.value}'", record
        )
    age = now - current.created_on
    if age < min_interval and not force:
        return plan(
            Action.COOLING_DOWN,
            f"the current version was written {_hours(age)} ago, less than the minimum interval of "
            f"{_hours(min_interval)}: apps may still hold {target.tag}",
        )
    why = "forced" if force and age < min_interval else f"the current version is {_hours(age)} old"
    return plan(Action.ROTATE, f"{why}; regenerate {target.tag}, the key the current version does not hold")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
