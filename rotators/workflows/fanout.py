"""The sweep fanned out on Azure Functions' own scale-out: the timer plans, the queues carry the work.

    SweepVaults  (timer)             lists the key pairs' rotation records once and keeps each vault's
                                     share for its messages; one VaultTask per allowed vault on
                                     ``rotation-vaults``
    SweepVault   (rotation-vaults)   lists the vault a page at a time for half its budget, reports
                                     the misconfigured, puts one SecretTask per secret with work on
                                     ``rotation-secrets``, and the rest of a vault too large for one
                                     message back on ``rotation-vaults`` with Key Vault's nextLink
    SweepSecret  (rotation-secrets)  reads the secret again and, only if it is still due (or the
                                     rotation interrupted on the listed version still waits),
                                     rotates it through ``rotate`` (that read standing in for the
                                     rotation's first), under its key pair's lock

The Functions host spreads each queue over instances and runs several messages per instance
(host.json ``extensions.queues``), so an estate's vaults and due secrets rotate side by side
instead of one after another. Every step may run twice: a vault listed twice sends the same
work twice, and a second message for a secret finds it cooling down (or its lock held) and
rotates nothing. The guarantees stay ``rotate``'s: one regeneration per due secret, the first
claim of a key pair refused for a second secret (see :class:`ListedPair`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone

from rotators.adapters import lock, queues, vault
from rotators.core.assessment import State, assess, assess_vault
from rotators.core.clouds import VaultAddress
from rotators.core.errors import ConfigurationError, RotationError, SecretNotFound
from rotators.core.logs import get_logger
from rotators.core.records import SecretVersionInfo
from rotators.core.settings import get_settings
from rotators.core.tasks import KeyPair, SecretTask, VaultTask, Work
from rotators.kinds import KINDS
from rotators.workflows import claims, sweep
from rotators.workflows.rotation import RotationRequest, Trigger, rotate

logger = get_logger(__name__)

# How long a listing stands in for one's own: a vault's for the first claim's listing of it, the plan's of
# the rotation records for a vault message's. A secret tagged by hand onto a key pair nobody claimed yet is
# missed for this long (``enroll`` claims the pair at once, so a secret enrolled by the product is not), and
# so is a rotation interrupted after the plan listed the records (the next sweep finds it); the sequential
# sweep trusted its listings for its whole run.
LISTING_TRUSTED_FOR = timedelta(minutes=15)


def plan() -> int:
    """The timer's whole job: one message per allowed vault. Returns how many vaults were queued."""
    settings = get_settings()
    if not settings.allowed_vaults:
        raise ConfigurationError("ROTATION_ALLOWED_VAULTS is not set: the sweep has no vault to serve.")
    vaults = sorted(settings.allowed_vaults, key=lambda address: address.url)
    _keep_rotation_bases(vaults)
    queues.send(queues.VAULTS, [VaultTask(address).to_text() for address in vaults])
    logger.info("Sweep planned: %d vault(s) queued on %s.", len(vaults), queues.VAULTS)
    _report_poison()
    return len(vaults)


def sweep_vault(task: VaultTask, *, now: datetime | None = None, budget_seconds: float | None = None) -> Counter[str]:
    """List the vault (or the rest of it) and queue its work; returns how many secrets stand in each state.

    Listing stops after half of ``budget_seconds`` (default ``ROTATION_SWEEP_BUDGET_SECONDS``), leaving
    the other half to send the work; what is left of the vault goes back on the queue as a new task.
    """
    settings = get_settings()
    settings.check_vault(task.vault)
    now = now or datetime.now(timezone.utc)
    budget_seconds = settings.sweep_budget_seconds if budget_seconds is None else budget_seconds
    listed, rest = _list(task, time.monotonic() + budget_seconds / 2)
    whole = task.page is None and rest is None
    interrupted = {(base.secret, base.base_created) for base in _rotation_bases(task.vault, now)}
    tally: Counter[str] = Counter()
    work: list[SecretTask] = []
    listed_at = int(now.timestamp())
    assessments = assess_vault(
        listed, task.vault.cloud, KINDS, now=now, min_interval=settings.min_interval, as_locked=claims.as_locked
    )
    for assessment in assessments:
        secret, contract, state = assessment.secret, assessment.contract, assessment.state
        if state is State.MISCONFIGURED or contract is None:
            sweep.report_misconfigured(task.vault, assessment, tally)
            continue
        created = int(secret.created_on.timestamp())
        resume = (secret.name.lower(), created) in interrupted
        tally[state.value] += 1
        if state.due or resume:
            pair = contract.key_pair if whole else None
            work.append(SecretTask(task.vault, secret.name, Work.ROTATE, created, listed_at, resume, pair))
        elif sweep.following_up(assessment):
            work.append(SecretTask(task.vault, secret.name, Work.FOLLOW_UP, created, listed_at))
    queues.send(queues.SECRETS, [item.to_text() for item in work])
    if rest is not None:
        queues.send(queues.VAULTS, [VaultTask(task.vault, rest).to_text()])
    logger.info(
        "Sweep of vault %s: %d secret(s) listed%s, %d queued for work%s.",
        task.vault,
        len(listed),
        "" if task.page is None else " (continued)",
        len(work),
        "; the rest of the vault is queued again" if rest is not None else "",
    )
    return tally


