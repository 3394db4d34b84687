"""What a deployer calls to let an identity rotate applications' passwords: Microsoft Graph's service principal,
an app role assignment to the identity, and an application's owners.

* ``GET /servicePrincipals(appId='{appId}')`` with ``$select`` (learn ``graph/api/serviceprincipal-get``): the
  service principal and its ``appRoles`` (``id``, ``value``, ``allowedMemberTypes``, ``isEnabled``, ...; learn
  ``graph/api/resources/approle``). Least privilege ``Application.Read.All``.
* ``GET /servicePrincipals/{id}/appRoleAssignments`` (``serviceprincipal-list-approleassignments``): ``{"value":
  [appRoleAssignment]}``; ``POST`` the same with ``principalId``, ``resourceId``, ``appRoleId``
  (``serviceprincipal-post-approleassignments``): ``201 Created`` and the ``appRoleAssignment``. Needs
  "AppRoleAssignment.ReadWrite.All and Application.Read.All".
* ``GET /applications/{id}/owners`` (``application-list-owners``): ``{"value": [directoryObject]}``;
  ``POST /applications/{id}/owners/$ref`` ``{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}``
  (``application-post-owners``): ``204 No Content``. Least privilege for an application caller
  ``Application.ReadWrite.All`` and ``Directory.Read.All``; ``Application.ReadWrite.OwnedBy`` "will not be
  sufficient to add another owner".

Refusals as the applications' routes give them (:mod:`.responses`): 403 ``Authorization_RequestDenied``, 404
``Request_ResourceNotFound``. A body naming another principal, resource or role than the path is refused 400
``Request_BadRequest`` with a message of ours (Graph's is not recorded: assumed).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from localazure.services.graph.models import (
    APP_ROLE_IDS,
    ASSIGN,
    MICROSOFT_GRAPH_APP_ID,
    READ_ANY,
    WRITE_ANY,
    iso,
)
from localazure.services.graph.responses import GraphError, denied, headers, not_found
from localazure.wire import Request, Response

if TYPE_CHECKING:
    from localazure.services.graph.models import GraphBackend

DIRECTORY_READ = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})
_DIRECTORY_OBJECT = re.compile(r"https://[^/]+/v1\.0/directoryObjects/([0-9a-fA-F-]{36})")


def _caller_holds(graph: GraphBackend, *needed: frozenset[str] | set[str]) -> None:
    """403 unless the caller (every token is the stand-in's one principal) holds one role of each of ``needed``."""
    roles = graph.roles(graph.cloud.identity.principal_id)
    if not all(roles & set(each) for each in needed):
        raise denied()


def _app_role(role: str) -> dict[str, Any]:
    return {
        "allowedMemberTypes": ["Application"],
        "description": role,
        "displayName": role,
        "id": APP_ROLE_IDS[role],
        "isEnabled": True,
        "origin": "Application",
        "value": role,
    }


def get_service_principal(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    _caller_holds(graph, READ_ANY)
    if match["app_id"].lower() != MICROSOFT_GRAPH_APP_ID:
        raise not_found(match["app_id"])
    body = {
        "@odata.context": f"https://{request.host}/v1.0/$metadata#servicePrincipals/$entity",
        "id": graph.graph_service_principal,
        "appId": MICROSOFT_GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "appRoles": [_app_role(role) for role in APP_ROLE_IDS],
    }
    return Response(200, body, headers())


def _assignment(graph: GraphBackend, principal: str, role: str) -> dict[str, Any]:
    return {
        "id": f"{principal}-{APP_ROLE_IDS[role]}",
        "appRoleId": APP_ROLE_IDS[role],
        "createdDateTime": iso(datetime.now(timezone.utc)),
        "principalId": principal,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": "Microsoft Graph",
        "resourceId": graph.graph_service_principal,
    }


def _service_principal(graph: GraphBackend, match: re.Match[str]) -> str:
    principal = match["sp"].lower()
    if principal not in graph.service_principals:
        raise not_found(match["sp"])
    return principal


def list_app_role_assignments(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    _caller_holds(graph, READ_ANY)
    principal = _service_principal(graph, match)
    held = [_assignment(graph, principal, role) for role in APP_ROLE_IDS if role in graph.roles(principal)]
    context = f"https://{request.host}/v1.0/$metadata#servicePrincipals('{principal}')/appRoleAssignments"
    return Response(200, {"@odata.context": context, "value": held}, headers())


def assign_app_role(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    _caller_holds(graph, {ASSIGN}, READ_ANY)
    principal = _service_principal(graph, match)
    body = request.json()
    body = body if isinstance(body, dict) else {}
    role = next((name for name, role_id in APP_ROLE_IDS.items() if role_id == str(body.get("appRoleId"))), None)
    if (
        str(body.get("principalId")).lower() != principal
        or body.get("resourceId") != graph.graph_service_principal
        or role is None
    ):
        raise GraphError(400, "Request_BadRequest", "Invalid principalId, resourceId or appRoleId.")
    graph.grant(role, principal)
    context = f"https://{request.host}/v1.0/$metadata#servicePrincipals('{principal}')/appRoleAssignments/$entity"
    return Response(201, {"@odata.context": context, **_assignment(graph, principal, role)}, headers())


def list_owners(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    _caller_holds(graph, READ_ANY)
    application = graph.find(request.host, object_id=match["id"])
    if application is None:
        raise not_found(match["id"])
    owners = [{"@odata.type": "#microsoft.graph.servicePrincipal", "id": owner} for owner in sorted(application.owners)]
    context = f"https://{request.host}/v1.0/$metadata#directoryObjects"
    return Response(200, {"@odata.context": context, "value": owners}, headers())


def add_owner(graph: GraphBackend, request: Request, match: re.Match[str]) -> Response:
    # learn application-post-owners: "Application.ReadWrite.All and Directory.Read.All" (OwnedBy "isn't sufficient
    # to add another owner"), or Directory.ReadWrite.All.
    _caller_holds(graph, WRITE_ANY, DIRECTORY_READ)
    application = graph.find(request.host, object_id=match["id"])
    if application is None:
        raise not_found(match["id"])
    body = request.json()
    named = _DIRECTORY_OBJECT.fullmatch(str(body.get("@odata.id") if isinstance(body, dict) else ""))
    if named is None:
        raise GraphError(400, "Request_BadRequest", "Invalid @odata.id.")
    principal = named.group(1).lower()
    if principal not in graph.service_principals:
        raise not_found(principal)
    graph.add_owner(application, principal)
    return Response(204, None, {"request-id": str(uuid.uuid4())})
