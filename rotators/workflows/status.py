"""The ``status`` table: every enrolled secret of a vault and how it stands.

By default each enrolled secret's value is compared with its resource's keys (two reads
per secret), so drift, dead keys and resources that refuse key authentication show before
a rotation meets them; its versions are counted (one listing, a request per 25 versions), so
a secret nearing Key Vault's 500-version backup limit shows while there is time to act, and
so does a resource whose service or tier Microsoft retires (Azure Cache for Redis); a
secret whose rotation keeps failing says since when, how often, why and whether it was reported
(``rotators.workflows.failures``: one listing of the vault's failure memories, a read per memory);
and each declared consumer is asked which version it runs (a line per consumer under its secret).
``check_keys=False`` reads the vault's listing only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from rotators.adapters import vault
from rotators.core.assessment import Assessment, State, assess_vault, judge_keys, versions_note
from rotators.core.clouds import VaultAddress
from rotators.core.contract import Contract
from rotators.core.errors import ConfigurationError, RotationError
from rotators.core.failures import Failures
from rotators.core.logs import aligned, escape
from rotators.core.settings import get_settings
from rotators.kinds import KINDS, entra, inspect, password_kind
from rotators.workflows import claims, consumers, failures

COLUMNS = ("SECRET", "RESOURCE", "ACTIVE KEY", "CREATED", "EXPIRES", "DAYS LEFT", "STATE")


def vault_status(address: VaultAddress, *, now: datetime, check_keys: bool = True) -> list[Assessment]:
    listed = vault.list_secrets(address)
    assessments = assess_vault(
        listed, address.cloud, KINDS, now=now, min_interval=get_settings().min_interval, as_locked=claims.as_locked
    )
    if not check_keys:
        return assessments
    failing = _Failing.of(address)
    return [_with_keys(address, a, failing) for a in assessments]


@dataclass(frozen=True)
class _Failing:
    """The vault's failure memories (``rotators.workflows.failures``), or why they could not be read."""

    known: Mapping[str, Failures]
    unread: Mapping[str, str]  # by secret: why its memory could not be read
    unlisted: str | None = None  # why none could

    @classmethod
    def of(cls, address: VaultAddress) -> _Failing:
        try:
            found = failures.remembered(address)
        except Exception as exc:
            return cls({}, {}, _why(exc))
        return cls(found.known, found.unread)

    def note(self, assessment: Assessment, version: str | None) -> Assessment:
        """The secret's row, saying how its current version (``None``: not read) keeps failing, if it does,
        and why (unless the row says so already)."""
        name = assessment.secret.name.lower()
        if self.unlisted is not None:
            return _note(assessment, f"failures not read: {self.unlisted}")
        if name in self.unread:
            return _note(assessment, f"failures not read: {self.unread[name]}")
        known = self.known.get(name)
        if known is None or known.since is None or (version is not None and not known.concerns(version)):
            return assessment
        why = "" if known.reason in assessment.reason else f": {known.reason}"
        return _note(assessment, known.summary() + why)


def _with_keys(address: VaultAddress, assessment: Assessment, failing: _Failing) -> Assessment:
    """The key check of one secret, its failures, then its consumers; a failure to read is that secret's note,
    never the table's end."""
    contract = assessment.contract
    if contract is None or assessment.state is State.MISCONFIGURED:
        return assessment
    name = assessment.secret.name
    adding = password_kind(contract)
    if adding is not None:
        return failing.note(_with_passwords(address, assessment, contract, adding), assessment.secret.version)
    try:
        current, value = vault.read_current(address, name)
        state = inspect(contract)
    except Exception as exc:
        return failing.note(_note(assessment, f"keys not checked: {_why(exc)}"), None)
    judged = _with_versions(address, judge_keys(assessment, value, state))
    if state.retiring:
        judged = _note(judged, state.retiring)
    judged = failing.note(judged, current.version)
    if not contract.consumers:
        return judged
    try:
        reports = consumers.where_they_stand(consumers.Written.of(contract, address, current))
    except Exception as exc:
        return _note(judged, f"consumers not read: {_why(exc)}")
    return replace(judged, consumers=tuple(reports))


