"""One rotation, as idempotent steps in the manner of the Secrets Manager rotation template.

    validate   allowlist, secret, tags, stale event, cool-down, Key Vault's tag limit: refusals
               happen before any write
    lock       the key pair's lease; re-read and re-plan under it
    claim      the first secret on a key pair owns it; another one is refused and contests it
    inspect    the resource's keys: key authentication on? is the value the key its tag names?
    regenerate the alternate key, once: or find out what became of an earlier request (its
               key changed, or Azure reports it generated) before ever asking again
    verify     the new key on the resource's data plane, where the kind has a test
               (rotators.workflows.verification): a key the service refuses is never published
    write      the new secret version with the alternate CredentialId and a fresh expiry
    consumers  the declared apps are told of the new version (rotators.workflows.consumers);
               nothing they do undoes the write

An Entra ID application has no pair: its rotation adds a password (once), keeps its text in Key Vault
only, tests it, writes it, then removes the secret's older passwords but the previous version's
(:meth:`_Rotation._add_password`; same validation, lock, claim and record).

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
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from rotators.adapters import lock, outcomes, vault
from rotators.core import deadline
from rotators.core.clouds import VaultAddress
from rotators.core.contract import (
    CREDENTIAL_ID,
    PROVIDER_ADDRESS,
    Contract,
    is_enrolled,
    next_version_tags,
    read_contract,
    rotated_by,
    tag_name,
)
from rotators.core.errors import (
    BadRequest,
    CoolingDown,
    CredentialDrift,
    NotRotatable,
    ResourceBusy,
    RotationError,
    RotationInProgress,
    SecretBroken,
    SecretNotFound,
    TransientError,
)
from rotators.core.history import previous_version
from rotators.core.keys import KeyState, Step, progress, regenerated_value
from rotators.core.logs import get_logger
from rotators.core.plan import Action, Plan, Planning
from rotators.core.records import NewVersion, RotationRecord, SecretRef, SecretVersionInfo
from rotators.core.settings import get_settings
from rotators.core.verdict import Verdict, refusal, verdict
from rotators.kinds import KINDS, canonical, entra, inspect, key_kind, password_kind, secret_value
from rotators.workflows import claims, consumers, failures, verification

logger = get_logger(__name__)

# What a trigger keeps back from waiting on Azure: 5 s in all, of which the rotation keeps 4 to write
# the new version and let go of the lock, and the trigger 1 to note or close a failure (two blob calls, and
# a report's event) before it answers: a call that stalls to the end of the rotation's time leaves that second.
FAILURE_NOTE_RESERVE_SECONDS = 1.0
WRITE_RESERVE_SECONDS = 5.0 - FAILURE_NOTE_RESERVE_SECONDS
# A regeneration Azure accepted runs on its clock for a minute to hours (Microsoft's key
# rotation doc); asking again meanwhile only meets 412, so it is not asked again for this long.
ACCEPTED_SETTLE = timedelta(minutes=30)
# A new application password is published once Entra ID accepted it this many times in a row, this long apart
# at least (rotators.kinds.entra: a new password propagates for seconds to minutes, and replicas disagree).
PASSWORD_CONFIRMATIONS = 2
PASSWORD_TEST_BACKOFF = 0.5


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
    request: RotationRequest,
    *,
    now: datetime | None = None,
    pairs: claims.PairIndex | None = None,
    current: tuple[SecretVersionInfo, str] | None = None,
) -> RotationOutcome:
    """Rotate one secret, or say why not; and tell the outcome topic what came of it.

    ``pairs`` indexes the vault's enrolled secrets by key pair when the caller has just
    listed the vault (the sweep), so claiming a pair for the first time lists it no more.
    ``current`` is the current version and its value as the caller has just read them (the
    queued sweep's due check): it stands in for the first read, which only finds the key pair
    to lock; everything is read again under the lock as ever.
    """
    attempt = _Attempt(request)
    try:
        with deadline.keeping(FAILURE_NOTE_RESERVE_SECONDS):
            outcome = attempt.rotate(now, pairs, current)
    except RotationError as exc:
        if request.dry_run or isinstance(exc, _NOT_FAILURES):
            raise
        if exc.retryable:  # retried; reported once if it never clears (rotators.core.failures)
            attempt.note_failure(exc, now or _utcnow())
        else:
            data = {"trigger": request.trigger.value, "eventId": request.event_id, "code": exc.code}
            outcomes.publish(
                outcomes.ROTATION_FAILED, request.vault, request.secret_name, {**data, "reason": exc.message}
            )
        raise
    if outcome.new_version is None and not request.dry_run:  # a new version leaves the old one's memory behind
        attempt.close_failures(through=outcome.status is Status.PENDING)
    event_type = _OUTCOME_EVENTS.get(outcome.status)
    if event_type is not None:
        data = {"trigger": request.trigger.value, "eventId": request.event_id, **outcome.as_dict()}
        outcomes.publish(event_type, request.vault, request.secret_name, data)
    return outcome


@dataclass
class _Attempt:
    """One trigger's attempt at a rotation: what was asked, and the current version once read (what a
    failure is counted against in the failure memory)."""

    request: RotationRequest
    version: str | None = None

    def rotate(
        self, now: datetime | None, pairs: claims.PairIndex | None, current: tuple[SecretVersionInfo, str] | None
    ) -> RotationOutcome:
        request = self.request
        get_settings().check_vault(request.vault)
        now = now or _utcnow()
        read = self.read(now, None, current)
        if read.plan.action is not Action.ROTATE:
            return read.without_rotating()
        if request.dry_run:
            return read.dry_run(pairs)
        with lock.hold(read.contract.pair_name, holder=str(request.secret)) as lease:
            claims.claim(request.secret, read.contract, lease, pairs)
            # Under the lock everything is read again, the consumers too: the tags may have changed (a
            # Consumers tag update writes no new version), and a confirmation counts only for what it asked.
            again = self.read(now, lease.record.rotation)
            if again.contract.pair_name != read.contract.pair_name:
                raise TransientError(f"The tags of secret '{request.secret_name}' changed during its rotation; retry.")
            if again.plan.action is not Action.ROTATE:
                return again.without_rotating()
            return _Rotation.under(again, lease).carry_out()

    def read(
        self, now: datetime, record: RotationRecord | None, current: tuple[SecretVersionInfo, str] | None = None
    ) -> _Read:
        read = _Read.take(self.request, now, record, current)
        self.version = read.current.version
        return read

    def note_failure(self, error: RotationError, now: datetime) -> None:
        """Count a retryable failure against the version; the answer says how it stands."""
        request = self.request
        failing = failures.Failing(
            request.vault, request.secret_name, self.version, request.trigger.value, request.event_id
        )
        noted = failures.note(failing, error, now=now)
        if noted is not None:
            summary = noted.summary()
            error.message = f"{error.message} {summary[:1].upper()}{summary[1:]}."

    def close_failures(self, *, through: bool) -> None:
        """The attempt read the version and ended without a failure, having gone ``through`` every step (it
        waits on Azure) or not (the plan stopped it): the failures it got past are over."""
        if self.version is not None:
            failures.close(self.request.vault, self.request.secret_name, self.version, through=through)


class _Pending(Exception):
    """A step that cannot go on in this trigger: the rotation answers ``pending`` and a later trigger resumes it.

    Raised by the steps below and turned into that answer in one place, :meth:`_Rotation.carry_out`.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Read:
    """One read of a secret for a rotation: what was asked, the current version, its value (never shown),
    its contract and the plan made from them. Every step starts from it."""

    request: RotationRequest
    current: SecretVersionInfo
    value: str = field(repr=False)
    contract: Contract
    plan: Plan

    @classmethod
    def take(
        cls,
        request: RotationRequest,
        now: datetime,
        record: RotationRecord | None,
        known: tuple[SecretVersionInfo, str] | None = None,
    ) -> _Read:
        """Read the current version (unless ``known``: just read by the caller) and plan (resuming ``record``);
        inside the cool-down, ask the consumers when they may end it."""
        current, value = known or vault.read_current(request.vault, request.secret_name)
        contract = canonical(read_contract(current.tags, request.vault.cloud, KINDS))
        settings = get_settings()
        planning = Planning(
            current,
            contract,
            now=now,
            min_interval=settings.min_interval,
            event_version=request.event_version,
            force=request.force,
            record=record,
            confirmed_min_interval=settings.confirmed_min_interval,
        )
        plan = planning.plan()
        if plan.confirmable:  # inside the cool-down: only the consumers themselves can end it early
            asked = consumers.Written(contract, request.vault, request.secret_name, current.version, current.created_on)
            plan = planning.plan(consumers.confirm(asked, reserve=WRITE_RESERVE_SECONDS))
        return cls(request, current, value, contract, plan)

    def dry_run(self, pairs: claims.PairIndex | None) -> RotationOutcome:
        """Every refusal a rotation would make before its first write, with nothing written, locked or added."""
        self.next_tags()
        claims.check(self.request.secret, self.contract, lock.peek(self.contract.pair_name), pairs)
        adding = password_kind(self.contract)
        if adding is None:
            self.judge(inspect(self.contract))
            return self.without_rotating()
        held = self.judge_password(adding.read(self.contract.resource))
        kept = f"; password {held.key_id}, which the current version holds, stays valid" if held else ""
        why = f"{self.plan.reason.partition(';')[0]}; add a password, test it and publish it{kept}"
        return replace(self.without_rotating(), reason=why, new_credential="")

    def _check_staging_name(self, staging: str) -> None:
        """Refuse, before anything is added, when the staging secret's name holds anything but this secret's
        staged passwords (another enrolled secret, a user's secret): writing there would overwrite it."""
        try:
            versions = vault.list_versions(self.request.vault, staging)
        except SecretNotFound:
            return
        if not versions:
            return
        newest, _ = max(versions, key=lambda item: item[0].created_on)
        tags = newest.tags or {}
        password_of = tags.get(tag_name(tags, entra.STAGING_OWNER), "")
        if password_of.lower() == self.request.secret_name.lower() and not is_enrolled(tags):
            return
        raise NotRotatable(
            f"Secret '{self.request.secret_name}' is an application password, whose new password waits in secret "
            f"'{staging}' until tested, but '{staging}' already holds another secret (its current version is not "
            f"tagged {entra.STAGING_OWNER}={self.request.secret_name}, or is enrolled): nothing was added. Rename or "
            "remove that secret, or rotate this application under another secret name."
        )

    def next_tags(self, credential: str | None = None) -> dict[str, str]:
        """The tags of the version the plan writes (``credential``: the CredentialId of a password just added);
        refused (NotRotatable) when Key Vault would refuse them."""
        written_by = rotated_by(self.request.trigger.value, self.request.event_id)
        return next_version_tags(self.current.tags, credential or self.plan.target.tag, written_by)

    def judge_password(self, application: entra.Application) -> entra.Password | None:
        """Refuse an application rotation that cannot be carried out safely, before anything is added: the
        password the CredentialId names, or ``None`` when the application no longer holds it (with ``force``)."""
        request, contract = self.request, self.contract
        keyid = contract.credential.tag
        if len(request.secret_name) > entra.MAX_SECRET_NAME:
            raise NotRotatable(
                f"Secret name '{request.secret_name}' is too long for an application password's rotation: its new "
                f"password waits in secret '<name>{entra.STAGING_SUFFIX}' until tested, and Key Vault names hold at "
                f"most 127 characters. Use a name of at most {entra.MAX_SECRET_NAME} characters."
            )
        self._check_staging_name(entra.Naming(request.vault.name, request.secret_name).staging)
        held = application.password(keyid)
        if held is None:
            if request.force:
                return None
            raise SecretBroken(
                f"Secret '{request.secret_name}' holds password {keyid} (its CredentialId), which application "
                f"{contract.resource.name} no longer has: apps reading it already fail. Rotate with force to add, "
                "test and publish a new password (nothing is removed that a version holds)."
            )
        if not entra.holds(held, self.value):
            raise CredentialDrift(
                f"Secret '{request.secret_name}' does not hold password {keyid} of application "
                f"{contract.resource.name} (its first characters differ from the hint Graph lists for it): "
                "removing old passwords could cut apps off. Set CredentialId on the current version to the keyId "
                "of the password it holds (status lists the application's passwords), then rotate."
            )
        return held

    def judge(self, state: KeyState) -> Verdict:
        """Refuse unless keys work on the resource, its value format fits it, and the secret's value is the
        key its CredentialId names (``force`` repairs a dead key: :attr:`Verdict.BROKEN` is returned then)."""
        request, contract, plan = self.request, self.contract, self.plan
        judged = verdict(contract, self.value, state)
        if (refused := refusal(judged, contract, state, request.secret_name)) is not None:
            raise refused
        if judged is Verdict.DRIFTED:
            raise CredentialDrift(
                f"Secret '{request.secret_name}' holds {plan.target.tag} of {contract.resource.name}, but its "
                f"CredentialId says {plan.current.tag}: regenerating the 'alternate' would break every app. Set the "
                f"tag CredentialId to {plan.target.tag} on the current version, then rotate."
            )
        if judged is Verdict.BROKEN and not request.force:
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
        return judged

    def outcome(self, status: Status, **changes: Any) -> RotationOutcome:
        request, current, plan = self.request, self.current, self.plan
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

    def pending(self, reason: str) -> RotationOutcome:
        logger.warning(
            "Rotation of %s in %s is waiting on Azure (%s); a later trigger resumes it.",
            self.request.secret_name,
            self.request.vault,
            reason,
        )
        return self.outcome(Status.PENDING, reason=reason)

    def without_rotating(self) -> RotationOutcome:
        request, plan = self.request, self.plan
        if plan.action is Action.COOLING_DOWN and request.trigger.asked_by_a_person and not request.dry_run:
            raise CoolingDown(f"Secret '{request.secret_name}' was not rotated: {plan.reason}. Use force to override.")
        status = {
            Action.ROTATE: Status.PLANNED,
            Action.STALE: Status.STALE,
            Action.COOLING_DOWN: Status.COOLING_DOWN,
        }[plan.action]
        logger.info(
            "Secret %s in %s not rotated (%s): %s.", request.secret_name, request.vault, status.value, plan.reason
        )
        return self.outcome(status, expires_on=plan.expires_on if status is Status.PLANNED else None)


