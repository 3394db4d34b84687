"""What one secret version's retryable failures add up to, and when they are reported. Pure.

A retryable failure (throttling, 5xx, no answer, a 403) leaves the event for redelivery and answers
503 or 502 over HTTP, and most clear by themselves. One that never clears must still reach an operator,
once per episode (below), as ``KeyRotation.RotationFailed`` and an error line:

- a 403 (:class:`~rotators.core.errors.AccessDenied`) is often a role assignment still on its way:
  "When you assign roles or remove role assignments, it can take up to 10 minutes for changes to take
  effect" (Microsoft's "Troubleshoot Azure RBAC", "Role assignment changes are not being detected").
  It is reported at the first refusal that comes :data:`PROPAGATION_WINDOW` or more after the first
  refusal for the version;
- any other retryable failure is reported at the :data:`MAX_ATTEMPTS`-th failed attempt for the
  version (Event Grid redelivers after about 10 s, 30 s, 1 min and 5 min, so about seven minutes
  after the first, or at the fifth hourly sweep).

A memory is one episode: the failures of one version at one place, before the version could be read
(the vault itself refusing) or after it (the resource, the lock store, the topic...). Each episode is
reported at most once. A new episode starts when

- a new version is current (the rotation done, or written by hand);
- the failure moves between those places: a vault that answers again has cleared its refusal, so a 403
  on the resource after it is a failure of its own, with its own 10 minutes and count (and one in front
  of a reported failure hides it: it is counted afresh once the vault answers again);
- an attempt on the version gets past the failure without one of its own (:meth:`Failures.cleared_by`;
  ``rotators.workflows.failures.close`` deletes the memory): failures are counted only while nothing
  gets past them. An attempt that gets through every step writes a new version or waits on Azure
  (``pending``); one whose plan stops it at the read (a stale event, the cool-down) got past the vault only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from rotators.core.errors import AccessDenied, RotationError

PROPAGATION_WINDOW = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# What is kept of a failure's message (ours: names, codes, actions, never a value): enough to act on.
MAX_REASON = 1000


@dataclass(frozen=True)
class Failures:
    """One episode of retryable failures of one secret's version; ``version`` ``None``: never read yet."""

    version: str | None
    since: datetime | None = None  # the first failure
    refused_since: datetime | None = None  # the first 403
    attempts: int = 0  # failed attempts, of every kind
    other_attempts: int = 0  # those that were not a 403
    code: str = ""  # the last failure's
    reason: str = ""
    reported_at: datetime | None = None
    unread: bool = False  # the failures came before the version could be read

    def of(self, version: str | None) -> Failures:
        """The episode a failure met on ``version`` (``None``: before it could be read) is counted in: this
        one while the failure stays on its version and its side of the read, else a new one (module doc)."""
        if version is not None and self.version is not None and self.version.lower() != version.lower():
            return Failures(version)
        unread = version is None
        known = self.version or version  # a failure before the read is the last read version's
        if self.since is not None and self.unread != unread:
            return Failures(known, unread=unread)
        return replace(self, version=known, unread=unread)

    def concerns(self, version: str) -> bool:
        return self.version is None or self.version.lower() == version.lower()

    def cleared_by(self, version: str, *, through: bool) -> bool:
        """Whether an attempt that read ``version`` and ended without a failure ends this episode: one before
        the read always (the vault answered); any other only if the attempt went ``through`` every step (it
        waits on Azure): a plan that stops at the read (a stale event, the cool-down) met nothing else."""
        return self.concerns(version) and (self.unread or through)

    def after(self, error: RotationError, now: datetime) -> Failures:
        """``error`` counted (it is retryable), and the memory marked reported if that is due now."""
        refused = isinstance(error, AccessDenied)
        counted = replace(
            self,
            since=self.since or now,
            refused_since=(self.refused_since or now) if refused else self.refused_since,
            attempts=self.attempts + 1,
            other_attempts=self.other_attempts + (0 if refused else 1),
            code=error.code,
            reason=error.message[:MAX_REASON],
        )
        if self.reported_at is not None:
            return counted
        if refused:
            due = counted.refused_since is not None and now - counted.refused_since >= PROPAGATION_WINDOW
        else:
            due = counted.other_attempts >= MAX_ATTEMPTS
        return replace(counted, reported_at=now) if due else counted

    def unreported(self) -> Failures:
        """The report could not be sent: the next failure tries again."""
        return replace(self, reported_at=None)

    def summary(self) -> str:
        """One line for ``status``, the logs and the caller's answer."""
        if self.since is None:
            return "no failure recorded"
        attempts = f"{self.attempts} failed attempt{'s' if self.attempts != 1 else ''}"
        said = f"failing since {_when(self.since)} ({attempts}; last {self.code})"
        if self.reported_at is not None:
            return f"{said}; reported as KeyRotation.RotationFailed at {_when(self.reported_at)}"
        return f"{said}; reported if it persists {self._until()}"

    def _until(self) -> str:
        if self.code == AccessDenied.code and self.refused_since is not None:
            return f"past {_when(self.refused_since + PROPAGATION_WINDOW)} (Azure's 10 minutes for a role to apply)"
        return f"for {MAX_ATTEMPTS} failed attempts"

    def to_json(self) -> bytes:
        data = {
            "version": self.version,
            "since": _iso(self.since),
            "refusedSince": _iso(self.refused_since),
            "attempts": self.attempts,
            "otherAttempts": self.other_attempts,
            "code": self.code,
            "reason": self.reason,
            "reportedAt": _iso(self.reported_at),
            "unread": self.unread,
        }
        return json.dumps(data, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Failures:
        """Parse what :meth:`to_json` wrote; anything else (any shape, depth or encoding) is a ``ValueError``."""
        try:
            data = json.loads(raw.decode("utf-8"))
            version, code, reason = data["version"], data["code"], data["reason"]
            attempts, other = data["attempts"], data["otherAttempts"]
            unread = data["unread"]
            if not (version is None or isinstance(version, str)) or not isinstance(code, str):
                raise TypeError
            if not isinstance(unread, bool):
                raise TypeError
            if not isinstance(reason, str) or type(attempts) is not int or type(other) is not int:
                raise TypeError
            return cls(
                version,
                _time(data["since"]),
                _time(data["refusedSince"]),
                attempts,
                other,
                code,
                reason[:MAX_REASON],
                _time(data["reportedAt"]),
                unread,
            )
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise ValueError("not a failure memory") from None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError
    return when


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
