"""The apps that read a secret: tell them of a new version, and ask where they stand.

- After a write (:func:`refresh_consumers`): each App Service consumer is asked to refresh its
  Key Vault references, then read; each App Configuration store gets its sentinel set.
- Before a rotation inside the cool-down (:func:`confirm`): each App Service consumer is read;
  only when all run the current version may the rotation start early.
- From the sweep (:func:`follow_up`): a consumer not yet on the current version is refreshed
  again, a store whose sentinel predates the version is signalled again.
- For ``status`` (:func:`where_they_stand`): reads only.

Nothing here undoes or delays a write: a refresh or read that fails is that consumer's report
(logged with the reason, and sent as a ``KeyRotation.ConsumerNotRefreshed`` event), never the
rotation's error. Each consumer's calls are bounded by the trigger's time; consumers left when
it runs out are reported as not refreshed, and the sweep and App Service's own 24-hour refresh
take them.
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from rotators.adapters import appconfig, appservice, outcomes, registry
from rotators.core import deadline
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import (
    Confirmation,
    Consumer,
    ConsumerKind,
    ConsumerReport,
    Standing,
    judge,
    unconfirmable,
)
from rotators.core.contract import Contract
from rotators.core.errors import RotationError
from rotators.core.logs import get_logger
from rotators.core.settings import get_settings

logger = get_logger(__name__)

# What one consumer's calls need, at least, before the trigger's time is up.
PER_CONSUMER_SECONDS = 3.0
# How many consumers are asked at once (ARM takes far more reads per minute than fifty apps need).
CONCURRENT_CONSUMERS = 8


class Nudge(enum.Enum):
    ALWAYS = "always"  # right after a write
    IF_BEHIND = "if behind"  # the sweep's retry
    NEVER = "never"  # confirmation and status: reads only


def declared(contract: Contract, vault: VaultAddress, secret: str) -> tuple[Consumer, ...]:
    """The secret's consumers: the tag's entries, or the registry's."""
    if contract.consumers.in_registry:
        return registry.load(vault, secret)
    return contract.consumers.consumers


def refresh_consumers(
    contract: Contract, vault: VaultAddress, secret: str, version: str, created_on: datetime, *, reserve: float
) -> list[ConsumerReport]:
    """Tell each consumer of the version just written; never raises, whatever the registry or a consumer does."""
    try:
        return _visit(contract, vault, secret, version, created_on, Nudge.ALWAYS, reserve=reserve, publish=True)
    except Exception as exc:  # the version is written: nothing here may fail the answer or hold back its event
        logger.error("Consumers of secret %s in %s were not told of version %s: %s", secret, vault, version, _why(exc))
        return []


def follow_up(
    contract: Contract, vault: VaultAddress, secret: str, version: str, created_on: datetime
) -> list[ConsumerReport]:
    return _visit(contract, vault, secret, version, created_on, Nudge.IF_BEHIND, reserve=0.0, publish=False)


def where_they_stand(
    contract: Contract, vault: VaultAddress, secret: str, version: str, created_on: datetime
) -> list[ConsumerReport]:
    """Reads only; an unreadable registry is the caller's to report (a ``RotationError``)."""
    return _visit(contract, vault, secret, version, created_on, Nudge.NEVER, reserve=0.0)


def confirm(contract: Contract, vault: VaultAddress, secret: str, version: str, *, reserve: float) -> Confirmation:
    """Whether every declared consumer reports ``version`` active and resolved (reads only); never raises."""
    try:
        consumers = declared(contract, vault, secret)
    except Exception as exc:  # whatever the registry holds, it confirms nothing
        return Confirmation(version, unconfirmed=f"its consumers cannot be read ({_why(exc)})")
    store = unconfirmable(consumers)
    if store is not None:
        return Confirmation(
            version, unconfirmed=f"consumer {store} is an App Configuration store, which cannot confirm its apps moved"
        )

    def read(consumer: Consumer) -> ConsumerReport:
        return _bounded(consumer, reserve, lambda c: _standing(c, contract, vault, secret, version), "not confirmed")

    return Confirmation(version, tuple(_each(consumers, read)))


