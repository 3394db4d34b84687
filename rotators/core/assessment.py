"""How an enrolled secret stands, from its current version's properties alone. Pure.

Shared by the ``status`` command and the timer sweep, so what an operator sees is what
the sweep acts on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rotators.core.clouds import Cloud
from rotators.core.consumers import ConsumerReport
from rotators.core.contract import (
    NEAR_EXPIRY_WINDOW,
    Contract,
    is_enrolled,
    key_pair_conflict,
    read_contract,
    shared_key_pairs,
)
from rotators.core.errors import NotRotatable
from rotators.core.keys import KeyState
from rotators.core.records import SecretVersionInfo
from rotators.core.resources import Kinds
from rotators.core.verdict import Verdict, refusal, verdict


class State(enum.StrEnum):
    OK = "ok"
    NEAR_EXPIRY = "near expiry"
    EXPIRED = "expired"
    COOLING_DOWN = "cooling down"
    MISCONFIGURED = "misconfigured"
    # Only a key check (``status`` without --quick) tells these: they need the value and the keys.
    DRIFTED = "drift"
    BROKEN = "broken"
    KEYS_DISABLED = "key auth disabled"

    @property
    def due(self) -> bool:
        return self in (State.NEAR_EXPIRY, State.EXPIRED)


@dataclass(frozen=True)
class Assessment:
    secret: SecretVersionInfo
    state: State
    days_left: int | None
    reason: str = ""
    contract: Contract | None = None
    shares_pair_with: tuple[str, ...] = ()
    consumers: tuple[ConsumerReport, ...] = ()  # where each declared consumer stands (status only)


def assess(
    secret: SecretVersionInfo, cloud: Cloud, kinds: Kinds, *, now: datetime, min_interval: timedelta
) -> Assessment:
    days_left = None if secret.expires_on is None else (secret.expires_on - now).days
    try:
        contract = read_contract(secret.tags, cloud, kinds)
    except NotRotatable as exc:
        return Assessment(secret, State.MISCONFIGURED, days_left, exc.message)
    if now - secret.created_on < min_interval:
        state, reason = State.COOLING_DOWN, ""
    elif secret.expires_on is None:
        state, reason = State.NEAR_EXPIRY, "no expiry set: Key Vault never sends events for it"
    elif secret.expires_on <= now:
        state, reason = State.EXPIRED, ""
    elif secret.expires_on - now <= NEAR_EXPIRY_WINDOW:
        state, reason = State.NEAR_EXPIRY, ""
    else:
        state, reason = State.OK, ""
    return Assessment(secret, state, days_left, reason, contract)


def assess_vault(  # noqa: PLR0913
    secrets: Iterable[SecretVersionInfo],
    cloud: Cloud,
    kinds: Kinds,
    *,
    now: datetime,
    min_interval: timedelta,
    as_locked: Callable[[Contract], Contract] | None = None,
) -> list[Assessment]:
    """Every enrolled secret of a vault; those sharing a key pair are misconfigured, as ``rotate`` refuses them.

    ``as_locked`` names a contract's key pair as locks do (an Entra ID application by its object ID, whatever form
    its tag uses), so two secrets naming one application in two forms are found sharing it; ``None``: as tagged.
    One secret that cannot be assessed, for whatever reason, is reported as misconfigured
    and the others are still assessed: a single bad tag never hides a whole vault.
    """
    assessments = [
        _assess_one(s, cloud, kinds, now=now, min_interval=min_interval) for s in secrets if is_enrolled(s.tags)
    ]
    shared = shared_key_pairs(_by_name(assessments, as_locked))
    for index, assessment in enumerate(assessments):
        others = shared.get(assessment.secret.name)
        if others and assessment.contract is not None:
            reason = key_pair_conflict(assessment.secret.name, assessment.contract, others)
            assessments[index] = replace(
                assessment, state=State.MISCONFIGURED, reason=reason, shares_pair_with=tuple(others)
            )
    return assessments


def judge_keys(assessment: Assessment, value: str, state: KeyState) -> Assessment:
    """What the resource's keys say about a secret the tags alone call healthy (or due): the rotation's
    verdict (:mod:`rotators.core.verdict`), as a state."""
    contract = assessment.contract
    if contract is None or assessment.state is State.MISCONFIGURED:
        return assessment
    kind = contract.kind
    judged = verdict(contract, value, state)
    if judged is Verdict.KEYS_OFF:
        reason = (
            f"the {kind.display_name} refuses key authentication ({state.key_auth_disabled}); use {kind.passwordless}"
        )
        return replace(assessment, state=State.KEYS_DISABLED, reason=reason)
    if (refused := refusal(judged, contract, state, assessment.secret.name)) is not None:
        return replace(assessment, state=State.MISCONFIGURED, reason=refused.message)
    if judged is Verdict.DRIFTED:
        reason = (
            f"the value is {contract.alternate.tag} though CredentialId says {contract.credential.tag}; "
            f"set CredentialId to {contract.alternate.tag}"
        )
        return replace(assessment, state=State.DRIFTED, reason=reason)
    if judged is Verdict.BROKEN:
        reason = (
            f"the value is neither key of the {contract.describe_key_pair()}: apps reading it fail; "
            f"rotate with force to write the live {contract.credential.tag}"
        )
        return replace(assessment, state=State.BROKEN, reason=reason)
    return assessment


# Key Vault backs up no secret with more than 500 versions, and versions cannot be deleted (Key Vault's
# backup doc): status warns from 450 on, while there is still time to act.
BACKUP_MAX_VERSIONS = 500
VERSIONS_WARNING = 450


def versions_note(count: int) -> str | None:
    """What ``status`` says of a secret with ``count`` versions: nothing until it nears the backup limit."""
    if count < VERSIONS_WARNING:
        return None
    return (
        f"{count} versions: Key Vault cannot back up a secret with more than {BACKUP_MAX_VERSIONS}, and versions "
        "cannot be deleted; lengthen ValidityPeriodDays, or move its apps to a new secret"
    )


def pair_index(
    assessments: Iterable[Assessment], as_locked: Callable[[Contract], Contract] | None = None
) -> dict[tuple[str, frozenset[str]], list[str]]:
    """The vault's enrolled secrets by key pair (named as ``as_locked`` names it: :func:`assess_vault`), built
    once so that each rotation's claim looks up, not lists."""
    index: dict[tuple[str, frozenset[str]], list[str]] = {}
    for name, contract in _by_name(assessments, as_locked).items():
        index.setdefault(contract.key_pair, []).append(name)
    return index


def _by_name(
    assessments: Iterable[Assessment], as_locked: Callable[[Contract], Contract] | None
) -> dict[str, Contract]:
    """The valid contracts by secret name, their key pairs named as ``as_locked`` names them (``None``: as tagged)."""
    contracts = {a.secret.name: a.contract for a in assessments if a.contract is not None}
    return contracts if as_locked is None else {name: as_locked(c) for name, c in contracts.items()}


def _assess_one(
    secret: SecretVersionInfo, cloud: Cloud, kinds: Kinds, *, now: datetime, min_interval: timedelta
) -> Assessment:
    try:
        return assess(secret, cloud, kinds, now=now, min_interval=min_interval)
    except Exception as exc:  # an input no grammar foresaw: this secret's error, not the vault's
        return Assessment(secret, State.MISCONFIGURED, None, f"its tags could not be read ({type(exc).__name__})")
