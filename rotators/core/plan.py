"""The pure core: given the secret's current version, its contract and any unfinished
rotation, decide what to do and why. No I/O, so every rule is testable on plain values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from rotators.core.consumers import Confirmation
from rotators.core.contract import Contract
from rotators.core.records import RotationRecord, SecretVersionInfo
from rotators.core.resources import Credential


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
    # Cooling down, but past the confirmed floor with consumers declared: asking them may end it.
    confirmable: bool = False


@dataclass(frozen=True)
class Planning:
    """What a plan is made from: the secret's current version and contract, when, the cool-down the
    settings set (``min_interval``, and ``confirmed_min_interval`` for a secret whose consumers may end it
    early), what the trigger asks (``event_version`` for an event, ``force``), and the rotation the key
    pair's record holds, if any."""

    current: SecretVersionInfo
    contract: Contract
    now: datetime
    min_interval: timedelta
    event_version: str | None = None
    force: bool = False
    record: RotationRecord | None = None
    confirmed_min_interval: timedelta | None = None

    def plan(self, confirmation: Confirmation | None = None) -> Plan:
        """What to do. Inside the cool-down, a rotation may still start when the secret declares its
        consumers, the current version is older than ``confirmed_min_interval``, and ``confirmation``
        shows every one of them running the current version: then no app can hold the key about to be
        regenerated. Anything less keeps the full cool-down."""
        current, contract, now, record = self.current, self.contract, self.now, self.record
        target = contract.alternate

        def plan(
            action: Action, reason: str, resume: RotationRecord | None = None, *, confirmable: bool = False
        ) -> Plan:
            return Plan(action, reason, contract.credential, target, now + contract.validity, resume, confirmable)

        if self.event_version is not None and self.event_version != current.version:
            return plan(
                Action.STALE, f"the event is for version {self.event_version}; the current version is {current.version}"
            )
        if record is not None and record.resumes(current, target.tag):
            return plan(Action.ROTATE, f"resuming a rotation to {target.tag} interrupted before its write", record)
        age = now - current.created_on
        if age < self.min_interval and not self.force:
            floor = self.confirmed_min_interval if contract.consumers else None
            past_floor = floor is not None and age >= floor
            if past_floor and confirmation is not None and confirmation.version == current.version:
                holding = confirmation.holding()
                if holding is None:
                    return plan(
                        Action.ROTATE,
                        f"every declared consumer runs the current version {current.version} (confirmed), written "
                        f"{_hours(age)} ago; regenerate {target.tag}, the key no consumer holds any more",
                    )
                held = f"; {holding}"
            else:
                held = ""
            return plan(
                Action.COOLING_DOWN,
                f"the current version was written {_hours(age)} ago, less than the minimum interval of "
                f"{_hours(self.min_interval)}: apps may still hold {target.tag}{held}",
                confirmable=past_floor and confirmation is None,
            )
        why = "forced" if self.force and age < self.min_interval else f"the current version is {_hours(age)} old"
        return plan(Action.ROTATE, f"{why}; regenerate {target.tag}, the key the current version does not hold")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
