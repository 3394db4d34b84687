"""Key Vault's audit trail as evidence of which version each identity read. Pure.

A vault whose diagnostic setting sends the ``AuditEvent`` category to a Log Analytics workspace
records every ``SecretGet`` with the secret's ID and the caller's identity ("Azure Key Vault
logging"; "Supported logs for Microsoft.KeyVault/vaults": the category lands in ``AzureDiagnostics``
in Azure diagnostics mode, in the resource-specific ``AZKVAuditLogs`` table otherwise). The query
reads both (``union isfuzzy=true`` ignores the table a workspace lacks):

- ``AzureDiagnostics``: ``ResourceProvider`` ``MICROSOFT.KEYVAULT``, ``Category`` ``AuditEvent``,
  ``OperationName`` ``SecretGet``, ``ResultType``, ``id_s`` (the secret ID, through ``column_ifexists``:
  a workspace whose table holds only other resources' logs lacks it; a table past 500 columns moves
  more into ``AdditionalFields``) and the caller's object ID
  flattened from ``identity.claim`` (``identity_claim_oid_g``, or the long claim name
  ``identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g`` that the logging
  doc's sample record shows);
- ``AZKVAuditLogs`` (the Azure Monitor tables reference): ``OperationName``, ``ResultType``, ``Id``
  ("Key ID or secret ID"), ``Identity`` ("Identity from the token", the same ``claim`` object).

The query text is one constant; what changes per confirmation (the principals, the secret's URL,
the current version) is declared before it in ``let`` statements written only from values checked
here against their grammar (object IDs, a vault URL, a secret name, a version), never from tag
text as given. One query answers for every identity of a confirmation.

An identity *moved* when it read the current version and read no older version by name after
that; else it is *behind*, with the last version it read and when. No Microsoft source says whether
a versionless read is logged with the version served: a record without one never confirms anything.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rotators.core.consumers import PRINCIPAL, Consumer, ConsumerKind, ConsumerReport, Standing

ROLE = "the Log Analytics Reader role on the audit workspace"
_SECRET_URL = re.compile(r"https://[a-z0-9-]{3,24}\.[a-z0-9.-]{1,40}/secrets/[a-z0-9-]{1,127}/", re.ASCII)
_VERSION = re.compile(r"[0-9a-f]{32}", re.ASCII)
# The columns of the answer, in order.
COLUMNS = ("Principal", "LastRead", "LastVersion", "CurrentRead")
QUERY = """union isfuzzy=true
    (AzureDiagnostics
    | where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent"
    | where OperationName == "SecretGet" and ResultType == "Success"
    | project TimeGenerated, Id = tostring(column_ifexists("id_s", "")), Principal = coalesce(
        tostring(column_ifexists("identity_claim_oid_g", "")),
        tostring(column_ifexists("identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g", "")))),
    (AZKVAuditLogs
    | where OperationName == "SecretGet" and ResultType == "Success"
    | project TimeGenerated, Id, Principal = coalesce(
        tostring(Identity.claim.oid), tostring(Identity.claim["http://schemas.microsoft.com/identity/claims/objectidentifier"])))
| extend Principal = tolower(Principal), Id = tolower(Id)
| where Principal in (principals) and Id startswith secret
| extend Version = tostring(split(substring(Id, strlen(secret)), "/")[0])
| summarize arg_max(TimeGenerated, Version), CurrentRead = minif(TimeGenerated, Version == current) by Principal
| project Principal, LastRead = TimeGenerated, LastVersion = Version, CurrentRead"""


@dataclass(frozen=True)
class AuditRead:
    """What the audit trail says of one identity and one secret."""

    principal: str
    last_read: datetime
    last_version: str  # "" when the record names no version
    current_read: datetime | None  # when it first read the current version, if it did


@dataclass(frozen=True)
class Question:
    """What one confirmation asks the audit trail: these principals' reads of a secret, over a time span."""

    principals: tuple[str, ...]
    vault_url: str
    secret: str
    version: str
    since: datetime
    until: datetime


def query(question: Question) -> str:
    """The one query for a question; a value outside its grammar is a ``ValueError``."""
    ids = sorted({principal.lower() for principal in question.principals})
    secret_url = f"{question.vault_url.lower().rstrip('/')}/secrets/{question.secret.lower()}/"
    version = question.version
    if not ids or not all(PRINCIPAL.fullmatch(i) for i in ids):
        raise ValueError("an audit query needs object IDs")
    if not _SECRET_URL.fullmatch(secret_url) or not _VERSION.fullmatch(version.lower()):
        raise ValueError("an audit query needs a secret's URL and a version")
    # json.dumps of checked ASCII values is a valid KQL string literal and dynamic array.
    return (
        f"let principals = dynamic({json.dumps(ids)});\n"
        f"let secret = {json.dumps(secret_url)};\n"
        f"let current = {json.dumps(version.lower())};\n" + QUERY
    )


