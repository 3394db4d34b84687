"""The triggers' bodies: parse the input, call :func:`rotate`, map the outcome.

``function_app.py`` stays a list of decorators; everything it needs is here.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import azure.functions as func

from rotators.clouds import VaultAddress
from rotators.errors import BadRequest, RotationError, RotationInProgress, TransientError
from rotators.events import ROTATING_EVENT_TYPES, parse_secret_event
from rotators.rotation import RotationRequest, Status, Trigger, rotate
from rotators.vault import check_secret_name

logger = logging.getLogger(__name__)


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
        parsed = parse_secret_event(event.id, event_type, event.get_json())
        outcome = rotate(RotationRequest(parsed.vault, parsed.secret_name, Trigger.EVENT, event_version=parsed.version))
        if outcome.status is Status.PENDING:
            raise TransientError(f"Rotation of {parsed.secret_name} is still running; redeliver to resume it.")
    except RotationInProgress as exc:
        logger.info("Event %s: %s The lock holder writes the new version.", event.id, exc.message)
    except RotationError as exc:
        if exc.retryable:
            logger.warning("Event %s failed and will be redelivered: %s", event.id, exc.message)
            raise
        logger.error("Event %s rejected (%s): %s", event.id, exc.code, exc.message)


def on_rotate_request(request: func.HttpRequest) -> func.HttpResponse:
    try:
        outcome = rotate(parse_rotate_request(request))
    except RotationError as exc:
        log = logger.warning if exc.status >= 500 else logger.info
        log("Rotate request refused (%d %s): %s", exc.status, exc.code, exc.message)
        return _json(exc.status, exc.as_dict())
    return _json(202 if outcome.status is Status.PENDING else 200, outcome.as_dict())


def parse_rotate_request(request: func.HttpRequest) -> RotationRequest:
    """Body ``{"vaultName", "secretName", "force", "dryRun"}``, or the Azure samples' query parameters."""
    body: Any = {}
    if request.get_body():
        try:
            body = json.loads(request.get_body())
        except ValueError:
            raise BadRequest("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
    params = request.params
    vault_name = body.get("vaultName", params.get("KeyVaultName"))
    secret_name = body.get("secretName", params.get("SecretName"))
    if vault_name is None or secret_name is None:
        raise BadRequest("Give 'vaultName' and 'secretName' in the JSON body (or KeyVaultName and SecretName).")
    return RotationRequest(
        vault=VaultAddress.from_name(vault_name),
        secret_name=check_secret_name(secret_name),
        trigger=Trigger.HTTP,
        force=_flag(body, params, "force"),
        dry_run=_flag(body, params, "dryRun"),
    )


def _flag(body: dict[str, Any], params: Any, name: str) -> bool:
    value = body.get(name, params.get(name, False))
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false.")
    return value


def on_sweep() -> None:
    from rotators.sweep import sweep

    sweep()


def _json(status: int, body: dict[str, Any]) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")
