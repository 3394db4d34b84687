"""One rotation, as idempotent steps in the manner of the Secrets Manager rotation template.

    validate   allowlist, secret, tags, stale event, cool-down, Key Vault's tag limit: refusals
               happen before any write
    lock       the key pair's lease; re-read and re-plan under it
    claim      the first secret on a key pair owns it; another one is refused and contests it
    inspect    the resource's keys: key authentication on? is the value the key its tag names?
    regenerate the alternate key, once: or find out what became of an earlier request (its
               key changed, or Azure reports it generated) before ever asking again
    write      the new secret version with the alternate CredentialId and a fresh expiry

Each step returns early when a crashed predecessor already did its work, so any trigger
can finish any rotation, no step regenerates the key the current version holds, and no
rotation asks Azure twice for a regeneration that may already be under way. Work that
does not fit in the trigger's time (a Cosmos DB regeneration runs for minutes) answers
``pending`` and continues with the next trigger.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from rotators.adapters import lock, outcomes, vault
from rotators.core import deadline
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import Confirmation
from rotators.core.contract import (
    PROVIDER_ADDRESS,
    Contract,
    check_value_format,
    next_version_tags,
    read_contract,
    rotated_by,
    secret_value,
    tag_name,
)
from rotators.core.errors import (
    BadRequest,
    CoolingDown,
    CredentialDrift,
    KeyAuthDisabled,
    ResourceBusy,
    RotationError,
    RotationInProgress,
    SecretBroken,
    TransientError,
)
from rotators.core.keys import Description, Holding, KeyState, Step, holding, progress, regenerated_value
from rotators.core.logs import get_logger
from rotators.core.plan import Action, Plan, plan_rotation
from rotators.core.records import RotationRecord, SecretRef, SecretVersionInfo
from rotators.core.settings import get_settings
from rotators.kinds.base import inspect
from rotators.workflows import claims, consumers, failures, verification

logger = get_logger(__name__)

# What a trigger keeps back from waiting on Azure: 5 s in all, of which the rotation keeps 4 to write
# the new version and let go of the lock, and the trigger 1 to note a failure (two blob calls) before it
# answers: a call that stalls to the end of the rotation's time still leaves that second.
FAILURE_NOTE_RESERVE_SECONDS = 1.0
WRITE_RESERVE_SECONDS = 5.0 - FAILURE_NOTE_RESERVE_SECONDS
# A regeneration Azure accepted runs on its clock for a minute to hours (Microsoft's key
# rotation doc); asking again meanwhile only meets 412, so it is not asked again for this long.
ACCEPTED_SETTLE = timedelta(minutes=30)


class Trigger(enum.StrEnum):
    EVENT = "event"
    HTTP = "http"
    CLI = "cli"
    SWEEP = "sweep"

    @property
    def asked_by_a_person(self) -> bool:
        return self in (Trigger.HTTP, Trigger.CLI)


@dataclass(frozen=True)
class RotationRequest:
    vault: VaultAddress
    secret_name: str
    trigger: Trigger
    event_version: str | None = None
    event_id: str | None = None
    force: bool = False
    dry_run: bool = False

    @property
    def secret(self) -> SecretRef:
        return SecretRef.of(self.vault.url, self.secret_name)


class Status(enum.StrEnum):
    ROTATED = "rotated"
    REPAIRED = "repaired"
    PLANNED = "planned"
    STALE = "stale"
    COOLING_DOWN = "coolingDown"
    PENDING = "pending"


# The outcomes an operator hears of; a stale event or the cool-down is routine.
_OUTCOME_EVENTS = {
    Status.ROTATED: outcomes.SECRET_ROTATED,
    Status.REPAIRED: outcomes.SECRET_ROTATED,
    Status.PENDING: outcomes.ROTATION_PENDING,
}
# Refusals that are the caller's business, not a failed rotation: bad input, the cool-down, another trigger at work.
_NOT_FAILURES = (BadRequest, CoolingDown, RotationInProgress)


@dataclass(frozen=True)
class RotationOutcome:
    """What happened, for logs, HTTP responses, the CLI and outcome events. Never holds a key value."""

    status: Status
    vault: str
    secret: str
    reason: str
    previous_version: str
    previous_credential: str
    new_credential: str
    resource_id: str
    new_version: str | None = None
    expires_on: datetime | None = None
    consumers: tuple[dict[str, str], ...] = ()  # each declared consumer's refresh, after the write

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["expires_on"] = self.expires_on.isoformat() if self.expires_on else None
        data["consumers"] = list(self.consumers)
        return {_camel(key): value for key, value in data.items()}


def rotate(
    request: RotationRequest, *, now: datetime | None = None, pairs: claims.PairIndex | None = None
) -> RotationOutcome:
    """Rotate one secret, or say why not; and tell the outcome topic what came of it.

    ``pairs`` indexes the vault's enrolled secrets by key pair when the caller has just
    listed the vault (the sweep), so claiming a pair for the first time lists it no more.
    """
    seen = _Seen()
    try:
        with deadline.keeping(FAILURE_NOTE_RESERVE_SECONDS):
            outcome = _rotate(request, now, pairs, seen)
    except RotationError as exc:
        if request.dry_run or isinstance(exc, _NOT_FAILURES):
            raise
        if exc.retryable:  # retried; reported once if it never clears (rotators.core.failures)
            _note_failure(request, exc, seen.version, now or _utcnow())
        else:
            data = {"trigger": request.trigger.value, "eventId": request.event_id, "code": exc.code}
            outcomes.publish(
                outcomes.ROTATION_FAILED, request.vault, request.secret_name, {**data, "reason": exc.message}
            )
        raise
    event_type = _OUTCOME_EVENTS.get(outcome.status)
    if event_type is not None:
        data = {"trigger": request.trigger.value, "eventId": request.event_id, **outcome.as_dict()}
        outcomes.publish(event_type, request.vault, request.secret_name, data)
    return outcome


@dataclass
class _Seen:
    """What a rotation read before it failed, for the failure memory: the current version, once read."""

    version: str | None = None


def _note_failure(request: RotationRequest, error: RotationError, version: str | None, now: datetime) -> None:
    """Count a retryable failure against the version; the answer says how it stands."""
    noted = failures.note(
        request.vault,
        request.secret_name,
        version,
        error,
        now=now,
        trigger=request.trigger.value,
        event_id=request.event_id,
    )
    if noted is not None:
        summary = noted.summary()
        error.message = f"{error.message} {summary[:1].upper()}{summary[1:]}."


def _rotate(
    request: RotationRequest, now: datetime | None, pairs: claims.PairIndex | None, seen: _Seen
) -> RotationOutcome:
    get_settings().check_vault(request.vault)
    now = now or _utcnow()
    current, value, contract, plan = _plan(request, now, rotation=None, seen=seen)
    if plan.action is not Action.ROTATE:
        return _without_rotating(request, current, plan)
    if request.dry_run:
        _next_tags(request, current, plan)
        claims.check(request.secret, request.vault, contract, lock.peek(contract.pair_name), pairs)
        _check_keys(request, value, contract, plan, inspect(contract.kind, contract.resource))
        return _without_rotating(request, current, plan)
    with lock.hold(contract.pair_name, holder=str(request.secret)) as lease:
        claims.claim(request.secret, request.vault, contract, lease, pairs)
        # Under the lock everything is read again, the consumers too: the tags may have changed (a
        # Consumers tag update writes no new version), and a confirmation counts only for what it asked.
        current, value, again, plan = _plan(request, now, lease.record.rotation, seen=seen)
        if again.pair_name != contract.pair_name:
            raise TransientError(f"The tags of secret '{request.secret_name}' changed during its rotation; retry.")
        if plan.action is not Action.ROTATE:
            return _without_rotating(request, current, plan)
        return _carry_out(request, current, value, again, plan, lease)


def _plan(
    request: RotationRequest, now: datetime, rotation: RotationRecord | None, *, seen: _Seen
) -> tuple[SecretVersionInfo, str, Contract, Plan]:
    """Read the current version and plan; inside the cool-down, ask the consumers when they may end it."""
    current, value = vault.read_current(request.vault, request.secret_name)
    seen.version = current.version
    contract = read_contract(current.tags, request.vault.cloud)
    settings = get_settings()

    def plan(confirmation: Confirmation | None = None) -> Plan:
        return plan_rotation(
            current,
            contract,
            now=now,
            min_interval=settings.min_interval,
            event_version=request.event_version,
            force=request.force,
            record=rotation,
            confirmed_min_interval=settings.confirmed_min_interval,
            confirmation=confirmation,
        )

    planned = plan()
    if planned.confirmable:  # inside the cool-down: only the consumers themselves can end it early
        planned = plan(
            consumers.confirm(
                contract, request.vault, request.secret_name, current.version, reserve=WRITE_RESERVE_SECONDS
            )
        )
    return current, value, contract, planned


# regenerate and write ----------------------------------------------------------------------


def _carry_out(
    request: RotationRequest,
    current: SecretVersionInfo,
    value: str,
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
) -> RotationOutcome:
    if contract.expires_within_near_expiry_window:
        logger.warning(
            "Secret %s in %s has ValidityPeriodDays of %d: Key Vault sends SecretNearExpiry 30 days before expiry, "
            "so every new version is near expiry at once and only the cool-down holds rotations apart.",
            request.secret_name,
            request.vault,
            contract.validity.days,
        )
    _next_tags(request, current, plan)  # Key Vault's tag limit, before anything is regenerated
    state = inspect(contract.kind, contract.resource)
    if _check_keys(request, value, contract, plan, state) is Holding.NEITHER:
        return _repair(request, current, contract, plan, lease, state)
    rotation = plan.resume
    if rotation is not None:
        step = progress(
            rotation,
            state,
            now=_utcnow(),
            settle=get_settings().request_settle,
            accepted_settle=ACCEPTED_SETTLE,
        )
        if step.step is Step.WAIT:
            return _pending(request, current, plan, step.reason)
        if step.step is Step.REGENERATED:
            return _publish(request, current, contract, plan, lease, rotation, state, state.values)
    sent = _request(contract, plan, lease, rotation, state, current)
    if isinstance(sent, _Waiting):
        return _pending(request, current, plan, sent.reason)
    answer = _regenerate(request, contract, plan, lease, sent)
    if isinstance(answer, _Waiting):
        return _pending(request, current, plan, answer.reason)
    return _publish(request, current, contract, plan, lease, sent, state, answer)


def _check_keys(request: RotationRequest, value: str, contract: Contract, plan: Plan, state: KeyState) -> Holding:
    """Refuse unless keys work on the resource, its value format fits it, and the secret's value is the
    key its CredentialId names (``force`` repairs a dead key)."""
    resource = contract.resource
    check_key_auth(contract, state, request.secret_name)
    check_value_format(contract, state)
    held = holding(contract.held_key(value), state, plan.current.key, plan.target.key)
    if held is Holding.ALTERNATE:
        raise CredentialDrift(
            f"Secret '{request.secret_name}' holds {plan.target.tag} of {resource.name}, but its CredentialId says "
            f"{plan.current.tag}: regenerating the 'alternate' would break every app. Set the tag CredentialId to "
            f"{plan.target.tag} on the current version, then rotate."
        )
    if held is Holding.NEITHER and not request.force:
        logger.error(
            "Secret %s in %s holds neither key of the %s: it already holds a dead key.",
            request.secret_name,
            request.vault,
            contract.describe_key_pair(),
        )
        raise SecretBroken(
            f"Secret '{request.secret_name}' holds neither key of the {contract.describe_key_pair()}: apps reading "
            f"it already fail. Rotate with force to write the live {plan.current.tag} (nothing is regenerated)."
        )
    return held


def check_key_auth(contract: Contract, state: KeyState, secret_name: str) -> None:
    """Refuse a resource nobody can use keys on: Microsoft recommends managed identities instead."""
    if state.key_auth_disabled:
        kind = contract.kind
        raise KeyAuthDisabled(
            f"The {kind.display_name} {contract.resource.name} refuses key authentication ({state.key_auth_disabled}): "
            f"nobody can use its keys, so rotating them is pointless. Use {kind.passwordless}, "
            f"and remove the rotation tags from secret '{secret_name}'."
        )


@dataclass(frozen=True)
class _Waiting:
    reason: str


def _request(
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
    rotation: RotationRecord | None,
    state: KeyState,
    current: SecretVersionInfo,
) -> RotationRecord | _Waiting:
    """Record that a regeneration request is about to go out: one save, before the request."""
    if (left := deadline.remaining()) is not None and left < WRITE_RESERVE_SECONDS:
        return _Waiting("the trigger's time is nearly up; the next trigger asks Azure")
    at = _utcnow()
    if rotation is None:
        rotation = RotationRecord.start(
            current,
            plan.target.tag,
            plan.target.key,
            key_before=state.values[plan.target.key],
            generated_before=state.generated.get(plan.target.key),
            at=at,
        )
    else:
        rotation = rotation.requested(at)
    _save(lease, rotation)
    return rotation


def _regenerate(
    request: RotationRequest, contract: Contract, plan: Plan, lease: lock.Lease, rotation: RotationRecord
) -> Mapping[str, str] | _Waiting:
    """Ask Azure once; wait for a long-running regeneration as long as the trigger may."""
    kind, resource = contract.kind, contract.resource
    lease.ensure_held()
    try:
        answered = kind.regenerate(resource, plan.target.key)
    except ResourceBusy:
        # 412: busy, perhaps with an earlier request of ours; whatever runs, the key checks find it.
        if plan.resume is None or plan.resume.requested_at is None:
            _save(lease, rotation.refused())  # ours was refused and nothing else of ours is in flight
        return _Waiting(f"{resource.name} is running another operation (Azure answered 412), perhaps ours")
    except RotationError as exc:
        if exc.answer is not None and exc.answer.refused:
            _save(lease, rotation.refused())  # a 4xx changed nothing: the next trigger may ask at once
        raise
    if answered is not None:
        return answered
    _save(lease, rotation.accepted_by_azure())
    return _await(request, contract, rotation)


def _await(request: RotationRequest, contract: Contract, rotation: RotationRecord) -> Mapping[str, str] | _Waiting:
    """Poll the resource (not the operation: its status URL is outside the account's scope) until the key changes.

    Each poll is one read of the resource; the keys are listed once Azure reports the key
    generated anew, or on every poll for a key Azure reports no generation time for.
    """
    kind, resource = contract.kind, contract.resource
    poll = get_settings().poll_seconds
    while (left := deadline.remaining()) is None or left > poll + WRITE_RESERVE_SECONDS:
        time.sleep(poll)
        generated = kind.describe(resource).generated.get(rotation.target_key)
        if generated is None or generated != rotation.generated_before:
            values = kind.list_keys(resource)
            if regenerated_value(rotation, values) is not None:
                return values
    return _Waiting(f"Azure is regenerating {rotation.target} of {resource.name} on its own clock")


def _publish(
    request: RotationRequest,
    current: SecretVersionInfo,
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
    rotation: RotationRecord,
    described: Description,
    values: Mapping[str, str],
) -> RotationOutcome:
    """Write the regenerated key; never a value equal to the one before the rotation. ``described`` is the
    resource as this trigger read it: its hosts serve the key test and the connection string."""
    new_value = regenerated_value(rotation, values)
    if new_value is None:
        return _pending(
            request, current, plan, "Azure reports the regeneration done but still lists the old key; read again later"
        )
    waiting = verification.reason_to_wait(
        contract, plan.target.key, new_value, described, reserve=WRITE_RESERVE_SECONDS / 2
    )
    if waiting is not None:
        return _pending(request, current, plan, waiting)
    written = _write(request, current, contract, plan, lease, secret_value(contract, new_value, described))
    logger.info(
        "Rotated secret %s in %s: version %s (%s) -> %s (%s), expires %s.",
        request.secret_name,
        request.vault,
        current.version,
        plan.current.tag,
        written.version,
        plan.target.tag,
        written.expires_on.isoformat() if written.expires_on else "never",
    )
    return _outcome(
        request,
        current,
        plan,
        Status.ROTATED,
        new_version=written.version,
        expires_on=written.expires_on,
        consumers=_refresh_consumers(request, contract, written),
    )


def _repair(
    request: RotationRequest,
    current: SecretVersionInfo,
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
    state: KeyState,
) -> RotationOutcome:
    """Forced on a secret holding a dead key: write the live key its CredentialId names, regenerate nothing."""
    live = replace(plan, target=plan.current)
    written = _write(
        request, current, contract, live, lease, secret_value(contract, state.values[plan.current.key], state)
    )
    logger.warning(
        "Secret %s in %s held a dead key; version %s now holds the live %s (nothing regenerated).",
        request.secret_name,
        request.vault,
        written.version,
        plan.current.tag,
    )
    return _outcome(
        request,
        current,
        live,
        Status.REPAIRED,
        reason=f"the secret held neither key; it now holds the live {plan.current.tag} (nothing regenerated)",
        new_version=written.version,
        expires_on=written.expires_on,
        consumers=_refresh_consumers(request, contract, written),
    )


def _write(
    request: RotationRequest,
    current: SecretVersionInfo,
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
    value: str,
) -> SecretVersionInfo:
    tags = _next_tags(request, current, plan)
    lease.ensure_held()
    return vault.write_version(
        request.vault,
        request.secret_name,
        value,
        tags=tags,
        content_type=current.content_type,
        expires_on=plan.expires_on,
    )


def _next_tags(request: RotationRequest, current: SecretVersionInfo, plan: Plan) -> dict[str, str]:
    """The tags of the version ``plan`` writes; refused (NotRotatable) when Key Vault would refuse them."""
    return next_version_tags(current.tags, plan.target.tag, rotated_by(request.trigger.value, request.event_id))


def _refresh_consumers(
    request: RotationRequest, contract: Contract, written: SecretVersionInfo
) -> tuple[dict[str, str], ...]:
    """Tell the declared consumers a new version exists (after the write: nothing here undoes it)."""
    if not contract.consumers:
        return ()
    reports = consumers.refresh_consumers(
        contract, request.vault, request.secret_name, written.version, written.created_on, reserve=WRITE_RESERVE_SECONDS
    )
    return tuple(report.as_dict() for report in reports)


def _save(lease: lock.Lease, rotation: RotationRecord) -> None:
    lease.save(lease.record.with_rotation(rotation))


# outcomes ----------------------------------------------------------------------------------


def _outcome(
    request: RotationRequest, current: SecretVersionInfo, plan: Plan, status: Status, **changes: Any
) -> RotationOutcome:
    fields: dict[str, Any] = {
        "status": status,
        "vault": str(request.vault),
        "secret": request.secret_name,
        "reason": plan.reason,
        "previous_version": current.version,
        "previous_credential": plan.current.tag,
        "new_credential": plan.target.tag,
        "resource_id": current.tags.get(tag_name(current.tags, PROVIDER_ADDRESS), ""),
    }
    return RotationOutcome(**{**fields, **changes})


def _pending(request: RotationRequest, current: SecretVersionInfo, plan: Plan, reason: str) -> RotationOutcome:
    logger.warning(
        "Rotation of %s in %s is waiting on Azure (%s); a later trigger resumes it.",
        request.secret_name,
        request.vault,
        reason,
    )
    return _outcome(request, current, plan, Status.PENDING, reason=reason)


def _without_rotating(request: RotationRequest, current: SecretVersionInfo, plan: Plan) -> RotationOutcome:
    if plan.action is Action.COOLING_DOWN and request.trigger.asked_by_a_person and not request.dry_run:
        raise CoolingDown(f"Secret '{request.secret_name}' was not rotated: {plan.reason}. Use force to override.")
    status = {
        Action.ROTATE: Status.PLANNED,
        Action.STALE: Status.STALE,
        Action.COOLING_DOWN: Status.COOLING_DOWN,
    }[plan.action]
    logger.info("Secret %s in %s not rotated (%s): %s.", request.secret_name, request.vault, status.value, plan.reason)
    return _outcome(request, current, plan, status, expires_on=plan.expires_on if status is Status.PLANNED else None)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
