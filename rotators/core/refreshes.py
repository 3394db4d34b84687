"""What each consumer of a secret was asked for one version: how often it was refreshed, and whether that took. Pure.

Microsoft says any configuration change restarts an app and re-reads its references ("Use Key
Vault references as app settings"); nobody says whether the reference refresh does. So a
consumer is refreshed (an App Configuration store: its sentinel set) at most once per version
once that is accepted. One that failed (refused, unanswered, or the app reporting its reference
broken) is tried again by the sweep, :data:`BACKOFF` apart, :data:`MAX_ATTEMPTS` times in all;
then App Service's own 24-hour refresh takes it. The memory is kept beside the rotation records
(``rotators.adapters.registry``), never in the secret; a new version starts a new one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from rotators.core.consumers import Consumer

MAX_ATTEMPTS = 3
# The wait before the second and the third attempt. A 403 is often a role assignment still
# propagating, which Microsoft's RBAC troubleshooting doc allows about 10 minutes for.
BACKOFF = (timedelta(minutes=10), timedelta(hours=1))


@dataclass(frozen=True)
class Asked:
    attempts: int = 0
    last: datetime | None = None
    settled: bool = False  # accepted, or nothing to ask: never asked again for this version


@dataclass(frozen=True)
class Refreshes:
    """The memory for one version of one secret, by consumer (``str(consumer).lower()``)."""

    version: str
    asked: Mapping[str, Asked] = field(default_factory=lambda: MappingProxyType({}))

    def of(self, version: str) -> Refreshes:
        """This memory if it is ``version``'s; a new version starts afresh."""
        return self if self.version.lower() == version.lower() else Refreshes(version)

    def due(self, consumer: Consumer, now: datetime) -> bool:
        """Whether ``consumer`` may be asked now: never settled, attempts left, and its backoff over."""
        asked = self.asked.get(_key(consumer), Asked())
        if asked.settled or asked.attempts >= MAX_ATTEMPTS:
            return False
        if asked.attempts == 0 or asked.last is None:
            return True
        return now >= asked.last + BACKOFF[min(asked.attempts, len(BACKOFF)) - 1]

    def attempting(self, consumers: Iterable[Consumer], now: datetime) -> Refreshes:
        """One more attempt for each of ``consumers``, made at ``now``."""
        changes = {_key(c): replace(self._of(c), attempts=self._of(c).attempts + 1, last=now) for c in consumers}
        return self._with(changes)

    def settling(self, consumers: Iterable[Consumer]) -> Refreshes:
        return self._with({_key(c): replace(self._of(c), settled=True) for c in consumers})

    def _of(self, consumer: Consumer) -> Asked:
        return self.asked.get(_key(consumer), Asked())

    def _with(self, changes: dict[str, Asked]) -> Refreshes:
        return replace(self, asked=MappingProxyType({**self.asked, **changes}))

    def to_json(self) -> bytes:
        asked = {
            key: {"attempts": a.attempts, "last": a.last.isoformat() if a.last else None, "settled": a.settled}
            for key, a in self.asked.items()
        }
        return json.dumps({"version": self.version, "consumers": asked}, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Refreshes:
        """Parse what :meth:`to_json` wrote; anything else (any shape, depth or encoding) is a ``ValueError``."""
        try:
            data = json.loads(raw.decode("utf-8"))
            version, entries = data["version"], data["consumers"]
            if not isinstance(version, str) or not isinstance(entries, dict):
                raise TypeError
            return cls(version, MappingProxyType({str(key): _asked(entry) for key, entry in entries.items()}))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise ValueError("not a refresh memory") from None


def _asked(entry: object) -> Asked:
    if not isinstance(entry, dict):
        raise TypeError
    attempts, last, settled = entry["attempts"], entry["last"], entry["settled"]
    if type(attempts) is not int or not isinstance(settled, bool) or not (last is None or isinstance(last, str)):
        raise TypeError
    when = datetime.fromisoformat(last) if last is not None else None
    if when is not None and when.tzinfo is None:
        raise ValueError
    return Asked(attempts, when, settled)


def _key(consumer: Consumer) -> str:
    return str(consumer).lower()
