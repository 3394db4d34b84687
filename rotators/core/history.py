"""A secret's versions as an operator reads them: who wrote each one and how long it was current. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rotators.core.records import SecretVersionInfo

_CREDENTIAL_ID = "credentialid"
_ROTATED_BY = "rotatedby"


@dataclass(frozen=True)
class HistoryEntry:
    version: str
    created_on: datetime
    expires_on: datetime | None
    enabled: bool
    credential: str  # the CredentialId tag, "-" when absent
    written_by: str  # the RotatedBy tag; "-" for a version the product did not write
    current_for: timedelta  # until the next version was created, or until now for the newest
    is_current: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created": self.created_on.isoformat(),
            "expires": self.expires_on.isoformat() if self.expires_on else None,
            "enabled": self.enabled,
            "credential": self.credential,
            "rotatedBy": self.written_by,
            "currentForSeconds": int(self.current_for.total_seconds()),
            "current": self.is_current,
        }


def history(versions: list[tuple[SecretVersionInfo, bool]], *, now: datetime) -> list[HistoryEntry]:
    """Oldest first. Key Vault serves the newest version as current, so each version was current
    from its creation until the next one's; tags are read whatever their spelling."""
    ordered = sorted(versions, key=lambda item: item[0].created_on)
    entries = []
    for index, (info, enabled) in enumerate(ordered):
        last = index == len(ordered) - 1
        until = now if last else ordered[index + 1][0].created_on
        tags = {name.strip().lower(): value for name, value in info.tags.items()}
        entries.append(
            HistoryEntry(
                version=info.version,
                created_on=info.created_on,
                expires_on=info.expires_on,
                enabled=enabled,
                credential=tags.get(_CREDENTIAL_ID, "-"),
                written_by=tags.get(_ROTATED_BY, "-"),
                current_for=max(until - info.created_on, timedelta(0)),
                is_current=last,
            )
        )
    return entries


def previous_version(versions: list[tuple[SecretVersionInfo, bool]], current: str) -> SecretVersionInfo | None:
    """The enabled version created last before ``current``: what a rollback restores."""
    by_age = sorted(versions, key=lambda item: item[0].created_on)
    at = next((i for i, (info, _) in enumerate(by_age) if info.version == current), None)
    if at is None:
        return None
    earlier = [info for info, enabled in by_age[:at] if enabled]
    return earlier[-1] if earlier else None
