"""After a rotation: ask every declared consumer to refresh its Key Vault references, and read where it stands.

Nothing here undoes or delays the rotation: the new version is written before, and a refresh
or a read that fails is that consumer's report (logged with the reason, and sent as a
``KeyRotation.ConsumerNotRefreshed`` event), never the rotation's error. Each consumer's
calls are bounded by the trigger's time; consumers left when it runs out are reported as not
refreshed, and App Service refreshes them within 24 hours anyway.
"""

from __future__ import annotations

from rotators.adapters import appservice, outcomes
from rotators.core import deadline
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import ConsumerReport, Moved, judge
from rotators.core.contract import Contract
from rotators.core.errors import RotationError
from rotators.core.logs import get_logger

logger = get_logger(__name__)

# What one consumer's refresh and read need, at least, before the trigger's time is up.
PER_CONSUMER_SECONDS = 3.0


def refresh_consumers(
    contract: Contract, vault: VaultAddress, secret: str, version: str, *, reserve: float
) -> list[ConsumerReport]:
    subscription, cloud = contract.resource.subscription, contract.resource.cloud
    reports = []
    for consumer in contract.consumers:
        left = deadline.remaining()
        if left is not None and left < reserve + PER_CONSUMER_SECONDS:
            report = ConsumerReport(consumer, Moved.UNREACHABLE, "not refreshed: the trigger's time ran out")
        else:
            try:
                with deadline.budget((left - reserve) if left is not None else 60.0):
                    appservice.refresh(consumer, subscription, cloud)
                    listed = appservice.references(consumer, subscription, cloud)
                report = judge(consumer, listed, vault.name, secret, version)
            except RotationError as exc:
                report = ConsumerReport(consumer, Moved.UNREACHABLE, f"not refreshed: {exc.message}")
        reports.append(report)
        _tell(report, vault, secret, version)
    return reports


def _tell(report: ConsumerReport, vault: VaultAddress, secret: str, version: str) -> None:
    if report.state is Moved.MOVED:
        logger.info("Consumer %s of secret %s in %s %s.", report.consumer, secret, vault, report.detail)
        return
    logger.warning(
        "Consumer %s of secret %s in %s is %s: %s.", report.consumer, secret, vault, report.state, report.detail
    )
    data = {
        "consumer": str(report.consumer),
        "state": report.state.value,
        "reason": report.detail,
        "newVersion": version,
    }
    outcomes.publish(outcomes.CONSUMER_NOT_REFRESHED, vault, secret, data)
