"""One rotation, as idempotent steps in the manner of the Secrets Manager rotation template.

    validate   allowlist, secret, tags: refusals happen here, before anything is written
    lock       the per-secret lease; re-read and re-plan under it
    start      record the target key, and the moment we ask Azure to change it
    regenerate the alternate key (or resume the recorded operation, or find out what became
               of a request whose answer was lost before asking again)
    write      the new secret version with the alternate CredentialId and a fresh expiry
    finish     record the new version

Each step returns early when a crashed predecessor already did its work, so any trigger
can finish any rotation, no step regenerates the key the current version holds, and no
rotation asks Azure twice for a regeneration that may already be under way.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from rotators.adapters import lock, vault
from rotators.core import deadline
from rotators.core.clouds import VaultAddress
from rotators.core.contract import (
    CREDENTIAL_ID,
    Contract,
    enrolled_contracts,
    key_pair_conflict,
    read_contract,
    secret_value,
    shared_key_pairs,
    tag_name,
)
from rotators.core.errors import CoolingDown, NotRotatable, OperationFailed, RotationError
from rotators.core.logs import get_logger
from rotators.core.plan import Action, Plan, plan_rotation
from rotators.core.records import Phase, RotationRecord, SecretVersionInfo
from rotators.core.settings import get_settings

logger = get_logger(__name__)


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
    force: bool = False
    dry_run: bool = False


class Status(enum.StrEnum):
    ROTATED = "rotated"
    PLANNED = "planned"
    STALE = "stale"
    COOLING_DOWN = "coolingDown"
    PENDING = "pending"


@dataclass(frozen=True)
class RotationOutcome:
    """What happened, for logs, HTTP responses and the CLI. Never holds a key value."""

    status: Status
    vault: str
    secret: str
    reason: str
    previous_version: str
    previous_credential: str
    new_credential: str
    new_version: str | None = None
    expires_on: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["expires_on"] = self.expires_on.isoformat() if self.expires_on else None
        return {_camel(key): value for key, value in data.items()}


def rotate(
    request: RotationRequest,
    *,
    now: datetime | None = None,
    vault_secrets: Sequence[SecretVersionInfo] | None = None,
) -> RotationOutcome:
    """Rotate one secret, or say why not.

    ``vault_secrets`` is the vault's listing when the caller has just made one (the sweep),
    so the check that no other secret rotates the same key pair does not list it again.
    """
    settings = get_settings()
    settings.check_vault(request.vault)
    now = now or datetime.now(timezone.utc)
    current, contract, plan = _plan(request, now, record=None)
    if plan.action is Action.ROTATE:
        _check_sole_owner(request, contract, vault_secrets)
    if plan.action is not Action.ROTATE or request.dry_run:
        return _without_rotating(request, current, plan)
    with lock.hold(request.vault, request.secret_name) as lease:
        current, contract, plan = _plan(request, now, record=lease.record)
        if plan.action is not Action.ROTATE:
            return _without_rotating(request, current, plan)
        return _carry_out(request, current, contract, plan, lease, now)


def _plan(
    request: RotationRequest, now: datetime, record: RotationRecord | None
) -> tuple[SecretVersionInfo, Contract, Plan]:
    current = vault.read_current(request.vault, request.secret_name)
    contract = read_contract(current.tags, request.vault.cloud)
    plan = plan_rotation(
        current,
        contract,
        now=now,
        min_interval=get_settings().min_interval,
        event_version=request.event_version,
        force=request.force,
        record=record,
    )
    return current, contract, plan


def _check_sole_owner(
    request: RotationRequest, contract: Contract, vault_secrets: Sequence[SecretVersionInfo] | None
) -> None:
    listed = vault.list_secrets(request.vault) if vault_secrets is None else vault_secrets
    mine = request.secret_name.lower()
    contracts = enrolled_contracts((s for s in listed if s.name.lower() != mine), request.vault.cloud)
    others = shared_key_pairs({**contracts, request.secret_name: contract}).get(request.secret_name)
    if others:
        raise NotRotatable(key_pair_conflict(request.secret_name, contract, others))


def _outcome(
    request: RotationRequest, current: SecretVersionInfo, plan: Plan, status: Status, **changes: Any
) -> RotationOutcome:
    fields: dict[str, Any] = {
        "status": status,
        "vault": request.vault.name,
        "secret": request.secret_name,
        "reason": plan.reason,
        "previous_version": current.version,
        "previous_credential": plan.current.tag,
        "new_credential": plan.target.tag,
    }
    return RotationOutcome(**{**fields, **changes})


def _without_rotating(request: RotationRequest, current: SecretVersionInfo, plan: Plan) -> RotationOutcome:
    if plan.action is Action.COOLING_DOWN and request.trigger.asked_by_a_person and not request.dry_run:
        raise CoolingDown(f"Secret '{request.secret_name}' was not rotated: {plan.reason}. Use force to override.")
    status = {
        Action.ROTATE: Status.PLANNED,
        Action.STALE: Status.STALE,
        Action.COOLING_DOWN: Status.COOLING_DOWN,
    }[plan.action]
    logger.info(
        "Secret %s in %s not rotated (%s): %s.", request.secret_name, request.vault.name, status.value, plan.reason
    )
    return _outcome(request, current, plan, status, expires_on=plan.expires_on if status is Status.PLANNED else None)


def _carry_out(
    request: RotationRequest,
    current: SecretVersionInfo,
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
    now: datetime,
) -> RotationOutcome:
    if contract.expires_within_near_expiry_window:
        logger.warning(
            "Secret %s in %s has ValidityPeriodDays of %d: Key Vault sends SecretNearExpiry 30 days before expiry, "
            "so every new version is near expiry at once and only the cool-down holds rotations apart.",
            request.secret_name,
            request.vault.name,
            contract.validity.days,
        )
    value = _regenerate(contract, plan, plan.resume or _start(lease, current, contract, plan, now), lease)
    if isinstance(value, _Waiting):
        logger.warning(
            "Rotation of %s in %s is waiting on Azure (%s); a later trigger resumes it.",
            request.secret_name,
            request.vault.name,
            value.reason,
        )
        return _outcome(request, current, plan, Status.PENDING, reason=value.reason)
    written = _write(request, current, contract, plan, lease, value)
    lease.save(_held(lease).written(written.version))
    logger.info(
        "Rotated secret %s in %s: version %s (%s) -> %s (%s), expires %s.",
        request.secret_name,
        request.vault.name,
        current.version,
        plan.current.tag,
        written.version,
        plan.target.tag,
        written.expires_on.isoformat() if written.expires_on else "never",
    )
    return _outcome(request, current, plan, Status.ROTATED, new_version=written.version, expires_on=written.expires_on)


def _start(
    lease: lock.Lease, current: SecretVersionInfo, contract: Contract, plan: Plan, now: datetime
) -> RotationRecord:
    key_before = contract.kind.read_key(contract.resource, plan.target.key)
    record = RotationRecord.start(current.version, plan.target.tag, key_before, at=_utcnow())
    lease.save(record)
    return record


@dataclass(frozen=True)
class _Waiting:
    reason: str


def _regenerate(contract: Contract, plan: Plan, record: RotationRecord, lease: lock.Lease) -> str | _Waiting:
    kind, resource, key = contract.kind, contract.resource, plan.target.key
    if record.phase is Phase.REGENERATED:
        return kind.read_key(resource, key)
    lease.ensure_held()
    if record is plan.resume and record.operation is None:
        found = _find_lost_request(contract, plan, record, lease)
        if found is not None:
            return found
        lease.save(record.requested(_utcnow()))

    def started(token: str) -> None:
        lease.save(_held(lease).operation_started(token))

    try:
        value = kind.regenerate(
            resource,
            key,
            resume=record.operation,
            on_started=started,
            wait_seconds=_wait_seconds(),
        )
    except RotationError as exc:
        if isinstance(exc, OperationFailed) or (exc.answer is not None and exc.answer.refused):
            # Azure refused the request, or the operation ended Failed or can no longer be followed:
            # nothing is left in flight that the next trigger's busy and key checks would miss.
            lease.save(_held(lease).answered())
        raise
    if value is None:
        return _Waiting("the key regeneration is still running")
    lease.save(_held(lease).regenerated())
    return value


def _find_lost_request(
    contract: Contract, plan: Plan, record: RotationRecord, lease: lock.Lease
) -> str | _Waiting | None:
    """A regeneration request was sent and its answer lost: find out what became of it.

    Asking for the resource's running operation before reading the key leaves no moment in
    which that request can complete unseen; ``None`` means it never took effect and will not.
    """
    kind, resource = contract.kind, contract.resource
    if kind.operation_in_progress(resource):
        return _Waiting(f"{resource.name} is still running an operation, perhaps the regeneration itself")
    value = kind.read_key(resource, plan.target.key)
    if record.key_changed(value):
        lease.save(record.regenerated())
        return value
    again = record.resend_after(get_settings().request_settle)
    if again is not None and _utcnow() < again:
        return _Waiting(
            "the last regeneration request went unanswered and Azure may still apply it; "
            f"it is sent again from {again:%H:%M:%S} UTC"
        )
    return None


# What a trigger keeps back from waiting on Azure, to write the new version and let go of the lock.
WRITE_RESERVE_SECONDS = 5.0


def _wait_seconds() -> float:
    """How long this trigger may wait on a long-running regeneration before leaving it to the next."""
    left = deadline.remaining()
    wait = get_settings().operation_wait_seconds
    return wait if left is None else max(0.0, min(wait, left - WRITE_RESERVE_SECONDS))


def _held(lease: lock.Lease) -> RotationRecord:
    """The record of a rotation under way: every caller runs after ``_start`` saved one."""
    if lease.record is None:
        raise RuntimeError("no rotation record is held")
    return lease.record


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _write(
    request: RotationRequest,
    current: SecretVersionInfo,
    contract: Contract,
    plan: Plan,
    lease: lock.Lease,
    key_value: str,
) -> SecretVersionInfo:
    tags = {**current.tags, tag_name(current.tags, CREDENTIAL_ID): plan.target.tag}
    lease.ensure_held()
    return vault.write_version(
        request.vault,
        request.secret_name,
        secret_value(contract, key_value),
        tags=tags,
        content_type=current.content_type,
        expires_on=plan.expires_on,
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
