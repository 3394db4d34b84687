"""The ``status`` table: every enrolled secret of a vault and how it stands."""

from __future__ import annotations

from datetime import datetime

from rotators.adapters import vault
from rotators.core.assessment import Assessment, assess_vault
from rotators.core.clouds import VaultAddress
from rotators.core.logs import escape
from rotators.core.settings import get_settings

COLUMNS = ("SECRET", "RESOURCE", "ACTIVE KEY", "CREATED", "EXPIRES", "DAYS LEFT", "STATE")


def vault_status(address: VaultAddress, *, now: datetime) -> list[Assessment]:
    return assess_vault(vault.list_secrets(address), address.cloud, now=now, min_interval=get_settings().min_interval)


def render(assessments: list[Assessment]) -> str:
    rows = [COLUMNS] + [_row(a) for a in assessments]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]
    return "\n".join(lines) if assessments else "\n".join([*lines, "(no enrolled secrets)"])


def _row(assessment: Assessment) -> tuple[str, ...]:
    secret, contract = assessment.secret, assessment.contract
    state = assessment.state.value + (f": {assessment.reason}" if assessment.reason else "")
    cells = (
        secret.name,
        f"{contract.kind.resource_type.split('/')[-1]}/{contract.resource.name}" if contract else "-",
        contract.credential.tag if contract else secret.tags.get("CredentialId", "-"),
        secret.created_on.strftime("%Y-%m-%d %H:%M"),
        secret.expires_on.strftime("%Y-%m-%d %H:%M") if secret.expires_on else "never",
        str(assessment.days_left) if assessment.days_left is not None else "-",
        state,
    )
    return tuple(escape(cell) for cell in cells)  # a tag value must not start a table row of its own
