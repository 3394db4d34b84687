"""The HTTP triggers: ``POST /api/rotate`` rotates one secret on demand; ``POST /api/rollback`` undoes one."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import azure.functions as func

from rotators.core.clouds import VaultAddress
from rotators.core.deadline import budget
from rotators.core.errors import BadRequest, RotationError
from rotators.core.logs import get_logger
from rotators.core.parsing import check_secret_name, shown
from rotators.core.settings import get_settings

if TYPE_CHECKING:
    from rotators.workflows.rotation import RotationRequest

logger = get_logger(__name__)

# A rotate request is a few hundred bytes; anything far larger is not one.
MAX_BODY_BYTES = 16 * 1024


def on_rotate_request(request: func.HttpRequest) -> func.HttpResponse:
    try:
        from rotators.workflows.rotation import Status, rotate

        rotation = parse_rotate_request(request)
        with budget(get_settings().http_budget_seconds):
            outcome = rotate(rotation)
    except RotationError as exc:
        return error_response(exc, "Rotate request")
    except Exception as exc:  # a bug must not answer with a traceback, nor take key material with it
        return unexpected_response(exc, "Rotate request")
    return json_response(202 if outcome.status is Status.PENDING else 200, outcome.as_dict())


def on_rollback_request(request: func.HttpRequest) -> func.HttpResponse:
    """Body ``{"vaultName" | "vaultUrl", "secretName", "dryRun"}``: the previous version's key again, if still live."""
    try:
        from rotators.workflows.rollback import rollback

        target = parse_rotate_request(request)
        if target.force:
            raise BadRequest("'force' does not apply to a rollback: a key no longer live is never published.")
        with budget(get_settings().http_budget_seconds):
            outcome = rollback(target.vault, target.secret_name, dry_run=target.dry_run)
    except RotationError as exc:
        return error_response(exc, "Rollback request")
    except Exception as exc:
        return unexpected_response(exc, "Rollback request")
    return json_response(200, outcome.as_dict())


def parse_rotate_request(request: func.HttpRequest) -> RotationRequest:
    """Body ``{"vaultName" | "vaultUrl", "secretName", "force", "dryRun"}``, or the Azure samples' query parameters."""
    from rotators.workflows.rotation import RotationRequest, Trigger

    body = json_body(request)
    params = request.params
    vault = body.get("vaultUrl", body.get("vaultName", params.get("KeyVaultName")))
    secret_name = body.get("secretName", params.get("SecretName"))
    if vault is None or secret_name is None:
        raise BadRequest(
            "Give 'vaultName' and 'secretName' in the JSON body ('vaultUrl' instead of 'vaultName' for a "
            "sovereign cloud), or the query parameters KeyVaultName and SecretName."
        )
    return RotationRequest(
        vault=VaultAddress.parse(vault),
        secret_name=check_secret_name(secret_name),
        trigger=Trigger.HTTP,
        force=flag(body, params, "force"),
        dry_run=flag(body, params, "dryRun"),
    )


def json_body(request: func.HttpRequest) -> dict[str, Any]:
    """The request's flat JSON object; anything else (too large, not UTF-8, not JSON, nested) is a 400.

    Both endpoints take names and flags only, so a value that is an object or an array is refused
    whatever its key, known or not: nothing reads it, and nothing is written on its account.
    """
    raw = request.get_body()
    if not raw:
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8.") from None
    except (ValueError, RecursionError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    nested = next((key for key, value in body.items() if isinstance(value, (dict, list))), None)
    if nested is not None:
        raise BadRequest(f"The request body must be a flat JSON object: {shown(nested)} holds an object or an array.")
    return body


def flag(body: dict[str, Any], params: Any, name: str) -> bool:
    value = body.get(name, params.get(name, False))
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false.")
    return value


def error_response(exc: RotationError, what: str) -> func.HttpResponse:
    log = logger.warning if exc.status >= 500 else logger.info
    log("%s refused (%d %s): %s", what, exc.status, exc.code, exc.message)
    response = json_response(exc.status, exc.as_dict())
    if exc.retryable and exc.answer is not None and exc.answer.retry_after:
        response.headers["Retry-After"] = str(math.ceil(exc.answer.retry_after))  # Azure's own ask, passed on
    return response


def unexpected_response(exc: Exception, what: str) -> func.HttpResponse:
    logger.error("%s failed: unexpected %s.", what, type(exc).__name__)
    body = {"error": {"code": "InternalError", "message": "The rotation failed unexpectedly; see the function's log."}}
    return json_response(500, body)


def json_response(status: int, body: dict[str, Any]) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")
