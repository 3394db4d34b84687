"""Microsoft Graph v1.0 ``applications``: get (by object ID or ``appId``), ``addPassword``, ``removePassword``.

Shapes as Azure CLI recorded them live (``role/tests/latest/recordings/test_app_credential.yaml``,
2022-05-07): the ``@odata.context`` of each answer, the OData JSON content type, ``request-id``,
``x-ms-resource-unit``; ``addPassword`` 200 with the ``passwordCredential`` and its ``secretText``;
``removePassword`` 204 with no body. Errors in Graph's envelope ``{"error": {"code", "message",
"details"?, "innerError": {"date", "request-id", "client-request-id"}}}`` (learn ``graph/errors``;
the same recording's 403, 2025-02-20).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from localazure.services.graph.models import (
    OWNED_BY,
    PERSONAL_ACCOUNT_AUDIENCES,
    PERSONAL_ACCOUNT_PASSWORD_LIMIT,
    READ_ANY,
    WRITE_ANY,
    PasswordCredential,
    iso,
    new_secret_text,
    two_years_after,
)
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.graph.models import Application, GraphBackend

ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
# Every property of an application the stand-in models, as Graph spells them ($select is matched ignoring case).
_PROPERTIES = (
    "id",
    "deletedDateTime",
    "appId",
    "createdDateTime",
    "displayName",
    "signInAudience",
    "keyCredentials",
    "passwordCredentials",
)


class GraphError(ApiError):
    """Graph's error envelope: the code on ``error.code``, optional ``details``, and ``innerError`` with the
    request's date and IDs (``client-request-id`` repeats ``request-id`` when the caller sent none, as in the
    recorded 403)."""

    def __init__(self, status: int, code: str, message: str, *, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(status, code, message)
        self.details = details

    def response(self) -> Response:
        request_id = str(uuid.uuid4())
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error["innerError"] = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": request_id,
        }
        headers = {"Content-Type": "application/json", "request-id": request_id, "client-request-id": request_id}
        return Response(self.status, {"error": error}, headers)


# "Insufficient privileges to complete the operation.": Authorization_RequestDenied, 403, recorded live
# (test_app_credential.yaml, 2025-02-20) and quoted for addPassword (microsoftgraph/microsoft-graph-docs#6139).
def denied() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def not_found(identifier: str) -> GraphError:
    """Graph's 404 for a directory object that does not exist (body quoted in microsoft-graph-docs-contrib#6431)."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{identifier}' does not exist or one of its queried reference-property objects are not present.",
    )


def headers() -> dict[str, str]:
    request_id = str(uuid.uuid4())
    # One resource unit for a GET by ID or a POST (concepts/throttling-limits.md; the recording's header).
    return {
        "Content-Type": ODATA_JSON,
        "OData-Version": "4.0",
        "request-id": request_id,
        "client-request-id": request_id,
        "x-ms-resource-unit": "1",
    }


def _application(graph: GraphBackend, request: Request, match: re.Match[str], *, writes: bool) -> Application:
    """The application a path names, if the caller (the managed identity) may read or write it.

    The order of Graph's checks is not documented. Assumed here: a caller without any application permission
    is refused before the lookup (403), so an unknown application is 404 only to one that holds one.
    """
    principal = graph.cloud.identity.principal_id
    roles = graph.roles(principal)
    over_all = bool(roles & (WRITE_ANY if writes else READ_ANY))  # a permission over every application
    if not over_all and OWNED_BY not in roles:
        raise denied()
    object_id, app_id = match["id"], match["app_id"]
    application = graph.find(request.host, object_id=object_id, app_id=app_id)
    if application is None:
        raise not_found(object_id or app_id or "")
    # OwnedBy "cannot update any apps that it is not an owner of" (permissions reference); whether it may read
    # them is an option (GraphBackend.owned_by_reads_others).
    if not over_all and principal not in application.owners and (writes or not graph.owned_by_reads_others):
        raise denied()
    return application


def _body(graph: GraphBackend, application: Application) -> dict[str, Any]:
    return {
        "id": application.object_id,
        "deletedDateTime": None,
        "appId": application.app_id,
        "createdDateTime": iso(application.created),
        "displayName": application.display_name,
        "signInAudience": application.sign_in_audience,
        "keyCredentials": [],
        "passwordCredentials": [credential.body() for credential in graph.visible(application)],
    }


