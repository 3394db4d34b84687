"""Verify before publish: a regenerated key is tested on the resource's data plane before any app is given it.

A new key can take a while to work everywhere (Cosmos DB propagates it across regions), so a
refusal right after regeneration is retried with backoff for at most ``PROPAGATION_SECONDS``
and never past the trigger's time; then the rotation answers ``pending`` and the next trigger
tests again (the key is regenerated once, whatever happens here). ``ROTATION_VERIFY``:

- ``required``: publish only a key the data plane accepted; an unreachable data plane waits too.
- ``best-effort`` (default): a data plane the function cannot reach (behind a firewall) is
  logged as a warning and the key published; a refused key still waits.
- ``off``: no test.

A kind without a data-plane test (its SDK speaks AMQP or another protocol this function does
not carry), or a resource whose data plane the kind's test does not speak (a FileStorage
account, a Cosmos DB account for MongoDB), is published untested in every mode, with that said
in the log.
"""

from __future__ import annotations

import time

from rotators.core import deadline
from rotators.core.contract import Contract
from rotators.core.errors import DataPlaneUnreachable, DeadlineExceeded, KeyRefused
from rotators.core.keys import Description
from rotators.core.logs import get_logger
from rotators.core.settings import get_settings
from rotators.kinds import key_kind
from rotators.kinds.base import Verifiable

logger = get_logger(__name__)

# How long a refusal right after regeneration is waited out within one trigger.
PROPAGATION_SECONDS = 60.0
_FIRST_PAUSE, _LONGEST_PAUSE = 1.0, 8.0


def reason_to_wait(  # noqa: PLR0911
    contract: Contract, key: str, value: str, described: Description, *, reserve: float
) -> str | None:
    """``None`` when the key may be published; otherwise why it may not be yet (the rotation is pending).

    ``described`` is the resource as the rotation read it: the test uses the hosts it reports.
    """
    mode = get_settings().verify
    kind, resource = key_kind(contract), contract.resource
    if mode == "off":
        return None
    if not isinstance(kind, Verifiable):
        logger.info(
            "No data-plane test exists for a %s: %s of %s is published untested.", kind.display_name, key, resource.name
        )
        return None
    started, pause = time.monotonic(), _FIRST_PAUSE
    refused = False  # once refused, the key is known not to work (yet): no later silence publishes it
    while True:
        left = deadline.remaining()
        if left is not None and left <= reserve + 0.5:
            if refused:
                return _propagating(resource.name, key)
            return f"the trigger's time is up before the new {key} of {resource.name} could be tested"
        try:
            # The test never eats the time the write and the lock's release need.
            with deadline.budget(left - reserve if left is not None else PROPAGATION_SECONDS):
                untested = kind.verify_key(resource, key, value, described)
            if untested is not None:
                logger.info("The new %s of %s is published untested: %s.", key, resource.name, untested)
            return None
        except DeadlineExceeded:
            silence = "no answer in the trigger's time"
            return _propagating(resource.name, key) if refused else _unreachable(mode, resource.name, key, silence)
        except KeyRefused:
            refused = True
            left = deadline.remaining()
            waited = time.monotonic() - started
            if waited + pause > PROPAGATION_SECONDS or (left is not None and left < pause + reserve):
                return _propagating(resource.name, key)
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
        except DataPlaneUnreachable as exc:
            return _propagating(resource.name, key) if refused else _unreachable(mode, resource.name, key, exc.message)


def _propagating(name: str, key: str) -> str:
    logger.warning(
        "The new %s of %s is not accepted by its data plane yet; it is not published, and a later trigger "
        "tests it again.",
        key,
        name,
    )
    return f"the new {key} of {name} is not accepted by the service yet (propagating)"


def _unreachable(mode: str, name: str, key: str, why: str) -> str | None:
    if mode == "required":
        return f"the data plane of {name} cannot be reached to test the new {key} ({why})"
    logger.warning(
        "The data plane of %s cannot be reached to test the new %s (%s); published untested "
        "(ROTATION_VERIFY=best-effort).",
        name,
        key,
        why,
    )
    return None
