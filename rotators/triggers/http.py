"""The HTTP trigger: ``POST /api/rotate`` rotates one secret on demand."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func

from rotators.core.clouds import VaultAddress
from rotators.core.errors import BadRequest, RotationError
from rotators.core.names import check_secret_name
from rotators.workflows.rotation import RotationRequest, Status, Trigger, rotate

logger = logging.getLogger(__name__)


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


def _json(status: int, body: dict[str, Any]) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")
