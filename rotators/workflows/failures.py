"""Retryable failures that never clear: counted per episode beside the rotation records, and reported
once as ``KeyRotation.RotationFailed`` and an error line (``rotators.core.failures`` decides when).

The memory is a blob per secret, ``failures/<vault host>/<secret>``, changed only with the ETag of what
was read (``rotators.adapters.memory``), so of several instances failing at once exactly one marks the
episode reported, and only that one publishes. An attempt that gets past the failures closes the
episode (:func:`close` deletes the blob, with the same ETag). Noting or closing never changes what
the trigger does (the event is still redelivered, HTTP still answers 503 or 502), and never fails it: a
memory that cannot be kept is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rotators.adapters import memory, outcomes
from rotators.core import deadline
from rotators.core.clouds import VaultAddress
from rotators.core.errors import NotRotatable, RotationError
from rotators.core.failures import Failures
from rotators.core.logs import get_logger
from rotators.core.settings import get_settings

logger = get_logger(__name__)

FAILURES = memory.Kind("failures/", "failure memory", Failures.from_json)
# What a report keeps back from its event, so that marking it unsent (a read and a write) still has time
# when the topic stalls: an unsent report the memory calls sent is never sent again.
UNSENT_RESERVE_SECONDS = 0.5


@dataclass(frozen=True)
class Failing:
    """A secret version a rotation failed on, and the trigger that met the failure (its event names both)."""

    vault: VaultAddress
    secret: str
    version: str | None  # None: the failure came before the current version was read
    trigger: str
    event_id: str | None = None


def note(failing: Failing, error: RotationError, *, now: datetime) -> Failures | None:
    """Count ``error`` (retryable) against the failing version; report it if that is due.

    Returns the memory as written, or ``None`` when it could not be kept.
    """
    vault, secret, version = failing.vault, failing.secret, failing.version
    reporting = False

    def change(known: Failures | None) -> Failures:
        nonlocal reporting
        before = (known or Failures(version)).of(version)
        after = before.after(error, now)
        reporting = after.reported_at is not None and before.reported_at is None
        return after

    try:
        try:
            written = memory.remember(FAILURES, vault, secret, change)
        except NotRotatable:  # a blob this app did not write: this version's memory starts here
            written = change(None)
            memory.replace(FAILURES, vault, secret, written)
    except Exception as exc:  # the failure being noted is the caller's answer, not this
        logger.warning("The failure memory of secret %s in %s is not kept: %s", secret, vault, _why(exc))
        return None
    if reporting:
        return _report(failing, written)
    return written


def close(vault: VaultAddress, secret: str, version: str, *, through: bool) -> None:
    """An attempt on ``version`` ended without a failure, ``through`` every step or stopped by its plan:
    the episode it got past, if any, is over (:meth:`Failures.cleared_by`).

    One read (a 404 when nothing failed); a delete only when an episode ends. A failure noted meanwhile
    by another trigger stays (the delete is refused: it is newer than the read).
    """
    try:
        known, etag = memory.load(FAILURES, vault, secret)
        if known is not None and known.cleared_by(version, through=through):
            memory.forget(FAILURES, vault, secret, etag=etag)
    except memory.Changed:
        return
    except Exception as exc:  # the attempt's answer stands; the next failure still counts from here
        logger.warning("The failure memory of secret %s in %s is not closed: %s", secret, vault, _why(exc))


@dataclass(frozen=True)
class Remembered:
    """The failure memories of a vault's secrets by lower-cased name, and why any one could not be read."""

    known: dict[str, Failures]
    unread: dict[str, str]


def remembered(vault: VaultAddress) -> Remembered:
    """Every failure memory of ``vault``'s secrets: one listing, a read per memory. A memory that cannot be
    read is that secret's note; the listing failing raises."""
    found = Remembered({}, {})
    for name in memory.secrets_remembered(FAILURES, vault):
        try:
            known, _ = memory.load(FAILURES, vault, name)
        except Exception as exc:
            found.unread[name] = _why(exc)
            continue
        if known is not None:
            found.known[name] = known
    return found


def _report(failing: Failing, failures: Failures) -> Failures:
    """The error line the alert matches, and the event; an event that could not be sent is tried again
    at the next failure (the memory is marked unreported: :data:`UNSENT_RESERVE_SECONDS` keep time for it)."""
    vault, secret = failing.vault, failing.secret
    logger.error(
        "Rotation of secret %s in %s keeps failing: %s (%s)", secret, vault, failures.reason, failures.summary()
    )
    data = {
        "trigger": failing.trigger,
        "eventId": failing.event_id,
        "code": failures.code,
        "reason": failures.reason,
        "version": failures.version,
        "failingSince": failures.since.isoformat() if failures.since else None,
        "attempts": failures.attempts,
    }
    with deadline.keeping(UNSENT_RESERVE_SECONDS):
        sent = outcomes.publish(outcomes.ROTATION_FAILED, vault, secret, data)
    if sent or get_settings().events_topic_endpoint is None:
        return failures
    try:
        return memory.remember(FAILURES, vault, secret, lambda known: (known or failures).unreported())
    except Exception as exc:
        logger.warning("The failure memory of secret %s in %s is not kept: %s", secret, vault, _why(exc))
        return failures.unreported()


def _why(exc: BaseException) -> str:
    """Our message for our errors; only the type for anything else (its text may quote a request)."""
    return exc.message if isinstance(exc, RotationError) else f"unexpected {type(exc).__name__}"