def get_application(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    """``GET /applications/{id}`` or ``/applications(appId='{appId}')``, ``$select`` honoured (learn
    ``graph/api/application-get``). A property the type lacks is refused as Graph's OData parser does
    (400 "Parsing OData Select and Expand failed: Could not find a property named ...", quoted in
    microsoft-graph-docs-contrib#4529)."""
    application = _application(graph, request, match, writes=False)
    body = _body(graph, application)
    context = f"https://{request.host}/v1.0/$metadata#applications/$entity"
    if selected := [name.strip() for name in request.query.get("$select", "").split(",") if name.strip()]:
        names = {name.lower(): name for name in _PROPERTIES}
        unknown = next((name for name in selected if name.lower() not in names), None)
        if unknown is not None:
            raise GraphError(
                400,
                "BadRequest",
                "Parsing OData Select and Expand failed: Could not find a property named "
                f"'{unknown}' on type 'microsoft.graph.application'.",
            )
        chosen = [names[name.lower()] for name in selected]
        body = {name: body[name] for name in chosen}
        context = f"https://{request.host}/v1.0/$metadata#applications({','.join(chosen)})/$entity"
    return Response(200, {"@odata.context": context, **body}, headers())


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        # OData's refusal of a literal that is not a DateTimeOffset (message not recorded for Graph: assumed).
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def add_password(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    """``POST .../addPassword`` with an optional ``passwordCredential`` (``displayName``, ``startDateTime``,
    ``endDateTime``); 200 with the new password and its ``secretText``, which no later answer repeats."""
    application = _application(graph, request, match, writes=True)
    body = request.json()
    requested = body.get("passwordCredential") if isinstance(body, dict) else None
    requested = requested if isinstance(requested, dict) else {}
    start = _moment(requested.get("startDateTime")) or graph.now()
    end = _moment(requested.get("endDateTime")) or two_years_after(start)
    policy = graph.policy_for(application)
    if policy is not None and policy.block_password_addition:
        # The code Microsoft's Teams Toolkit handles (OfficeDev/microsoft-365-agents-toolkit, aadAppClient.ts),
        # status 400 per its tests; the message is not published: this one is made up after the lifetime one.
        raise GraphError(
            400,
            "CredentialTypeNotAllowedAsPerAppPolicy",
            f"Credential type not allowed as per assigned policy '{policy.id}'.",
        )
    if policy is not None and policy.max_lifetime is not None and end - start > policy.max_lifetime:
        # Real body in OfficeDev/microsoft-365-agents-toolkit#10998: it names the policy, not the limit.
        message = f"Credential lifetime exceeds the max value allowed as per assigned policy '{policy.id}'."
        raise GraphError(
            400,
            "CredentialInvalidLifetimeAsPerAppPolicy",
            message,
            details=[{"code": "InvalidKeyEndDate", "message": message, "target": "EndDate"}],
        )
    held = len(application.present())
    if application.sign_in_audience in PERSONAL_ACCOUNT_AUDIENCES and held >= PERSONAL_ACCOUNT_PASSWORD_LIMIT:
        # The body a user quoted in Azure/azure-cli#12946 (same message in microsoft/coe-starter-kit#3695).
        raise GraphError(
            400,
            "TooManyAppPasswords",
            f"Not allowed to add {held + 1} passwords. You can only add a maximum of "
            f"{PERSONAL_ACCOUNT_PASSWORD_LIMIT} passwords.",
            details=[{"target": "passwordCredentials", "code": "TooManyAppPasswords"}],
        )
    credential = PasswordCredential(
        str(uuid.uuid4()),
        new_secret_text(),
        requested.get("displayName"),
        start,
        end,
        added=iso(graph.now()),
    )
    application.credentials.append(credential)
    answer = {
        "@odata.context": f"https://{request.host}/v1.0/$metadata#microsoft.graph.passwordCredential",
        **credential.body(with_secret=True),
    }
    return Response(200, answer, {**headers(), "Location": f"https://{request.host}"})


def remove_password(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    """``POST .../removePassword`` ``{"keyId"}``: 204 (learn ``graph/api/application-removepassword``; recorded).
    For a ``keyId`` the application does not hold, the answer is the option ``unknown_key_removal``."""
    application = _application(graph, request, match, writes=True)
    body = request.json()
    key_id = body.get("keyId") if isinstance(body, dict) else None
    credential = application.password(str(key_id)) if key_id else None
    if credential is None and graph.unknown_key_removal == "400":
        # Not documented or recorded: a plausible refusal, in the shape of Graph's other 400s.
        raise GraphError(400, "Request_BadRequest", f"No password credential found with keyId '{key_id}'.")
    if credential is None and graph.unknown_key_removal == "404":
        raise not_found(str(key_id))
    if credential is not None:
        credential.removed = graph.now()
    bodiless = {name: value for name, value in headers().items() if name not in ("Content-Type", "OData-Version")}
    return Response(204, None, bodiless)


def unknown_segment(request: Request) -> GraphError:
    """Graph's answer to a path it does not know (quoted in microsoftgraph/msgraph-beta-sdk-python#764)."""
    segment = next((part for part in reversed(request.path.split("/")) if part), "")
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
