"""The sweep, in one process: the safety net for lost, dead-lettered and interrupted work.

``python -m rotators sweep`` runs it; the Functions app's timer fans the same work out over its
queues instead (``rotators.workflows.fanout``), which reuses the pieces below.

It finishes rotations whose holder died, rotates enrolled secrets already inside the
near-expiry window or expired, and logs misconfigured ones. It goes through the same
``rotate`` as every other trigger, so the cool-down and the lock hold here too. Inside the
cool-down it follows up on consumers: one whose refresh (or sentinel) failed after the write is
tried again once its backoff is over, a bounded number of times; one never asked for the
current version is asked once (``rotators.workflows.consumers``). With early revocation on, an Entra ID
application's older passwords are removed once every consumer confirms the current version
(``rotators.workflows.revocation``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from rotators.adapters import lock, outcomes, vault
from rotators.core.assessment import Assessment, State, assess_vault, pair_index
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import ConsumerReport, Standing
from rotators.core.contract import Contract
from rotators.core.deadline import budget
from rotators.core.errors import ConfigurationError, RotationError
from rotators.core.logs import get_logger
from rotators.core.records import SecretRef
from rotators.core.settings import get_settings
from rotators.kinds import KINDS
from rotators.workflows import claims, consumers, revocation
from rotators.workflows.rotation import RotationRequest, Trigger, rotate

logger = get_logger(__name__)


def sweep(
    *,
    now: datetime | None = None,
    budget_seconds: float | None = None,
    vaults: Iterable[VaultAddress] | None = None,
    dry_run: bool = False,
) -> Counter[str]:
    """Sweep every allowed vault (or ``vaults``, each checked against the allowlist) in this process;
    returns how many secrets ended in each outcome. The Functions app fans the same work out on its
    queues instead (``rotators.workflows.fanout``); this runs it for ``python -m rotators sweep``.

    No rotation starts after ``budget_seconds``: what is left is counted as deferred and
    the next sweep takes it, so the sweep ends inside the function timeout. ``dry_run`` plans
    each due rotation and writes nothing: no rotation, no event, no contested mark, no refresh.
    """
    settings = get_settings()
    if not settings.allowed_vaults:
        raise ConfigurationError("ROTATION_ALLOWED_VAULTS is not set: the sweep has no vault to serve.")
    now = now or datetime.now(timezone.utc)
    budget_seconds = settings.sweep_budget_seconds if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget_seconds
    tally: Counter[str] = Counter()
    chosen = sorted(settings.allowed_vaults if vaults is None else vaults, key=lambda vault: vault.url)
    for address in chosen:
        settings.check_vault(address)
    sweep_pass = _Pass(now, deadline, _interrupted(), tally, dry_run)
    for address in chosen:
        try:
            sweep_pass.sweep_vault(address)
        except RotationError as exc:
            logger.error("Sweep of vault %s stopped: %s", address, exc.message)
            tally["failed"] += 1
        except Exception as exc:  # the next vault is still swept
            logger.error("Sweep of vault %s stopped: unexpected %s.", address, type(exc).__name__)
            tally["failed"] += 1
    if tally["deferred"]:
        logger.warning(
            "Sweep ran out of its %.0f s budget: %d due secrets are left for the next sweep.",
            budget_seconds,
            tally["deferred"],
        )
    logger.info("Sweep finished: %s.", ", ".join(f"{k} {v}" for k, v in sorted(tally.items())) or "nothing to do")
    return tally


def _interrupted() -> set[tuple[str, str, int]]:
    """Each key pair's last rotation, by secret and the creation of the version it started from: unfinished
    while that version is still current (a rotation that wrote made a newer one current). None known when the
    lock store fails (each due secret's rotation then meets that failure as its own, and the next sweep lists
    them again)."""
    try:
        with budget(get_settings().event_budget_seconds):
            return {(r.vault_url, r.secret, r.base_created) for r in lock.rotation_bases()}
    except RotationError as exc:
        logger.warning("Sweep could not list interrupted rotations; it sweeps the due secrets only: %s", exc.message)
        return set()


@dataclass(frozen=True)
class _Pass:
    """One sweep in this process: its clock, its deadline, the interrupted rotations, its tally."""

    now: datetime
    deadline: float
    interrupted: set[tuple[str, str, int]]
    tally: Counter[str]
    dry_run: bool

    def sweep_vault(self, address: VaultAddress) -> None:
        """One listing, one assessment, then each due secret's rotation: linear in pages plus due secrets."""
        now, tally, dry_run = self.now, self.tally, self.dry_run
        assessments = assess_vault(
            vault.list_secrets(address),
            address.cloud,
            KINDS,
            now=now,
            min_interval=get_settings().min_interval,
            as_locked=claims.as_locked,
        )
        pairs = pair_index(assessments, claims.as_locked)
        for assessment in assessments:
            secret = assessment.secret
            if assessment.state is State.MISCONFIGURED:
                report_misconfigured(address, assessment, tally, dry_run=dry_run)
                continue
            key = (address.url, secret.name.lower(), int(secret.created_on.timestamp()))
            if not (assessment.state.due or key in self.interrupted):
                tally[assessment.state.value] += 1
                if following_up(assessment) and not dry_run:
                    follow_up(address, assessment, now, self.deadline, tally)
                continue
            if time.monotonic() >= self.deadline:
                tally["deferred"] += 1
                continue
            try:
                with budget(get_settings().event_budget_seconds):  # each rotation as long as one event may take
                    outcome = rotate(
                        RotationRequest(address, secret.name, Trigger.SWEEP, dry_run=dry_run), now=now, pairs=pairs
                    )
                tally[outcome.status.value] += 1
            except RotationError as exc:
                level = logging.WARNING if exc.retryable or exc.status == 409 else logging.ERROR
                logger.log(level, "Sweep could not rotate %s in %s: %s", secret.name, address, exc.message)
                tally[exc.code] += 1
            except Exception as exc:  # a failure nobody foresaw stays this secret's: the others still rotate
                logger.error(
                    "Sweep could not rotate %s in %s: unexpected %s.", secret.name, address, type(exc).__name__
                )
                tally["unexpected"] += 1


