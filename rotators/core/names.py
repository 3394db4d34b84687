"""The names the product accepts from outside: checked by an explicit grammar before any call to Azure."""

from __future__ import annotations

import re

from rotators.core.errors import BadRequest

# Key Vault: 1-127 ASCII letters, digits and hyphens.
_SECRET_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")


def check_secret_name(name: object) -> str:
    if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name.strip()):
        raise BadRequest(f"Secret name {name!r} is invalid: 1-127 letters, digits and hyphens.")
    return name.strip()
