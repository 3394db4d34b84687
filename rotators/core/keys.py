"""What a resource's keys say about a secret and about a rotation under way. Pure.

Two questions decide whether a rotation may touch Azure, and both are answered from the
resource's own state, never from the secret's tags alone and never from an operation's
status URL:

- :func:`holding`: is the secret's value really the key its ``CredentialId`` names? If it
  is the alternate, the tag drifted and regenerating the "alternate" would break every
  app; if it is neither, the secret already holds a dead key (:mod:`rotators.core.verdict`
  puts this together with what the resource itself refuses, for every caller).
- :func:`progress`: what became of the last regeneration request? It took effect if the
  target key's value changed (against its fingerprint) or Azure reports a new generation
  time for it; otherwise it may still take effect until it has settled.

Key values are compared in constant time; the records keep only salted fingerprints of them, and
:class:`KeyState` never shows them (its ``repr`` lists key names only).
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from rotators.core.records import RotationRecord


@dataclass(frozen=True)
class Description:
    """What one read of the resource (no key listing) tells.

    ``generated`` holds Azure's own record of when a key was last generated, where the
    service reports one (Storage's ``keyCreationTime``, Cosmos DB's ``keysMetadata``), as
    Azure wrote it. ``key_auth_disabled`` says why nobody can use the keys, when the resource
    refuses them. ``endpoints`` are the hosts the resource reports for itself, by the service's
    own names (Storage's ``primaryEndpoints``, a ``hostName``, Batch's ``accountEndpoint``):
    what its connection string and its key test use, never a host built from its name.
    ``other_api`` names the data-plane API of a resource that does not speak the one the
    kind's key test reads (a FileStorage account's Azure Files, a Cosmos DB account for MongoDB):
    its keys are published untested. ``no_connection_string`` says, as a clause after the
    resource's name, why the kind's connection string does not fit it (``ValueFormat=ConnectionString``
    is refused for it). ``retiring`` says when Microsoft retires the resource's service or tier, and
    what replaces it (``status`` shows it).
    """

    generated: Mapping[str, str] = field(default_factory=dict)
    key_auth_disabled: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)
    other_api: str | None = None
    no_connection_string: str | None = None
    retiring: str | None = None

    def with_keys(self, values: Mapping[str, str]) -> KeyState:
        return KeyState(values=values, **{f.name: getattr(self, f.name) for f in fields(Description)})


@dataclass(frozen=True)
class KeyState(Description):
    """A resource as Azure described it just now, with its keys: ``values`` maps the service's key
    names to their values."""

    values: Mapping[str, str] = field(kw_only=True, repr=False)

    def __repr__(self) -> str:  # never the values, even in a debugger or a failure report
        return f"KeyState(keys={sorted(self.values)}, generated={dict(self.generated)})"


class Holding(enum.Enum):
    CURRENT = "the key its CredentialId names"
    ALTERNATE = "the other key of its pair"
    NEITHER = "neither key of its pair"


def holding(held: str | None, state: KeyState, current: str, alternate: str) -> Holding:
    """Which key of the pair ``held`` (the key inside the secret's value) is, in constant time."""
    if held is not None and _same(held, state.values.get(current)):
        return Holding.CURRENT
    if held is not None and _same(held, state.values.get(alternate)):
        return Holding.ALTERNATE
    return Holding.NEITHER


def _same(a: str, b: str | None) -> bool:
    return b is not None and hmac.compare_digest(a.encode(), b.encode())


class Step(enum.Enum):
    SEND = "send"  # no request can still take effect: ask Azure
    REGENERATED = "regenerated"  # the target key changed: write it
    WAIT = "wait"  # a request may still take effect, or its new key is not listed yet


@dataclass(frozen=True)
class Progress:
    step: Step
    reason: str = ""


def progress(
    rotation: RotationRecord,
    state: KeyState,
    *,
    now: datetime,
    settle: timedelta,
    accepted_settle: timedelta,
) -> Progress:
    """What to do next in a rotation whose record says a regeneration may have been asked for.

    A changed value is proof. A new generation time with an unchanged value means Azure did
    regenerate but still lists the old key (propagation): never ask again, never publish the
    old value, read it again later. Neither means the request has not taken effect *yet*:
    it is sent again only once Azure can no longer act on it (``settle`` after a request
    whose answer was lost; ``accepted_settle`` after one Azure accepted as a long-running
    operation, which runs on Azure's clock for minutes or hours).
    """
    value = state.values.get(rotation.target_key)
    if value is not None and rotation.key_changed(value):
        return Progress(Step.REGENERATED)
    generated = state.generated.get(rotation.target_key)
    if generated is not None and generated != rotation.generated_before:
        return Progress(Step.WAIT, "Azure regenerated the key but still lists its old value; it is read again later")
    if rotation.requested_at is None:
        return Progress(Step.SEND)
    again = rotation.requested_at + (accepted_settle if rotation.accepted else settle)
    if now < again:
        why = (
            "Azure accepted the regeneration and runs it on its own clock"
            if rotation.accepted
            else "the last regeneration request went unanswered and Azure may still apply it"
        )
        return Progress(Step.WAIT, f"{why}; it is asked again from {again:%H:%M:%S} UTC unless it completes")
    return Progress(Step.SEND)


def regenerated_value(rotation: RotationRecord, values: Mapping[str, str]) -> str | None:
    """The target key's new value, once it differs from the value before the rotation."""
    value = values.get(rotation.target_key)
    return value if value is not None and rotation.key_changed(value) else None


def key_in_connection_string(value: str, field_name: str, *, separator: str = ";") -> str | None:
    """The value of ``field_name`` in ``name=value`` pairs, matched case-insensitively."""
    for part in value.split(separator):
        name, equals, found = part.partition("=")
        if equals and name.strip().lower() == field_name.lower():
            return found.strip()
    return None


def generation_times(items: Mapping[str, datetime | None]) -> dict[str, str]:
    """Azure's generation times as comparable text, leaving out keys it reports none for."""
    return {name: moment.isoformat() for name, moment in items.items() if moment is not None}