def sweep_secret(task: SecretTask, *, now: datetime | None = None) -> str:
    """Do one secret's work if it still needs doing; returns what came of it (a rotation's status, or why not).

    Raises what ``rotate`` raises: the trigger decides which failures are delivered again.
    """
    settings = get_settings()
    settings.check_vault(task.vault)
    now = now or datetime.now(timezone.utc)
    try:
        read = vault.read_current(task.vault, task.secret)
    except SecretNotFound:
        logger.info("Secret %s in %s is gone since the sweep listed it; nothing to do.", task.secret, task.vault)
        return "gone"
    current = read[0]
    assessment = assess(current, task.vault.cloud, KINDS, now=now, min_interval=settings.min_interval)
    if task.work is Work.FOLLOW_UP:
        if not sweep.following_up(assessment):
            return "no follow-up"
        sweep.follow_up(task.vault, assessment, now, time.monotonic() + settings.event_budget_seconds, Counter())
        return "followed up"
    listed_version = int(current.created_on.timestamp()) == task.created
    if not (assessment.state.due or (task.resume and listed_version)):
        logger.info(
            "Secret %s in %s is no longer due (%s); not rotated.",
            task.secret,
            task.vault,
            assessment.reason or assessment.state.value,
        )
        return "not due"
    request = RotationRequest(task.vault, task.secret, Trigger.SWEEP, event_version=current.version)
    trusted = task.sole_on is not None and now - datetime.fromtimestamp(task.listed_at, timezone.utc) <= (
        LISTING_TRUSTED_FOR
    )
    listed = ListedPair(task.sole_on, task.secret) if trusted and task.sole_on else None
    try:  # this read stands in for the rotation's first (its read under the lock is taken as ever)
        outcome = rotate(request, pairs=listed, current=read)
    except PairNotListed:
        outcome = rotate(request, current=read)  # the tags name another key pair now: the claim lists the vault
    return outcome.status.value


class PairNotListed(Exception):
    """The rotation's key pair is not the one the listing saw this secret on (its tags changed since)."""


class ListedPair(Mapping[KeyPair, Sequence[str]]):
    """The vault's listing, as a key pair's first claim reads it (``claims.PairIndex``), for the one
    pair the sweep found this secret alone on.

    A plain dict would answer "nobody" for a pair it does not hold, and a secret whose tags moved
    to another pair would claim it unchecked; this raises :class:`PairNotListed` instead.
    """

    def __init__(self, pair: KeyPair, secret: str) -> None:
        self._pair, self._names = pair, (secret,)

    def __getitem__(self, pair: KeyPair) -> Sequence[str]:
        if pair != self._pair:
            raise PairNotListed
        return self._names

    def __iter__(self) -> Iterator[KeyPair]:
        return iter((self._pair,))

    def __len__(self) -> int:
        return 1


def _keep_rotation_bases(vaults: Sequence[VaultAddress]) -> None:
    """List the key pairs' rotation records once for the whole sweep and keep each vault's share for its
    messages. Should the lock store fail, the vaults are swept all the same: their messages list the records
    themselves (see :func:`_rotation_bases`)."""
    try:
        listed_at = datetime.now(timezone.utc)
        bases = lock.rotation_bases()
        for address in vaults:
            lock.save_vault_bases(address.url, bases, at=listed_at)
    except RotationError as exc:
        logger.warning("Sweep could not keep the rotation records for its vaults' messages: %s", exc.message)


def _rotation_bases(address: VaultAddress, now: datetime) -> list[lock.RotationBase]:
    """The vault's rotation records as this sweep's plan kept them; listed here when it kept none (a message
    planned by an earlier release, or a plan the lock store failed) or they were listed longer ago than a
    listing is trusted. None when the lock store fails, as in the sweep in one process: a due secret's
    rotation meets that failure as its own, and the next sweep looks for interrupted rotations again."""
    try:
        kept = lock.vault_bases(address.url)
        if kept is not None and now - kept[0] <= LISTING_TRUSTED_FOR:
            return kept[1]
        return [base for base in lock.rotation_bases() if base.vault_url == address.url]
    except RotationError as exc:
        logger.warning(
            "Sweep of vault %s could not read the rotation records; it queues the due secrets only: %s",
            address,
            exc.message,
        )
        return []


def _list(task: VaultTask, stop_at: float) -> tuple[list[SecretVersionInfo], str | None]:
    """The pages listed before ``stop_at`` (at least one), and the link to the rest (``None``: no rest)."""
    listed: list[SecretVersionInfo] = []
    rest: str | None = None
    for page, rest in vault.list_secret_pages(task.vault, task.page):
        listed.extend(page)
        if rest is None or time.monotonic() >= stop_at:
            break
    return listed, rest


def _report_poison() -> None:
    """A warning per poison queue that holds messages: work the host gave up on, each logged with its reason."""
    try:
        counts = queues.poisoned()
    except Exception as exc:  # counting is a courtesy: the sweep is planned either way
        why = exc.message if isinstance(exc, RotationError) else f"unexpected {type(exc).__name__}"
        logger.warning("Could not count the poison messages: %s", why)
        return
    for queue, count in counts.items():
        if count:
            logger.warning(
                "%d message(s) in %s: sweep work given up after %d deliveries (each logged why); the next "
                "sweep plans it again.",
                count,
                queue,
                queues.MAX_DEQUEUE_COUNT,
            )
