"""Key Vault secret events, parsed defensively from either Event Grid schema.

Real events have shown ``"NBF": null``, ``EXP`` as a float and stray spaces around keys
and values, so keys are matched case-insensitively after stripping and numbers are coerced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from rotators.core.clouds import VaultAddress
from rotators.core.errors import BadRequest
from rotators.core.parsing import shown

NEAR_EXPIRY = "Microsoft.KeyVault.SecretNearExpiry"
EXPIRED = "Microsoft.KeyVault.SecretExpired"
ROTATING_EVENT_TYPES = frozenset({NEAR_EXPIRY, EXPIRED})

_SECRET_PATH = re.compile(r"/secrets/(?P<name>[0-9A-Za-z-]{1,127})/(?P<version>[0-9A-Za-z]{1,64})/?")


@dataclass(frozen=True)
class SecretEvent:
    id: str
    event_type: str
    vault: VaultAddress
    secret_name: str
    version: str
    expires_on: datetime | None

    @property
    def rotates(self) -> bool:
        return self.event_type in ROTATING_EVENT_TYPES


def parse_secret_event(event_id: str | None, event_type: str | None, data: Any) -> SecretEvent:
    """Build a :class:`SecretEvent`; a malformed one raises :class:`BadRequest` naming the field."""
    if not isinstance(data, Mapping):
        raise BadRequest("Event data must be a JSON object.")
    fields = {str(key).strip().lower(): _strip(value) for key, value in data.items()}
    raw_id = fields.get("id")
    if not isinstance(raw_id, str) or not raw_id:
        raise BadRequest("Event data has no 'Id' (the versioned secret URL).")
    vault = VaultAddress.from_url(raw_id, allow_path=True)
    match = _SECRET_PATH.fullmatch(urlsplit(raw_id.strip()).path)
    if match is None:
        raise BadRequest(f"Event data 'Id' is not a versioned secret URL: {shown(raw_id)}.")
    object_type = fields.get("objecttype")
    if object_type is not None and str(object_type).lower() != "secret":
        raise BadRequest(f"Event data 'ObjectType' is {shown(object_type)}, not 'Secret'.")
    return SecretEvent(
        id=str(event_id or ""),
        event_type=str(event_type or "").strip(),
        vault=vault,
        secret_name=match["name"],
        version=match["version"],
        expires_on=_epoch(fields.get("exp")),
    )


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None