def reads(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> dict[str, AuditRead]:
    """The answer's rows by principal; a row not in the query's shape is skipped."""
    index = {name: position for position, name in enumerate(columns)}
    if not set(COLUMNS) <= set(index):
        raise ValueError("the audit answer lacks the query's columns")
    found = {}
    for row in rows:
        principal, last, version, current = (row[index[name]] for name in COLUMNS)
        if isinstance(principal, str) and isinstance(last, datetime):
            found[principal.lower()] = AuditRead(
                principal.lower(),
                last,
                str(version or ""),
                current if isinstance(current, datetime) else None,
            )
    return found


def token_principal(token: str) -> str | None:
    """The ``oid`` claim (the caller's object ID: "Access token claims reference") of a JWT access token, unverified:
    only to know which reads in the audit trail are the function's own; ``None`` when it has none."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    oid = claims.get("oid") if isinstance(claims, dict) else None
    return oid.lower() if isinstance(oid, str) and PRINCIPAL.fullmatch(oid.lower()) else None


def unaskable(asked: Mapping[Consumer, Sequence[str]], own: str) -> dict[Consumer, ConsumerReport]:
    """The consumers whose identities' reads cannot speak for them: the function's own identity (``own``, which reads
    every version it writes), and one identity shared by several consumers (its reads cannot tell them apart)."""
    holders: dict[str, list[Consumer]] = {}
    for consumer, principals in asked.items():
        for principal in {p.lower() for p in principals}:
            holders.setdefault(principal, []).append(consumer)
    found = {}
    for consumer, principals in asked.items():
        for principal in principals:
            others = [other for other in holders[principal.lower()] if other != consumer]
            if principal.lower() == own.lower():
                why = f"its identity ({principal}) is the rotator's own, whose reads of the secret say nothing of it"
            elif others:
                why = (
                    f"its identity ({principal}) is also consumer {others[0]}'s: the audit trail cannot tell them apart"
                )
            else:
                continue
            found[consumer] = ConsumerReport(consumer, Standing.UNREPORTED, f"{why}; the full cool-down holds")
            break
    return found


def only_unresolved(details: object) -> bool:
    """Whether a partial answer's error details are all warnings that a table or column did not resolve.

    ``union isfuzzy=true`` leaves out a leg whose table the workspace lacks (Key Vault's logs in one mode
    only) with such a warning ("'extend' operator: Failed to resolve scalar expression named …", severity
    ``Warning``: a real answer quoted in Azure/azure-sdk-for-python#25137); a leg left out holds no record,
    so the rest of the answer is whole. Anything else (no details, an error) leaves the answer unusable.
    """
    if not isinstance(details, Sequence) or isinstance(details, str) or not details:
        return False
    for detail in details:
        inner = detail
        while isinstance(inner, Mapping) and isinstance(inner.get("innererror"), Mapping):
            inner = inner["innererror"]
        if not isinstance(inner, Mapping) or str(inner.get("severityName", "")).lower() != "warning":
            return False
        if "failed to resolve" not in str(inner.get("message", "")).lower():
            return False
    return True


def judge_reads(consumer: Consumer, principal: str, found: Mapping[str, AuditRead], version: str) -> ConsumerReport:
    """Where ``consumer`` stands by what its identity ``principal`` read of the secret."""
    read = found.get(principal.lower())
    who = "it" if consumer.kind is ConsumerKind.IDENTITY else "its identity"
    if read is None:
        return ConsumerReport(
            consumer, Standing.BEHIND, f"the audit trail records no read of the secret by {who} ({principal})"
        )
    if read.current_read is not None and read.last_version not in ("", version.lower()):  # an older one, later
        return ConsumerReport(
            consumer,
            Standing.BEHIND,
            f"audit record: {who} read version {version} at {read.current_read.isoformat(timespec='seconds')}, "
            f"then version {read.last_version} at {read.last_read.isoformat(timespec='seconds')}",
        )
    if read.current_read is not None:
        return ConsumerReport(
            consumer,
            Standing.MOVED,
            f"audit record: {who} read version {version} at {read.current_read.isoformat(timespec='seconds')}",
        )
    named = f"version {read.last_version}" if read.last_version else "the secret (the record names no version)"
    return ConsumerReport(
        consumer,
        Standing.BEHIND,
        f"audit record: {who} last read {named} at {read.last_read.isoformat(timespec='seconds')}",
    )


def judge_replicas(
    consumer: Consumer,
    principals: Sequence[str],
    found: Mapping[str, AuditRead],
    version: str,
    replicas: Sequence[datetime | None],
) -> ConsumerReport:
    """Where a container app stands: ``moved`` only when each identity its secrets name (``principals``) read
    ``version`` and every replica of its active revisions (their ``createdTime``, in ``replicas``) was created after
    the last of those reads; any doubt is ``unreported`` (the full cool-down).

    The platform's read alone says nothing of running replicas: "An updated or deleted secret doesn't automatically
    affect existing revisions" ("Manage secrets in Azure Container Apps"); a replica created after it started with
    the value it read.
    """
    if not principals:
        return _unproven(consumer, "none of its secrets names an identity whose reads the audit trail records")
    read_at = []
    for principal in principals:
        report = judge_reads(consumer, principal, found, version)
        current = found[principal.lower()].current_read if report.state is Standing.MOVED else None
        if current is None:
            return _unproven(consumer, report.detail)
        read_at.append(current)
    last_read = max(read_at).isoformat(timespec="seconds")
    if not replicas:
        return _unproven(consumer, "its active revisions list no replica")
    if any(created is None for created in replicas):
        return _unproven(consumer, "a replica of its active revisions reports no createdTime")
    oldest = min(created for created in replicas if created is not None)
    if oldest <= max(read_at):
        return _unproven(
            consumer,
            f"a replica created at {oldest.isoformat(timespec='seconds')} runs since before its identities' read of "
            f"version {version} at {last_read}",
        )
    return ConsumerReport(
        consumer,
        Standing.MOVED,
        f"audit record: its identities read version {version} by {last_read}, and every replica of its active "
        f"revisions was created after (the oldest at {oldest.isoformat(timespec='seconds')})",
    )


def _unproven(consumer: Consumer, why: str) -> ConsumerReport:
    return ConsumerReport(
        consumer, Standing.UNREPORTED, f"{why}: nothing shows its running replicas hold it; the full cool-down holds"
    )
