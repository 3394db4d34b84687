"""The queue triggers of the fanned-out sweep (``rotators.workflows.fanout``): one vault, one secret.

What a failure does follows the host's handling of a queue message: returning deletes it, raising
makes it visible again, and after ``maxDequeueCount`` deliveries (host.json) the host moves it to
``<queue>-poison``. So transient failures (throttling, 5xx, a role still propagating, no answer)
raise and are delivered again, a warning each time and an error on the last delivery, which says
the message is given up; refusals that cannot change by retrying are logged as the sequential
sweep logs them and the message is done with (the next sweep meets the secret again); another
trigger holding the key pair's lock is that trigger's work. Nothing here imports an Azure SDK.
"""

from __future__ import annotations

import logging
from typing import Protocol

from rotators.core.deadline import budget
from rotators.core.errors import BadRequest, RotationError, RotationInProgress
from rotators.core.logs import get_logger
from rotators.core.settings import get_settings

logger = get_logger(__name__)


class QueueMessageLike(Protocol):
    """``func.QueueMessage`` fits: the body the host decoded, and how often it has been delivered."""

    @property
    def dequeue_count(self) -> int | None: ...

    def get_body(self) -> bytes: ...


def on_vault_message(message: QueueMessageLike) -> None:
    from rotators.core.tasks import VaultTask
    from rotators.workflows.fanout import sweep_vault

    where = "a vault"
    try:
        task = VaultTask.parse(_text(message))
        where = str(task.vault)
        with budget(get_settings().sweep_budget_seconds):
            sweep_vault(task)
    except RotationError as exc:
        _failed(message, exc, f"Sweep of vault {where} stopped: {exc.message}")
    except Exception as exc:
        _failed(message, exc, f"Sweep of vault {where} failed: unexpected {type(exc).__name__}.")


def on_secret_message(message: QueueMessageLike) -> None:
    from rotators.core.tasks import SecretTask
    from rotators.workflows.fanout import sweep_secret

    where = "a secret"
    try:
        task = SecretTask.parse(_text(message))
        where = f"{task.secret} in {task.vault}"
        with budget(get_settings().event_budget_seconds):  # each rotation as long as one event may take
            sweep_secret(task)
    except RotationInProgress as exc:
        logger.info("Sweep left %s to another trigger: %s", where, exc.message)
    except RotationError as exc:
        _failed(message, exc, f"Sweep could not rotate {where}: {exc.message}")
    except Exception as exc:
        _failed(message, exc, f"Sweep could not rotate {where}: unexpected {type(exc).__name__}.")


def _text(message: QueueMessageLike) -> str:
    try:
        return message.get_body().decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The queue message is not UTF-8 text: it is not a sweep task.") from None


def _failed(message: QueueMessageLike, exc: Exception, line: str) -> None:
    """Raise for the host to deliver the message again, or log that it is done with; see the module's docstring."""
    from rotators.adapters.queues import MAX_DEQUEUE_COUNT

    again = not isinstance(exc, RotationError) or exc.retryable
    delivery = message.dequeue_count or 1
    if not again:
        refused_for_now = isinstance(exc, RotationError) and exc.status == 409
        logger.log(logging.WARNING if refused_for_now else logging.ERROR, "%s", line)
        return
    if delivery < MAX_DEQUEUE_COUNT:
        logger.warning("%s (delivery %d of %d; it is delivered again)", line, delivery, MAX_DEQUEUE_COUNT)
    else:
        logger.error(
            "%s (delivery %d of %d: given up, the message moves to the poison queue)", line, delivery, MAX_DEQUEUE_COUNT
        )
    raise exc