def _visit(
    contract: Contract,
    vault: VaultAddress,
    secret: str,
    version: str,
    created_on: datetime,
    nudge: Nudge,
    *,
    reserve: float,
    publish: bool | None = None,
) -> list[ConsumerReport]:
    """Each consumer's report; ``publish`` logs each (and sends events when True), ``None`` is silent
    and lets an unreadable registry raise."""
    try:
        consumers = declared(contract, vault, secret)
    except Exception as exc:
        if publish is None:
            raise
        logger.error("Consumers of secret %s in %s cannot be read: %s", secret, vault, _why(exc))
        return []
    subscription, cloud = contract.resource.subscription, contract.resource.cloud
    sentinel = get_settings().appconfig_sentinel

    def app(consumer: Consumer) -> ConsumerReport:
        if nudge is Nudge.ALWAYS:
            appservice.refresh(consumer, subscription, cloud)
        report = _standing(consumer, contract, vault, secret, version)
        if nudge is Nudge.IF_BEHIND and report.state in (Standing.BEHIND, Standing.FAILING):
            appservice.refresh(consumer, subscription, cloud)
            report = _standing(consumer, contract, vault, secret, version)
        return report

    def store(consumer: Consumer) -> ConsumerReport:
        signalled = ConsumerReport(consumer, Standing.SIGNALLED, f"sentinel {sentinel} set for version {version}")
        if nudge is not Nudge.ALWAYS:
            set_at = appconfig.sentinel_set_at(consumer, cloud, sentinel)
            if set_at is not None and set_at >= created_on:
                return signalled
            if nudge is Nudge.NEVER:
                return ConsumerReport(consumer, Standing.BEHIND, f"sentinel {sentinel} not set since version {version}")
        appconfig.set_sentinel(consumer, cloud, sentinel, f"{vault.name}/{secret}/{version}")
        return signalled

    failed = "not refreshed" if nudge is not Nudge.NEVER else "not read"

    def visit(consumer: Consumer) -> ConsumerReport:
        return _bounded(consumer, reserve, store if consumer.kind is ConsumerKind.APP_CONFIGURATION else app, failed)

    reports = _each(consumers, visit)
    if publish is not None:
        for report in reports:
            _tell(report, vault, secret, version, publish=publish)
    return reports


def _each(consumers: tuple[Consumer, ...], visit: Callable[[Consumer], ConsumerReport]) -> list[ConsumerReport]:
    """Visit the consumers up to :data:`CONCURRENT_CONSUMERS` at a time, so fifty fit in an event's time.

    Each runs in a copy of this context, so the trigger's deadline bounds its calls too; the
    reports come back in the declared order.
    """
    if len(consumers) <= 1:
        return [visit(consumer) for consumer in consumers]
    workers = min(CONCURRENT_CONSUMERS, len(consumers))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rotation-consumer") as pool:
        futures = [pool.submit(contextvars.copy_context().run, visit, consumer) for consumer in consumers]
        return [future.result() for future in futures]


def _standing(consumer: Consumer, contract: Contract, vault: VaultAddress, secret: str, version: str) -> ConsumerReport:
    """Where an app stands on ``version``, from its Key Vault references."""
    listed = appservice.references(consumer, contract.resource.subscription, contract.resource.cloud)
    return judge(consumer, listed, vault.name, secret, version)


def _bounded(
    consumer: Consumer, reserve: float, visit: Callable[[Consumer], ConsumerReport], failed: str
) -> ConsumerReport:
    """One consumer's calls, inside the trigger's time less ``reserve``; a failure is its report."""
    left = deadline.remaining()
    if left is not None and left < reserve + PER_CONSUMER_SECONDS:
        return ConsumerReport(consumer, Standing.UNREACHABLE, f"{failed}: the trigger's time ran out")
    try:
        with deadline.budget((left - reserve) if left is not None else 60.0):
            return visit(consumer)
    except Exception as exc:  # a consumer is never the rotation's failure, whatever its SDK raises
        return ConsumerReport(consumer, Standing.UNREACHABLE, f"{failed}: {_why(exc)}")


def _why(exc: BaseException) -> str:
    """Our message for our errors; only the type for anything else (its text may quote a request)."""
    return exc.message if isinstance(exc, RotationError) else f"unexpected {type(exc).__name__}"


def _tell(report: ConsumerReport, vault: VaultAddress, secret: str, version: str, *, publish: bool) -> None:
    if report.state in (Standing.MOVED, Standing.SIGNALLED):
        logger.info("Consumer %s of secret %s in %s: %s.", report.consumer, secret, vault, report.detail)
        return
    logger.warning(
        "Consumer %s of secret %s in %s is %s: %s.", report.consumer, secret, vault, report.state, report.detail
    )
    if not publish:
        return
    data = {
        "consumer": str(report.consumer),
        "state": report.state.value,
        "reason": report.detail,
        "newVersion": version,
    }
    outcomes.publish(outcomes.CONSUMER_NOT_REFRESHED, vault, secret, data)