def _with_passwords(
    address: VaultAddress, assessment: Assessment, contract: Contract, kind: entra.ApplicationPasswords
) -> Assessment:
    """An application's secret: whether its value is the password its CredentialId names, and each password with
    its end and the versions that hold it (or whose it is), from one read of the application and one listing of
    the secret's versions."""
    name = assessment.secret.name
    try:
        _, value = vault.read_current(address, name)
        application = kind.read(contract.resource)
        versions = vault.list_versions(address, name)
    except Exception as exc:
        return _note(assessment, f"passwords not checked: {_why(exc)}")
    held = application.password(contract.credential.tag)
    if held is None:
        assessment = replace(
            assessment,
            state=State.BROKEN,
            reason=f"the application no longer has password {contract.credential.tag}: apps reading it fail; "
            "rotate with force to add and publish a new one",
        )
    elif not entra.holds(held, value):
        assessment = replace(
            assessment,
            state=State.DRIFTED,
            reason=f"the value is not password {contract.credential.tag}; set CredentialId to the keyId of the "
            "password it holds",
        )
    holders: dict[str, list[str]] = {}
    for info, _enabled in versions:
        holders.setdefault(info.tags.get("CredentialId", "").lower(), []).append(info.version)
    naming = entra.Naming(address.name, name)
    listed = []
    for password in application.passwords:
        held_by = holders.get(password.key_id)
        whose = (
            f"held by version {', '.join(held_by)}" if held_by else ("ours" if naming.ours(password) else "not ours")
        )
        listed.append(f"{password.key_id} ends {(password.end or 'never')[:10]} ({whose})")
    assessment = _note(assessment, f"passwords: {'; '.join(listed) or 'none'}")
    note = versions_note(len(versions))
    return _note(assessment, note) if note else assessment


def _with_versions(address: VaultAddress, assessment: Assessment) -> Assessment:
    """A note when the secret nears Key Vault's backup limit, counted from the listing of its versions."""
    try:
        count = len(vault.list_versions(address, assessment.secret.name))
    except Exception as exc:
        return _note(assessment, f"versions not counted: {_why(exc)}")
    note = versions_note(count)
    return _note(assessment, note) if note else assessment


def poison_note() -> str | None:
    """A line for the sweep's work the Functions host gave up on (its poison queues), or ``None`` when none was."""
    from rotators.adapters import queues

    try:
        counts = queues.poisoned()
    except ConfigurationError:
        return None  # no AzureWebJobsStorage here (an operator's terminal): no queues to count
    except Exception as exc:
        return f"poison messages not counted: {_why(exc)}"
    held = [f"{count} in {queue}" for queue, count in counts.items() if count]
    if not held:
        return None
    return (
        f"poison messages: {', '.join(held)}: sweep work given up after {queues.MAX_DEQUEUE_COUNT} deliveries "
        "(the log says why for each); the next sweep plans it again"
    )


def _why(exc: Exception) -> str:
    """Our message for our errors; only the type for anything else (its text may quote a request)."""
    return exc.message if isinstance(exc, RotationError) else f"unexpected {type(exc).__name__}"


def _note(assessment: Assessment, note: str) -> Assessment:
    return replace(assessment, reason=f"{assessment.reason}; {note}" if assessment.reason else note)


def render(assessments: list[Assessment]) -> str:
    header, *rows = aligned([COLUMNS] + [_row(a) for a in assessments])
    lines = [header]
    for assessment, row in zip(assessments, rows, strict=True):
        lines.append(row)
        lines.extend(
            escape(f"  consumer {report.consumer}: {report.state.value}: {report.detail}")
            for report in assessment.consumers
        )
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
