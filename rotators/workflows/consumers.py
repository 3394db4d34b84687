"""The apps that read a secret: tell them of a new version, and ask where they stand.

- After a write (:func:`refresh_consumers`): each App Service consumer is asked to refresh its
  Key Vault references, then read; each App Configuration store gets its sentinel set; each API
  Management named value is asked to refresh from Key Vault (started once), then read; a Container
  App's active revisions are restarted only when its entry ends in ``/restart``.
- Before a rotation inside the cool-down (:func:`confirm`): each consumer is read; only when all
  confirm the current version may the rotation start early.
- From the sweep (:func:`follow_up`): a consumer whose refresh failed is tried again, after a
  backoff and a bounded number of times; one never asked for this version (a version the product
  did not write) is refreshed once.
- For ``status`` (:func:`where_they_stand`): reads only.

A consumer declared by identity (``identity:<principal id>``) is told nothing: it reads Key Vault
itself. With an audit workspace set (``ROTATION_AUDIT_WORKSPACE_ID``), a confirmation and ``status``
ask Key Vault's audit trail, in one query for every identity, which version each read: the declared
identities, the managed identity of each app whose references do not say which version it runs, and the
identities a container app's secrets are read as (it confirms only when every replica of its active
revisions was created after those reads: :func:`rotators.core.audit.judge_replicas`).
A query that fails or is refused confirms nothing (the full cool-down), and never fails a rotation.

A consumer is refreshed at most once per version once that is accepted (``rotators.core.refreshes``:
nobody says whether the refresh restarts an app). What was asked is remembered beside the rotation
records, and written before anyone is asked, so two triggers never both ask; the sweep asks nobody
when that memory cannot be read.

Nothing here undoes or delays a write: whatever a consumer, its SDK or the registry does is that
consumer's report (logged with the reason, and sent as a ``KeyRotation.ConsumerNotRefreshed`` event),
never the rotation's error. Each consumer's calls are bounded by the trigger's time; consumers left
when it runs out are reported as not refreshed, and the sweep and App Service's own 24-hour refresh
take them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from rotators.adapters import apim, appconfig, appservice, auditlog, containerapps, memory, outcomes, registry
from rotators.core import deadline
from rotators.core.audit import Question, judge_reads, judge_replicas, unaskable
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import (
    RESTART,
    Confirmation,
    Consumer,
    ConsumerKind,
    ConsumerReport,
    Standing,
    judge,
    judge_container_app,
    judge_named_value,
    referencing,
    unconfirmable,
    unplaced,
)
from rotators.core.contract import Contract
from rotators.core.errors import NotRotatable, RotationError
from rotators.core.logs import get_logger
from rotators.core.records import SecretVersionInfo
from rotators.core.refreshes import Refreshes
from rotators.core.settings import get_settings

logger = get_logger(__name__)

# What one consumer's calls need, at least, before the trigger's time is up.
PER_CONSUMER_SECONDS = 3.0
# How many consumers are asked at once (ARM takes far more reads per minute than fifty apps need).
CONCURRENT_CONSUMERS = 8
# States a read can end in that leave nothing to refresh for this version.
_NOTHING_TO_ASK = (Standing.MOVED, Standing.UNREFERENCED, Standing.SIGNALLED)


@dataclass(frozen=True)
class _Visit:
    report: ConsumerReport
    refreshed: bool | None = None  # None: not asked; True: the refresh (or sentinel) was accepted; False: it failed
    principals: tuple[str, ...] = ()  # the identities whose reads the audit trail is asked for
    replicas: tuple[datetime | None, ...] | None = None  # a container app's replicas' creation times

    @property
    def settled(self) -> bool:
        """Asked and accepted: never asked again for this version (an app reporting a broken reference may be)."""
        return self.refreshed is True and self.report.state is not Standing.FAILING


@dataclass(frozen=True)
class Written:
    """A version of a secret, as its consumers are told of it and asked about it: the one a write has
    just made, or the current one (the sweep's follow-up, ``status``, a confirmation)."""

    contract: Contract
    vault: VaultAddress
    name: str
    version: str
    created_on: datetime

    @classmethod
    def of(cls, contract: Contract, vault: VaultAddress, version: SecretVersionInfo) -> Written:
        return cls(contract, vault, version.name, version.version, version.created_on)

    def declared(self) -> tuple[Consumer, ...]:
        """The consumers the tag (or the registry) names; refused when one has no subscription to be found in."""
        consumers = registry.declared(self.contract.consumers, self.vault, self.name)
        if (unplaced_consumer := unplaced(consumers, self.contract.resource.subscription)) is not None:
            raise NotRotatable(
                f"The registry names consumer {unplaced_consumer} of secret '{self.name}' by its resource group, but "
                f"{self.contract.resource.id} is in no subscription; write it again with python -m rotators consumers "
                "--apply --scope /subscriptions/<id>."
            )
        return consumers

    def subscription_of(self, consumer: Consumer) -> str:
        """Where an app is: the subscription its ARM ID names, else that of ProviderAddress."""
        return consumer.subscription or self.contract.resource.subscription


def refresh_consumers(written: Written, *, reserve: float) -> list[ConsumerReport]:
    """Tell each consumer of the version just written; never raises, whatever the registry or a consumer does."""
    try:
        return _after_write(written, reserve)
    except Exception as exc:  # the version is written: nothing here may fail the answer or hold back its event
        logger.error(
            "Consumers of secret %s in %s were not told of version %s: %s",
            written.name,
            written.vault,
            written.version,
            _why(exc),
        )
        return []


def follow_up(target: Written, *, now: datetime) -> list[ConsumerReport]:
    """The sweep's retry: only consumers the refresh memory says are due; raises when it cannot be read."""
    consumers = target.declared()
    known, _ = memory.load(registry.REFRESHES, target.vault, target.name)
    refreshes = (known or Refreshes(target.version)).of(target.version)
    due = tuple(consumer for consumer in consumers if refreshes.due(consumer, now))
    if not due:
        return []
    looked = _each(due, lambda c: _bounded(c, 0.0, lambda c: _look(target, c), "not read", nudging=False))
    current = [v.report.consumer for v in looked if v.report.state in _NOTHING_TO_ASK]
    wanting = [v.report.consumer for v in looked if v.report.state not in (*_NOTHING_TO_ASK, Standing.UNREACHABLE)]
    claimed = _claim(target, wanting, now, current=current) if wanting or current else ()
    nudged = {
        v.report.consumer: v
        for v in _each(claimed, lambda c: _bounded(c, 0.0, lambda c: _nudge(target, c), "not refreshed"))
    }
    visits = [nudged.get(v.report.consumer, v) for v in looked]
    _remember_outcomes(target, visits, attempted=(), now=now)
    for visit in visits:
        _tell(visit.report, target, publish=False)
    return [visit.report for visit in visits]


def where_they_stand(target: Written) -> list[ConsumerReport]:
    """Reads only; an unreadable registry is the caller's to report."""

    def look(consumer: Consumer) -> _Visit:
        return _look(target, consumer, audit=True)

    looked = _each(target.declared(), lambda c: _bounded(c, 0.0, look, "not read", nudging=False))
    return _audited(target, looked, reserve=0.0)


def confirm(current: Written, *, reserve: float) -> Confirmation:
    """Whether every declared consumer reports the ``current`` version active and resolved (reads only); never
    raises."""
    version = current.version
    try:
        consumers = current.declared()
    except Exception as exc:  # whatever the registry holds, it confirms nothing
        return Confirmation(version, unconfirmed=f"its consumers cannot be read ({_why(exc)})")
    store = unconfirmable(consumers)
    if store is not None:
        return Confirmation(
            version, unconfirmed=f"consumer {store} is an App Configuration store, which cannot confirm its apps moved"
        )

    def read(consumer: Consumer) -> _Visit:
        return _look(current, consumer, audit=True)

    def bounded(consumer: Consumer) -> _Visit:
        return _bounded(consumer, reserve, read, "not confirmed", nudging=False)

    return Confirmation(version, tuple(_audited(current, _each(consumers, bounded), reserve=reserve)))


# after a write -----------------------------------------------------------------------------


def _after_write(target: Written, reserve: float) -> list[ConsumerReport]:
    """Claim every consumer in the refresh memory, ask each once, remember the answers.

    Should the memory not be kept (its store down, or not what this app wrote), each consumer is
    still asked once: this is the version's first refresh, so that cannot add up to a storm.
    """
    with _leaving(reserve):
        consumers = target.declared()
    now = _utcnow()
    try:
        with _leaving(reserve):
            claimed: tuple[Consumer, ...] | None = _claim(target, consumers, now)
    except Exception as exc:
        logger.warning(
            "The refresh memory of secret %s in %s is not kept (%s); each consumer is asked once.",
            target.name,
            target.vault,
            _why(exc),
        )
        claimed = None
    mine = set(consumers if claimed is None else claimed)

    def visit(consumer: Consumer) -> _Visit:
        if consumer in mine:
            return _bounded(consumer, reserve, lambda c: _nudge(target, c), "not refreshed")
        return _bounded(consumer, reserve, lambda c: _look(target, c), "not read", nudging=False)  # claimed elsewhere

    visits = _each(consumers, visit)
    with _leaving(reserve):
        _remember_outcomes(target, visits, attempted=consumers if claimed is None else (), now=now)
    for each in visits:
        _tell(each.report, target, publish=True)
    return [each.report for each in visits]


# the refresh memory ------------------------------------------------------------------------


def _claim(
    target: Written, wanted: Iterable[Consumer], now: datetime, *, current: Iterable[Consumer] = ()
) -> tuple[Consumer, ...]:
    """Record one more attempt for each of ``wanted`` that is due (and ``current`` as needing none),
    before any is asked; returns those this trigger may ask. Raises when the memory cannot be kept."""
    wanted, current = tuple(wanted), tuple(current)  # read again on each try
    claimed: list[Consumer] = []

    def change(refreshes: Refreshes) -> Refreshes:
        claimed[:] = [consumer for consumer in wanted if refreshes.due(consumer, now)]
        return refreshes.settling(current).attempting(claimed, now)

    _remember(target, change)
    return tuple(claimed)


def _remember_outcomes(target: Written, visits: list[_Visit], *, attempted: Iterable[Consumer], now: datetime) -> None:
    """Mark the accepted ones settled (and count ``attempted``, when nothing was claimed first); failing is logged.

    A memory that is not what this app wrote is written anew for this version.
    """
    settled = [visit.report.consumer for visit in visits if visit.settled]
    asked = tuple(attempted)
    if not settled and not asked:
        return

    def change(refreshes: Refreshes) -> Refreshes:
        return refreshes.attempting(asked, now).settling(settled)

    try:
        try:
            _remember(target, change)
        except NotRotatable:
            memory.replace(registry.REFRESHES, target.vault, target.name, change(Refreshes(target.version)))
    except Exception as exc:
        logger.warning("Could not remember the refreshes of secret %s in %s: %s", target.name, target.vault, _why(exc))


def _remember(target: Written, change: Callable[[Refreshes], Refreshes]) -> None:
    """Change this version's memory, written only if nobody wrote it meanwhile (``memory.remember``)."""

    def of_this_version(known: Refreshes | None) -> Refreshes:
        return change((known or Refreshes(target.version)).of(target.version))

    memory.remember(registry.REFRESHES, target.vault, target.name, of_this_version)


# one consumer ------------------------------------------------------------------------------


def _nudge(target: Written, consumer: Consumer) -> _Visit:
    """Refresh an app or a named value and read where it stands, or set a store's sentinel; an identity is told
    nothing."""
    contract = target.contract
    if consumer.kind is ConsumerKind.IDENTITY:
        return _Visit(_reads_itself(consumer), refreshed=True)
    if consumer.kind is ConsumerKind.CONTAINER_APP:
        if consumer.slot == RESTART:  # a restart is disruptive: only when the declaration asks for it
            containerapps.restart(consumer, target.subscription_of(consumer), contract.resource.cloud)
        return _Visit(_container_visit(target, consumer, auditing=False).report, refreshed=True)
    if consumer.kind is ConsumerKind.APP_CONFIGURATION:
        sentinel = get_settings().appconfig_sentinel
        appconfig.set_sentinel(
            consumer, contract.resource.cloud, sentinel, f"{target.vault.name}/{target.name}/{target.version}"
        )
        return _Visit(_signalled(target, consumer, sentinel), refreshed=True)
    named = consumer.kind is ConsumerKind.API_MANAGEMENT
    (apim if named else appservice).refresh(consumer, target.subscription_of(consumer), contract.resource.cloud)
    try:
        report = _named_value_standing(target, consumer) if named else _standing(target, consumer)
    except RotationError as exc:
        report = ConsumerReport(consumer, Standing.UNREACHABLE, f"refreshed, but not read: {exc.message}")
    return _Visit(report, refreshed=True)


def _look(target: Written, consumer: Consumer, *, audit: bool = False) -> _Visit:
    """Where a consumer stands, by reads only; with ``audit``, the identities whose reads may tell more."""
    auditing = audit and get_settings().audit_workspace is not None
    if consumer.kind is ConsumerKind.IDENTITY:
        return _Visit(_reads_itself(consumer), principals=(consumer.app,) if auditing else ())
    if consumer.kind is ConsumerKind.API_MANAGEMENT:
        return _Visit(_named_value_standing(target, consumer))
    if consumer.kind is ConsumerKind.CONTAINER_APP:
        return _container_visit(target, consumer, auditing=auditing)
    if consumer.kind is ConsumerKind.APP_SERVICE:
        return _app_visit(target, consumer, auditing=auditing)
    return _store_visit(target, consumer)


def _app_visit(target: Written, consumer: Consumer, *, auditing: bool) -> _Visit:
    """An app's references; when they say no version and the audit trail is read, its managed identity too."""
    report = _standing(target, consumer)
    if not (auditing and report.state is Standing.UNREPORTED):
        return _Visit(report)
    resource = target.contract.resource
    try:
        principal = appservice.principal(consumer, target.subscription_of(consumer), resource.cloud)
    except RotationError as exc:
        logger.warning("The managed identity of consumer %s was not read: %s", consumer, exc.message)
        principal = None
    return _Visit(report, principals=(principal,) if principal is not None else ())


def _container_visit(target: Written, consumer: Consumer, *, auditing: bool) -> _Visit:
    """A container app's secrets; when the audit trail is read, the identity of each secret referencing the target
    and when each replica of its active revisions was created (any of them unknown: no evidence is asked for)."""
    resource = target.contract.resource
    subscription = target.subscription_of(consumer)
    app = containerapps.read(consumer, subscription, resource.cloud)
    report = judge_container_app(consumer, app.secrets, target.vault.name, target.name)
    if not (auditing and report.state is Standing.UNREPORTED):
        return _Visit(report)
    principals = [app.principal_of(secret) for secret in referencing(app.secrets, target.vault.name, target.name)]
    if None in principals:
        return _Visit(report)  # a secret read as an identity the app does not show: nothing can be proven
    try:
        created = containerapps.replicas_created(consumer, subscription, resource.cloud)
    except RotationError as exc:
        logger.warning("The replicas of consumer %s were not read: %s", consumer, exc.message)
        return _Visit(report)
    return _Visit(report, principals=tuple(sorted({p for p in principals if p is not None})), replicas=created)


def _store_visit(target: Written, consumer: Consumer) -> _Visit:
    """Whether a store's sentinel was set since the ``target`` version was written."""
    sentinel = get_settings().appconfig_sentinel
    set_at = appconfig.sentinel_set_at(consumer, target.contract.resource.cloud, sentinel)
    if set_at is not None and set_at >= target.created_on:
        return _Visit(_signalled(target, consumer, sentinel))
    return _Visit(
        ConsumerReport(consumer, Standing.BEHIND, f"sentinel {sentinel} not set since version {target.version}")
    )


def _named_value_standing(target: Written, consumer: Consumer) -> ConsumerReport:
    """Where a named value stands on the ``target`` version, from its ``lastStatus``."""
    resource = target.contract.resource
    named = apim.named_value(consumer, target.subscription_of(consumer), resource.cloud)
    return judge_named_value(consumer, named, (target.vault.name, target.name), target.version, target.created_on)


def _reads_itself(consumer: Consumer) -> ConsumerReport:
    return ConsumerReport(
        consumer,
        Standing.UNREPORTED,
        "reads Key Vault itself: only Key Vault's audit trail can say which version it read, and none was asked "
        "(set ROTATION_AUDIT_WORKSPACE_ID), so the full cool-down holds",
    )


def _audited(target: Written, visits: list[_Visit], *, reserve: float) -> list[ConsumerReport]:
    """Each visit's report, those with an identity to ask judged by one query of the audit trail.

    Whatever the query meets (a refusal, a timeout, a partial answer) is each asked consumer's report: it
    confirms nothing, and never raises.
    """
    workspace = get_settings().audit_workspace
    asked = {visit.report.consumer: visit.principals for visit in visits if visit.principals}
    replicas = {visit.report.consumer: visit.replicas for visit in visits if visit.replicas is not None}
    if workspace is None or not asked:
        return [visit.report for visit in visits]
    excluded: dict[Consumer, ConsumerReport] = {}
    try:
        with _leaving(reserve):
            excluded = unaskable(asked, auditlog.own_principal(target.vault.cloud))
            asked = {consumer: principals for consumer, principals in asked.items() if consumer not in excluded}
            if not asked:
                return [excluded.get(visit.report.consumer, visit.report) for visit in visits]
            since = auditlog.lookback(target.created_on, get_settings().min_interval)
            everyone = tuple(sorted({principal for principals in asked.values() for principal in principals}))
            question = Question(everyone, target.vault.url, target.name, target.version, since, _utcnow())
            found = auditlog.read_by(workspace, target.vault.cloud, question)
    except Exception as exc:  # the audit trail is evidence only: without it, nothing is confirmed
        why = f"the audit trail was not read: {_why(exc)}"
        unread = {  # a container app keeps its own report: without evidence it is unreported, as ever
            consumer: ConsumerReport(consumer, Standing.UNREACHABLE, why)
            for consumer in asked
            if consumer not in replicas
        }
        return [
            excluded.get(visit.report.consumer) or unread.get(visit.report.consumer, visit.report) for visit in visits
        ]
    judged = {
        consumer: judge_replicas(consumer, principals, found, target.version, replicas[consumer])
        if consumer in replicas
        else judge_reads(consumer, principals[0], found, target.version)
        for consumer, principals in asked.items()
    }
    return [excluded.get(visit.report.consumer) or judged.get(visit.report.consumer, visit.report) for visit in visits]


def _signalled(target: Written, consumer: Consumer, sentinel: str) -> ConsumerReport:
    return ConsumerReport(consumer, Standing.SIGNALLED, f"sentinel {sentinel} set for version {target.version}")


def _standing(target: Written, consumer: Consumer) -> ConsumerReport:
    """Where an app stands on the ``target`` version, from its Key Vault references."""
    resource = target.contract.resource
    listed = appservice.references(consumer, target.subscription_of(consumer), resource.cloud)
    return judge(consumer, listed, target.vault.name, target.name, target.version)


def _each(consumers: tuple[Consumer, ...], visit: Callable[[Consumer], _Visit]) -> list[_Visit]:
    """Visit the consumers up to :data:`CONCURRENT_CONSUMERS` at a time, so fifty fit in an event's time.

    Each runs in a copy of this context, so the trigger's deadline bounds its calls too; the
    visits come back in the declared order.
    """
    if len(consumers) <= 1:
        return [visit(consumer) for consumer in consumers]
    workers = min(CONCURRENT_CONSUMERS, len(consumers))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rotation-consumer") as pool:
        futures = [pool.submit(contextvars.copy_context().run, visit, consumer) for consumer in consumers]
        return [future.result() for future in futures]


def _bounded(
    consumer: Consumer, reserve: float, visit: Callable[[Consumer], _Visit], failed: str, *, nudging: bool = True
) -> _Visit:
    """One consumer's calls, inside the trigger's time less ``reserve``; a failure is its report.

    A failure while ``nudging`` counts as a failed attempt: it may have reached the app.
    """
    left = deadline.remaining()
    if left is not None and left < reserve + PER_CONSUMER_SECONDS:
        return _Visit(ConsumerReport(consumer, Standing.UNREACHABLE, f"{failed}: the trigger's time ran out"))
    try:
        with deadline.budget((left - reserve) if left is not None else 60.0):
            return visit(consumer)
    except Exception as exc:  # a consumer is never the rotation's failure, whatever its SDK raises
        report = ConsumerReport(consumer, Standing.UNREACHABLE, f"{failed}: {_why(exc)}")
        return _Visit(report, refreshed=False if nudging else None)


@contextmanager
def _leaving(reserve: float) -> Iterator[None]:
    """The block's calls end ``reserve`` seconds before the trigger's time does (what the caller keeps back)."""
    left = deadline.remaining()
    with deadline.budget(left - reserve if left is not None else 60.0):
        yield


def _why(exc: BaseException) -> str:
    """Our message for our errors; only the type for anything else (its text may quote a request)."""
    return exc.message if isinstance(exc, RotationError) else f"unexpected {type(exc).__name__}"


def _tell(report: ConsumerReport, target: Written, *, publish: bool) -> None:
    """Log where a consumer stands; one that did not take the version is also an event after a write.

    An app that cannot say which version it runs (``unreported``) took the refresh: a note, no event.
    """
    if report.state in (Standing.MOVED, Standing.SIGNALLED, Standing.UNREPORTED):
        logger.info("Consumer %s of secret %s in %s: %s.", report.consumer, target.name, target.vault, report.detail)
        return
    logger.warning(
        "Consumer %s of secret %s in %s is %s: %s.",
        report.consumer,
        target.name,
        target.vault,
        report.state,
        report.detail,
    )
    if not publish:
        return
    data = {
        "consumer": str(report.consumer),
        "state": report.state.value,
        "reason": report.detail,
        "newVersion": target.version,
    }
    outcomes.publish(outcomes.CONSUMER_NOT_REFRESHED, target.vault, target.name, data)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
