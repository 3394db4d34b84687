"""The Event Grid trigger: Key Vault's near-expiry and expiry events rotate their secret."""

from __future__ import annotations

from typing import Any, Protocol

from rotators.core.deadline import budget
from rotators.core.errors import RotationError, RotationInProgress, TransientError
from rotators.core.events import ROTATING_EVENT_TYPES, parse_secret_event
from rotators.core.logs import get_logger
from rotators.core.settings import get_settings

logger = get_logger(__name__)


class SecretEventLike(Protocol):
    """``func.EventGridEvent`` and ``func.CloudEvent`` both fit."""

    @property
    def id(self) -> str: ...

    def get_json(self) -> Any: ...


def on_secret_event(event: SecretEventLike) -> None:
    """Rotate on near-expiry and expiry; ignore the rest.

    Transient failures raise so Event Grid redelivers; permanent ones are logged and
    swallowed, since redelivering them cannot succeed.
    """
    event_type = getattr(event, "event_type", None) or getattr(event, "type", None)
    if event_type not in ROTATING_EVENT_TYPES:
        logger.info("Ignoring event %s of type %s.", event.id, event_type)
        return
    try:
        from rotators.workflows.rotation import RotationRequest, Status, Trigger, rotate

        parsed = parse_secret_event(event.id, event_type, event.get_json())
        request = RotationRequest(
            parsed.vault, parsed.secret_name, Trigger.EVENT, event_version=parsed.version, event_id=event.id
        )
        with budget(get_settings().event_budget_seconds):
            outcome = rotate(request)
        if outcome.status is Status.PENDING:
            raise TransientError(f"Rotation of {parsed.secret_name} is still running; redeliver to resume it.")
    except RotationInProgress as exc:
        logger.info("Event %s: %s The lock holder writes the new version.", event.id, exc.message)
    except RotationError as exc:
        if exc.retryable:
            logger.warning("Event %s failed and will be redelivered: %s", event.id, exc.message)
            raise
        logger.error("Event %s rejected (%s): %s", event.id, exc.code, exc.message)
    except Exception as exc:  # redelivering a failure nobody foresaw would repeat it for 24 h; the sweep is the net
        logger.error("Event %s failed: unexpected %s; it is not redelivered.", event.id, type(exc).__name__)
