"""The Log Analytics query API over an in-memory Key Vault audit trail.

``POST https://api.loganalytics.io/v1/workspaces/{workspace}/query`` (also ``api.loganalytics.azure.com``,
the name Microsoft's "Timeouts" page uses, and the national clouds' ``api.loganalytics.azure.cn`` and
``api.loganalytics.us``), body ``{"query", "timespan"}``, a bearer token for the API's audience.
Its answer is the documented shape ("Azure Monitor Log Analytics API: response format"):
``{"tables": [{"name": "PrimaryResult", "columns": [{"name", "type"}], "rows": [[...]]}]}``.
Errors as "Azure Monitor Log Analytics API errors" lists them: 401 ``AuthenticationFailed`` without a
token, 403 ``InvalidAuthenticationTokenAudience`` for another audience, 400 ``BadArgumentError`` for a
query it cannot run; past the ``Prefer: wait`` limit a query "fails with a status code of 504 Gateway
Timeout" ("Timeouts").

This is no KQL engine: it answers the product's audit query (``rotators.core.audit``), recognised by
its body and read from its ``let`` parameters; any other query is a 400. Tests write the audit
trail (:meth:`LogAnalyticsBackend.secret_get`); App Service apps write it too as they resolve their
references, as their managed identity.

Options where Microsoft documents no number: ``ingestion_delay`` (seconds before a record can be
queried; Azure Monitor's "Log data ingestion time" gives a typical 20 s to 3 minutes, without a
bound), ``names_version`` (whether a record of a read names the version served: Microsoft's samples
show no versionless ``SecretGet``), ``denied`` (the function's identity lacks read access on the
workspace: 403), and ``gateway_timeout`` (every query exceeds its wait: 504).

``tables`` says which tables the workspace has: ``both``; ``resource-specific`` (Key Vault's logs sent
in resource-specific mode only, as infra/ deploys: no ``AzureDiagnostics`` table); ``foreign-diagnostics``
(an ``AzureDiagnostics`` table holding other resources' logs only, so no ``id_s`` column). A leg of
``union isfuzzy=true`` that fails to resolve is left out with a warning, and the answer is 200 with the
tables and an ``error`` ``PartialError`` whose details are ``EngineError``s with an ``innererror`` of
``severityName`` ``Warning`` ("'extend' operator: Failed to resolve scalar expression named …": a real
answer quoted in Azure/azure-sdk-for-python#25137). ``partial_failure`` adds a detail of severity
``Error`` (a part of the query that did not run), whose shape no source shows beyond that issue's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from localazure.services.base import Clock, Front, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"api\.loganalytics\.(?:io|azure\.com|azure\.cn|us)")
AUDIENCES = frozenset(
    {"https://api.loganalytics.io", "https://api.loganalytics.azure.cn", "https://api.loganalytics.us"}
)
_DOCUMENTED = ("AzureDiagnostics", "AZKVAuditLogs", '"SecretGet"', "id_s", "identity_claim_", "Identity.claim")
_LET = re.compile(r'let (principals|secret|current) = (dynamic\((\[.*?\])\)|"[^"\n]*");\n')


@dataclass(frozen=True)
class SecretGet:
    """One audit record: who read which secret ID (with its version, or without) and when."""

    at: datetime
    principal: str
    secret_id: str


class LogAnalyticsBackend(Clock):
    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__()
        self.cloud = cloud
        self.records: list[SecretGet] = []
        self.queries: list[str] = []  # every query text received (tests check none holds a secret)
        self.ingestion_delay = 0.0
        self.names_version = True
        self.denied = False
        self.gateway_timeout = False
        self.tables = "both"
        self.partial_failure = False

    def secret_get(self, principal: str, vault: str, secret: str, version: str, *, versionless: bool = True) -> None:
        """``principal`` read ``version`` of ``secret`` (by a versionless URL unless ``versionless`` is False)."""
        named = version if self.names_version or not versionless else ""
        secret_id = f"https://{vault}.vault.azure.net/secrets/{secret}/{named}".rstrip("/")
        with self.cloud.lock:
            self.records.append(SecretGet(self.now(), principal.lower(), secret_id))


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        raise ApiError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    if cloud.identity.audience(authorization) not in AUDIENCES:
        raise ApiError(
            403, "InvalidAuthenticationTokenAudience", "The access token has been obtained from wrong audience."
        )


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    raise ApiError(404, "PathNotFoundError", "The requested path does not exist.")


def _parameters(text: str) -> tuple[list[str], str, str]:
    """The principals, the secret's URL and the current version of the product's query; else a 400.

    The query must read the tables and columns Microsoft documents for Key Vault's ``AuditEvent``
    ("Azure Key Vault logging", the ``AZKVAuditLogs`` table reference)."""
    found = {match[1]: match[3] or match[2] for match in _LET.finditer(text)}
    if set(found) != {"principals", "secret", "current"} or not all(name in text for name in _DOCUMENTED):
        raise ApiError(400, "BadArgumentError", "The request had some invalid properties", inner="SyntaxError")
    return json.loads(found["principals"]), json.loads(found["secret"]), json.loads(found["current"])


def _timespan(raw: object) -> tuple[datetime, datetime] | None:
    if not isinstance(raw, str) or "/" not in raw:
        return None
    start, _, end = raw.partition("/")
    try:
        return datetime.fromisoformat(start.replace("Z", "+00:00")), datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "BadArgumentError", "The request had some invalid properties") from None


def query(backend: LogAnalyticsBackend, request: Request, match: re.Match[str]) -> Response:
    body = request.json()
    text = body.get("query") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise ApiError(400, "BadArgumentError", "The request had some invalid properties")
    backend.queries.append(text)
    if backend.denied:  # the caller's identity has no read access to the workspace
        raise ApiError(403, "InsufficientAccessError", "The provided credentials have insufficient access.")
    if backend.gateway_timeout:
        raise ApiError(504, "GatewayTimeout", "The query exceeded the allowed wait.")
    principals, secret_url, current = _parameters(text)
    window = _timespan(body.get("timespan"))
    visible = backend.now() - timedelta(seconds=backend.ingestion_delay)
    latest: dict[str, tuple[datetime, str]] = {}
    first_current: dict[str, datetime] = {}
    for record in backend.records:
        if record.at > visible or (window and not window[0] <= record.at <= window[1]):
            continue
        # as the query does: ``Id startswith secret``, the secret's URL with its trailing "/"
        if record.principal not in principals or not record.secret_id.lower().startswith(secret_url):
            continue
        version = record.secret_id.lower()[len(secret_url) :].split("/")[0]
        if record.principal not in latest or record.at >= latest[record.principal][0]:
            latest[record.principal] = (record.at, version)
        if version == current and record.principal not in first_current:
            first_current[record.principal] = record.at
    rows = [
        [principal, _iso(at), version, _iso(first_current[principal]) if principal in first_current else None]
        for principal, (at, version) in sorted(latest.items())
    ]
    columns = [
        {"name": "Principal", "type": "string"},
        {"name": "LastRead", "type": "datetime"},
        {"name": "LastVersion", "type": "string"},
        {"name": "CurrentRead", "type": "datetime"},
    ]
    answer: dict[str, object] = {"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]}
    if details := _details(backend, text):
        answer["error"] = {
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": details,
        }
    return Response(200, answer)


def _details(backend: LogAnalyticsBackend, text: str) -> list[dict[str, object]]:
    """The details of a partial answer: a warning for each leg that fails to resolve, and the failure option."""
    unresolved = []
    if backend.tables == "resource-specific":
        unresolved.append("'where' operator: Failed to resolve table or column expression named 'AzureDiagnostics'")
    elif backend.tables == "foreign-diagnostics" and 'column_ifexists("id_s"' not in text:
        unresolved.append("'project' operator: Failed to resolve scalar expression named 'id_s'")
    found = [(message, "Warning", 3) for message in unresolved]
    if backend.partial_failure:
        found.append(("Query execution has exceeded the allowed limits.", "Error", 2))
    return [
        {
            "code": "EngineError",
            "message": "Something went wrong processing your query on the server.",
            "innererror": {"code": "-2133196790", "message": message, "severity": level, "severityName": name},
        }
        for message, name, level in found
    ]


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


FRONT = Front("loganalytics", "azure", lambda cloud, host: bool(_HOST.fullmatch(host)), _check, _unknown)
SERVICE = Service(
    "loganalytics",
    FRONT,
    LogAnalyticsBackend,
    (Url("loganalytics.query", "POST", r"/v1/workspaces/(?P<workspace>[^/]+)/query", query),),
)