# regenerate and write ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Rotation(_Read):
    """A rotation under its key pair's lock: the read made there, and the lease. Its methods are the steps
    from inspect to consumers, in the manner of Powertools' ``IdempotencyHandler``: each takes at most what
    the step before it found, and a step that must wait raises :class:`_Pending`."""

    lease: lock.Lease

    @classmethod
    def under(cls, read: _Read, lease: lock.Lease) -> _Rotation:
        return cls(read.request, read.current, read.value, read.contract, read.plan, lease)

    def carry_out(self) -> RotationOutcome:
        request, contract = self.request, self.contract
        if contract.expires_within_near_expiry_window:
            logger.warning(
                "Secret %s in %s has ValidityPeriodDays of %d: Key Vault sends SecretNearExpiry 30 days before "
                "expiry, so every new version is near expiry at once and only the cool-down holds rotations apart.",
                request.secret_name,
                request.vault,
                contract.validity.days,
            )
        self.next_tags()  # Key Vault's tag limit, before anything is regenerated
        adding = password_kind(contract)
        if adding is not None:
            return self._add_password(adding)
        state = inspect(contract)
        if self.judge(state) is Verdict.BROKEN:
            return self._repair(state)
        try:
            return self._regenerate_and_publish(state)
        except _Pending as pending:
            return self.pending(pending.reason)

    def _regenerate_and_publish(self, state: KeyState) -> RotationOutcome:
        """Publish a regeneration that already took effect, else ask Azure (once) and publish what it made."""
        rotation = self.plan.resume
        if rotation is not None:
            step = progress(
                rotation,
                state,
                now=_utcnow(),
                settle=get_settings().request_settle,
                accepted_settle=ACCEPTED_SETTLE,
            )
            if step.step is Step.WAIT:
                raise _Pending(step.reason)
            if step.step is Step.REGENERATED:
                return self._publish(rotation, state)
        sent = self._request(state)
        return self._publish(sent, replace(state, values=self._regenerate(sent)))

    # an application's password: add, test, write, then remove the old ones -----------------------

    def _add_password(self, kind: entra.ApplicationPasswords) -> RotationOutcome:
        """Add a password (once per rotation), test it, publish it, then remove this secret's older passwords."""
        request, contract = self.request, self.contract
        application = kind.read(contract.resource)
        held = self.judge_password(application)
        naming = entra.Naming(request.vault.name, request.secret_name)
        try:
            new = self._new_password(kind, application, naming)
            self._test_password(kind, application, new)
        except _Pending as pending:
            waiting = self.lease.record.rotation
            return replace(self.pending(pending.reason), new_credential=(waiting and waiting.password_key_id) or "")
        written = self._write(new.secret_text, credential=new.key_id)
        # A forced repair (the current version's password is gone) keeps the previous version's password too:
        # the version a rollback restores must still work.
        keep = {new.key_id} | ({held.key_id} if held else self._held_by_versions())
        removed = self._remove_passwords(kind, [p for p in application.passwords if naming.ours(p)], keep)
        self._retire_staged(naming)
        logger.info(
            "Rotated secret %s in %s: version %s (password %s) -> %s (password %s), expires %s; removed %d older "
            "password(s) of ours.",
            request.secret_name,
            request.vault,
            self.current.version,
            contract.credential.tag,
            written.version,
            new.key_id,
            written.expires_on.isoformat() if written.expires_on else "never",
            len(removed),
        )
        kept = f"; password {held.key_id}, which the previous version holds, stays valid" if held else ""
        gone = f"; removed older password(s) {', '.join(removed)}" if removed else ""
        return self.outcome(
            Status.ROTATED,
            reason=f"added, tested and published password {new.key_id}{kept}{gone}",
            new_credential=new.key_id,
            new_version=written.version,
            expires_on=written.expires_on,
            consumers=self._refresh_consumers(written),
        )

    def _new_password(
        self, kind: entra.ApplicationPasswords, application: entra.Application, naming: entra.Naming
    ) -> entra.NewPassword:
        """The rotation's new password: the one an earlier trigger added and staged, else one added now.

        An earlier ``addPassword`` whose answer never came (or whose text never reached Key Vault) left a
        password nobody can use: once Graph lists it (after the settle time), it is removed before another
        is added, so a rotation leaves one new password at most.
        """
        contract, rotation = self.contract, self.plan.resume
        if rotation is not None and rotation.password_key_id and rotation.staged_version:
            _, staged_text = vault.read_version(self.request.vault, naming.staging, rotation.staged_version)
            return entra.NewPassword(rotation.password_key_id, staged_text)
        if rotation is not None and rotation.requested_at is not None:
            again = rotation.requested_at + get_settings().request_settle
            if _utcnow() < again:
                raise _Pending(
                    "the last addPassword answer was lost; its password is removed once Graph lists it, from "
                    f"{again:%H:%M:%S} UTC"
                )
            # A rotation started in the same second as an earlier one shares its display name: the passwords
            # the current and previous versions name are never orphans, whatever their name.
            orphans = [p for p in application.passwords if naming.named(p, rotation.started_at)]
            self._remove_passwords(kind, orphans, self._held_by_versions())
        if (left := deadline.remaining()) is not None and left < WRITE_RESERVE_SECONDS:
            raise _Pending("the trigger's time is nearly up; the next trigger adds the password")
        at = _utcnow()
        if rotation is None:
            rotation = RotationRecord.start(
                self.current, self.plan.target, key_before=contract.credential.tag, generated_before=None, at=at
            )
        else:
            rotation = rotation.requested(at)
        self._save(rotation)
        self.lease.ensure_held()
        try:
            new = kind.add_password(
                contract.resource,
                naming.of(rotation.started_at),
                self.plan.expires_on,
                lifetime_days=contract.validity.days,
            )
        except RotationError as exc:
            if exc.answer is not None and exc.answer.refused:
                self._save(rotation.refused())  # a 4xx added nothing
            raise
        # The staging version expires with its password: a policy denying secrets without an expiry would refuse
        # it otherwise. Its near-expiry events name a secret without contract tags, which rotates nothing.
        staged_tags = {entra.STAGING_OWNER: self.request.secret_name, "KeyId": new.key_id}
        staging = NewVersion(naming.staging, staged_tags, None, self.plan.expires_on)
        staged = vault.write_version(self.request.vault, staging, new.secret_text)
        self._save(rotation.password_added(new.key_id, staged.version))
        return new

    def _test_password(
        self, kind: entra.ApplicationPasswords, application: entra.Application, new: entra.NewPassword
    ) -> None:
        """A client credentials token with the new password, :data:`PASSWORD_CONFIRMATIONS` times in a row: a
        refusal (not propagated yet, or wrong) is retried with backoff while the trigger has time, then the
        rotation waits for the next trigger, which tests again. A single acceptance can be followed by refusals
        from replicas the password has not reached (terraform-provider-vault asks for 8 in a row)."""
        resource = self.contract.resource
        tenant = entra.tenant(self.request.vault)
        accepted, pause = 0, PASSWORD_TEST_BACKOFF
        while True:
            if kind.accepts(resource, application.app_id, new.secret_text, tenant, reserve=WRITE_RESERVE_SECONDS):
                accepted += 1
                if accepted >= PASSWORD_CONFIRMATIONS:
                    return
                wait = PASSWORD_TEST_BACKOFF
            else:
                accepted, wait, pause = 0, pause, min(pause * 2, 8.0)
            left = deadline.remaining()
            if left is None or left < wait + WRITE_RESERVE_SECONDS + get_settings().http_timeout_seconds / 4:
                raise _Pending(
                    f"Entra ID does not accept new password {new.key_id} yet (a new password takes seconds to "
                    "minutes to propagate); the next trigger tests it again"
                )
            time.sleep(wait)

    def _held_by_versions(self) -> set[str]:
        """The keyIds the current version and the previous enabled version (what a rollback restores) name in
        their CredentialId: never removed while those versions may be read."""
        current = self.current
        held = {self.contract.credential.tag.lower()}
        previous = previous_version(vault.list_versions(self.request.vault, self.request.secret_name), current.version)
        if previous is not None and (tag := previous.tags.get(CREDENTIAL_ID)):
            held.add(tag.lower())
        return held

    def _remove_passwords(
        self, kind: entra.ApplicationPasswords, candidates: list[entra.Password], keep: set[str]
    ) -> list[str]:
        """Remove the product's own ``candidates`` except ``keep``; a failure is logged, the next rotation retries."""
        removed = []
        for password in candidates:
            if password.key_id.lower() in {key_id.lower() for key_id in keep}:
                continue
            self.lease.ensure_held()
            try:
                kind.remove_password(self.contract.resource, password.key_id)
            except RotationError as exc:
                logger.warning("Password %s was not removed (%s); the next rotation removes it.", password.key_id, exc)
                continue
            removed.append(password.key_id)
        return removed

    def _retire_staged(self, naming: entra.Naming) -> None:
        """Disable the staging version once its password is published: its text is then readable in one place."""
        rotation = self.lease.record.rotation
        if rotation is None or rotation.staged_version is None:
            return
        try:
            vault.disable_version(self.request.vault, naming.staging, rotation.staged_version)
        except RotationError as exc:
            logger.warning("The staged password version was not disabled (%s).", exc)

    def _request(self, state: KeyState) -> RotationRecord:
        """Record that a regeneration request is about to go out: one save, before the request."""
        if (left := deadline.remaining()) is not None and left < WRITE_RESERVE_SECONDS:
            raise _Pending("the trigger's time is nearly up; the next trigger asks Azure")
        at = _utcnow()
        target = self.plan.target
        if self.plan.resume is None:
            rotation = RotationRecord.start(
                self.current,
                target,
                key_before=state.values[target.key],
                generated_before=state.generated.get(target.key),
                at=at,
            )
        else:
            rotation = self.plan.resume.requested(at)
        self._save(rotation)
        return rotation

    def _regenerate(self, rotation: RotationRecord) -> Mapping[str, str]:
        """Ask Azure once; wait for a long-running regeneration as long as the trigger may."""
        kind, resource = key_kind(self.contract), self.contract.resource
        self.lease.ensure_held()
        try:
            answered = kind.regenerate(resource, self.plan.target.key)
        except ResourceBusy:
            # 412: busy, perhaps with an earlier request of ours; whatever runs, the key checks find it.
            if self.plan.resume is None or self.plan.resume.requested_at is None:
                self._save(rotation.refused())  # ours was refused and nothing else of ours is in flight
            raise _Pending(f"{resource.name} is running another operation (Azure answered 412), perhaps ours") from None
        except RotationError as exc:
            if exc.answer is not None and exc.answer.refused:
                self._save(rotation.refused())  # a 4xx changed nothing: the next trigger may ask at once
            raise
        if answered is not None:
            return answered
        self._save(rotation.accepted_by_azure())
        return self._await(rotation)

    def _await(self, rotation: RotationRecord) -> Mapping[str, str]:
        """Poll the resource (not the operation: its status URL is outside the account's scope) until the key changes.

        Each poll is one read of the resource; the keys are listed once Azure reports the key
        generated anew, or on every poll for a key Azure reports no generation time for.
        """
        kind, resource = key_kind(self.contract), self.contract.resource
        poll = get_settings().poll_seconds
        while (left := deadline.remaining()) is None or left > poll + WRITE_RESERVE_SECONDS:
            time.sleep(poll)
            generated = kind.describe(resource).generated.get(rotation.target_key)
            if generated is None or generated != rotation.generated_before:
                values = kind.list_keys(resource)
                if regenerated_value(rotation, values) is not None:
                    return values
        raise _Pending(f"Azure is regenerating {rotation.target} of {resource.name} on its own clock")

    def _publish(self, rotation: RotationRecord, state: KeyState) -> RotationOutcome:
        """Write the regenerated key; never a value equal to the one before the rotation. ``state`` is the
        resource as this trigger read it, with the keys as last listed: its hosts serve the key test and the
        connection string."""
        request, current, plan = self.request, self.current, self.plan
        new_value = regenerated_value(rotation, state.values)
        if new_value is None:
            raise _Pending("Azure reports the regeneration done but still lists the old key; read again later")
        waiting = verification.reason_to_wait(
            self.contract, plan.target.key, new_value, state, reserve=WRITE_RESERVE_SECONDS / 2
        )
        if waiting is not None:
            raise _Pending(waiting)
        written = self._write(secret_value(self.contract, new_value, state))
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
        return self.outcome(
            Status.ROTATED,
            new_version=written.version,
            expires_on=written.expires_on,
            consumers=self._refresh_consumers(written),
        )

    def _repair(self, state: KeyState) -> RotationOutcome:
        """Forced on a secret holding a dead key: write the live key its CredentialId names, regenerate nothing."""
        held = self.plan.current
        live = replace(self, plan=replace(self.plan, target=held))
        written = live._write(secret_value(self.contract, state.values[held.key], state))
        logger.warning(
            "Secret %s in %s held a dead key; version %s now holds the live %s (nothing regenerated).",
            self.request.secret_name,
            self.request.vault,
            written.version,
            held.tag,
        )
        return live.outcome(
            Status.REPAIRED,
            reason=f"the secret held neither key; it now holds the live {held.tag} (nothing regenerated)",
            new_version=written.version,
            expires_on=written.expires_on,
            consumers=self._refresh_consumers(written),
        )

    def _write(self, value: str, *, credential: str | None = None) -> SecretVersionInfo:
        """The new version: ``value``, the plan's tags (``credential``: its CredentialId, where the plan cannot know
        it) and expiry, the current version's content type."""
        version = NewVersion(
            self.request.secret_name, self.next_tags(credential), self.current.content_type, self.plan.expires_on
        )
        self.lease.ensure_held()
        return vault.write_version(self.request.vault, version, value)

    def _refresh_consumers(self, written: SecretVersionInfo) -> tuple[dict[str, str], ...]:
        """Tell the declared consumers a new version exists (after the write: nothing here undoes it)."""
        if not self.contract.consumers:
            return ()
        told = consumers.Written(
            self.contract, self.request.vault, self.request.secret_name, written.version, written.created_on
        )
        return tuple(report.as_dict() for report in consumers.refresh_consumers(told, reserve=WRITE_RESERVE_SECONDS))

    def _save(self, rotation: RotationRecord) -> None:
        self.lease.save(self.lease.record.with_rotation(rotation))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