def report_misconfigured(
    address: VaultAddress, assessment: Assessment, tally: Counter[str], *, dry_run: bool = False
) -> None:
    """Log a secret the sweep cannot rotate, tell the outcome topic, and contest a key pair it shares."""
    secret = assessment.secret
    logger.error("Secret %s in %s is misconfigured: %s", secret.name, address, assessment.reason)
    tally["misconfigured"] += 1
    if dry_run:
        return
    data = {"trigger": Trigger.SWEEP.value, "reason": assessment.reason, "version": secret.version}
    outcomes.publish(outcomes.SECRET_MISCONFIGURED, address, secret.name, data)
    if assessment.shares_pair_with and assessment.contract is not None:
        _contest(address, secret.name, assessment.contract, tally)


def following_up(assessment: Assessment) -> bool:
    """Whether a secret that is not due has work: consumers to follow up on inside the cool-down, or an application's
    older passwords to revoke early (:mod:`rotators.workflows.revocation`)."""
    contract = assessment.contract
    if contract is None or assessment.state not in (State.COOLING_DOWN, State.OK):
        return False
    return (bool(contract.consumers) and assessment.state is State.COOLING_DOWN) or revocation.wanted(contract)


def follow_up(
    address: VaultAddress, assessment: Assessment, now: datetime, deadline: float, tally: Counter[str]
) -> None:
    """Retry the consumers of a secret rotated less than the cool-down ago whose refresh is due (see consumers),
    then revoke an application's older passwords once every consumer confirms the current version (an option)."""
    if time.monotonic() >= deadline or assessment.contract is None:
        return
    name = assessment.secret.name
    reports: list[ConsumerReport] = []
    try:
        with budget(get_settings().event_budget_seconds):
            current, _ = vault.read_current(address, name)  # a listing carries no version ids
            if assessment.state is State.COOLING_DOWN and assessment.contract.consumers:
                reports = consumers.follow_up(consumers.Written.of(assessment.contract, address, current), now=now)
            tally["passwords revoked early"] += len(
                revocation.revoke_early(address, current, assessment.contract, now=now)
            )
    except RotationError as exc:
        logger.warning("Sweep could not follow up on the consumers of %s in %s: %s", name, address, exc.message)
        return
    except Exception as exc:  # the vault's other secrets are still swept
        logger.error(
            "Sweep could not follow up on the consumers of %s in %s: unexpected %s.", name, address, type(exc).__name__
        )
        return
    behind = (Standing.BEHIND, Standing.FAILING, Standing.UNREACHABLE)
    tally["consumers behind"] += sum(1 for report in reports if report.state in behind)


def _contest(address: VaultAddress, name: str, contract: Contract, tally: Counter[str]) -> None:
    """Mark a shared key pair as contested, so its owner stops rotating until one secret is fixed."""
    try:
        if claims.contest(SecretRef.of(address.url, name), contract):
            tally["contested"] += 1
    except RotationError as exc:
        logger.warning("Sweep could not mark the key pair of %s in %s as contested: %s", name, address, exc.message)
