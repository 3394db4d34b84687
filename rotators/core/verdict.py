"""One verdict on a secret against its resource's keys, for everyone who asks. Pure.

Whether the resource takes keys at all, whether it takes the contract's value format, and which
key the secret's value holds are judged here once, in that order. The rotation, enrolment and
rollback turn a verdict into their refusals (:func:`refusal` for what all three refuse alike, then
each its own answer to drift and dead keys); ``status`` turns it into a state
(:func:`rotators.core.assessment.judge_keys`).
"""

from __future__ import annotations

import enum

from rotators.core.contract import VALUE_FORMAT, Contract, ValueFormat
from rotators.core.errors import KeyAuthDisabled, NotRotatable
from rotators.core.keys import Holding, KeyState, holding


class Verdict(enum.Enum):
    SOUND = "the value is the key its CredentialId names"
    KEYS_OFF = "the resource refuses key authentication"
    MISFIT = "the resource cannot take the contract's value format"
    DRIFTED = "the value is the other key of its pair"
    BROKEN = "the value is neither key of its pair"


_BY_HOLDING = {Holding.CURRENT: Verdict.SOUND, Holding.ALTERNATE: Verdict.DRIFTED, Holding.NEITHER: Verdict.BROKEN}


def verdict(contract: Contract, value: str | None, state: KeyState) -> Verdict:
    """What ``state`` (the resource as just read, with its keys) says of a secret of ``contract`` holding
    ``value``; ``None`` for a secret that holds nothing yet (an enrolment), judged on the resource alone."""
    if state.key_auth_disabled:
        return Verdict.KEYS_OFF
    if contract.value_format is ValueFormat.CONNECTION_STRING and state.no_connection_string:
        return Verdict.MISFIT
    if value is None:
        return Verdict.SOUND
    held = holding(contract.held_key(value), state, contract.credential.key, contract.alternate.key)
    return _BY_HOLDING[held]


def refusal(judged: Verdict, contract: Contract, state: KeyState, secret_name: str) -> NotRotatable | None:
    """The refusal of a resource that cannot take the contract, whatever the secret holds: keys switched
    off (Microsoft recommends managed identities instead), or a value format it does not fit (a Cosmos DB
    account of another API). ``None`` for any other verdict."""
    kind, resource = contract.kind, contract.resource
    if judged is Verdict.KEYS_OFF:
        return KeyAuthDisabled(
            f"The {kind.display_name} {resource.name} refuses key authentication ({state.key_auth_disabled}): "
            f"nobody can use its keys, so rotating them is pointless. Use {kind.passwordless}, "
            f"and remove the rotation tags from secret '{secret_name}'."
        )
    if judged is Verdict.MISFIT:
        return NotRotatable(
            f"Tag '{VALUE_FORMAT}' is ConnectionString, but the {kind.display_name} {resource.name} "
            f"{state.no_connection_string}. Set {VALUE_FORMAT} to Key and build the connection string in the app."
        )
    return None
