"""``python -m rotators grant-graph``: what the function's identity needs before it rotates an Entra ID application's
passwords, granted once with the deployer's own credential (``DefaultAzureCredential``: ``az login``, ...).

Two grants (README, "Entra ID applications"), each read first and written only when missing (Graph's reads may
lag a grant made moments before: learn ``serviceprincipal-list-approleassignments``), each write sent once
(``retry_total=0``: azure-core retries a POST on 500/503/504, and a lost answer may hide a grant that was made;
the next run reads it):

* the Microsoft Graph application permission ``Application.ReadWrite.OwnedBy``: an app role assignment to the
  identity's service principal (``GET /servicePrincipals(appId='00000003-0000-0000-c000-000000000000')`` finds
  Microsoft Graph's service principal and the role's ID by its value; ``GET`` and ``POST
  /servicePrincipals/{id}/appRoleAssignments`` with ``principalId``, ``resourceId``, ``appRoleId``: learn
  ``graph/api/serviceprincipal-get``, ``serviceprincipal-list-approleassignments``,
  ``serviceprincipal-post-approleassignments``). The deployer needs ``AppRoleAssignment.ReadWrite.All`` and
  ``Application.Read.All``: as a person, the Privileged Role Administrator (or Global Administrator) role;
* ownership of each application (``GET /applications/{id}/owners``, ``POST /applications/{id}/owners/$ref`` with
  ``{"@odata.id": "https://<graph>/v1.0/directoryObjects/{id}"}``: learn ``graph/api/application-list-owners``,
  ``application-post-owners``: least privileged "Application.ReadWrite.OwnedBy and Directory.Read.All" for an
  application, "Application.ReadWrite.All and Directory.Read.All" delegated; ``Application.ReadWrite.OwnedBy``
  "will not be sufficient to add another owner"): the deployer must own the application, or be an Application
  Administrator. ``owners_only`` skips the app role step, for a deployer who may add owners but not grant it.

A refusal names the role the deployer lacks; nothing after it is attempted. No secret is read or written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import CLOUDS
from rotators.core.errors import AccessDenied, BadRequest, UpstreamError
from rotators.core.parsing import shown
from rotators.core.settings import DOD_GRAPH_HOST

MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's appId in every tenant
OWNED_BY = "Application.ReadWrite.OwnedBy"
# Each cloud's Graph, and US Government L5's (DoD), which shares L4's vaults (rotators.core.settings.GRAPH_HOSTS).
GRAPH_HOSTS = (*(cloud.graph_host for cloud in CLOUDS), DOD_GRAPH_HOST)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ASSIGNER = (
    "AppRoleAssignment.ReadWrite.All and Application.Read.All (as a person: the Privileged Role Administrator or "
    "Global Administrator role)"
)
_OWNER_ADDER = (
    "ownership of the application, or the Application Administrator or Cloud Application Administrator role "
    "(Application.ReadWrite.All and Directory.Read.All for an application); with --owners-only, the app role step "
    "is skipped"
)


def grant(identity: str, applications: list[str], graph_host: str, *, owners_only: bool = False) -> list[str]:
    """Give ``identity`` (the principal ID of the function's managed identity) ``Application.ReadWrite.OwnedBy``
    (unless ``owners_only``) and ownership of each of ``applications`` (object IDs); returns one line per grant,
    saying what was done."""
    identity, applications = _guid(identity, "--identity"), [_guid(a, "--application") for a in applications]
    if graph_host not in GRAPH_HOSTS:
        raise BadRequest(f"--graph-host is {shown(graph_host)}; expected one of {', '.join(GRAPH_HOSTS)}.")
    if owners_only and not applications:
        raise BadRequest("--owners-only grants ownership only: name at least one --application.")
    graph = _Graph(graph_host)
    lines = [] if owners_only else [graph.assign_owned_by(identity)]
    lines.extend(graph.add_owner(application, identity) for application in applications)
    return lines


_GIVE_IDS = (
    "give the object ID of the application, and for the identity the principal ID of the function app's managed "
    "identity"
)


@dataclass(frozen=True)
class _Call:
    """What a call does (for its messages), what the deployer needs for it, and what a 404 says is missing and
    how to fix it."""

    operation: str
    needed: str
    missing: str = "application"
    fix: str = _GIVE_IDS


class _Graph:
    """The deployer's Graph calls, on one cloud's host."""

    def __init__(self, host: str) -> None:
        self.host = host

    def assign_owned_by(self, identity: str) -> str:
        graph = self._send(
            "GET",
            f"/servicePrincipals(appId='{MICROSOFT_GRAPH_APP_ID}')?$select=id,appRoles",
            _Call(
                "Read Microsoft Graph's service principal",
                _ASSIGNER,
                f"service principal for Microsoft Graph (appId {MICROSOFT_GRAPH_APP_ID})",
                "check --graph-host names this tenant's cloud",
            ),
        ).json()
        role = next((r for r in graph.get("appRoles") or () if r.get("value") == OWNED_BY), None)
        if role is None:
            raise BadRequest(f"Microsoft Graph's service principal on {self.host} lists no app role {OWNED_BY}.")
        assignments = f"/servicePrincipals/{identity}/appRoleAssignments"
        reading = _Call(f"Read the app role assignments of {identity}", _ASSIGNER, "service principal")
        for held in self._pages(f"{assignments}?$select=appRoleId,resourceId", reading):
            if _same(held.get("appRoleId"), role["id"]) and _same(held.get("resourceId"), graph["id"]):
                return f"{identity}: already holds {OWNED_BY}"
        body = {"principalId": identity, "resourceId": graph["id"], "appRoleId": role["id"]}
        self._send("POST", assignments, _Call(f"Grant {OWNED_BY} to {identity}", _ASSIGNER, "service principal"), body)
        return f"{identity}: granted {OWNED_BY} (it may take hours to reach the identity's tokens)"

    def add_owner(self, application: str, identity: str) -> str:
        owners = f"/applications/{application}/owners"
        reading = _Call(f"Read the owners of application {application}", _OWNER_ADDER)
        if any(str(o.get("id")).lower() == identity for o in self._pages(f"{owners}?$select=id", reading)):
            return f"{application}: {identity} is already an owner"
        body = {"@odata.id": f"https://{self.host}/v1.0/directoryObjects/{identity}"}
        adding = _Call(f"Add {identity} to the owners of {application}", _OWNER_ADDER, "application or principal")
        self._send("POST", f"{owners}/$ref", adding, body)
        return f"{application}: added {identity} as an owner"

    def _pages(self, path: str, call: _Call) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink`` on this host only: a link elsewhere is refused,
        as stopping there would read a partial collection as whole (and write what it already holds)."""
        prefix = f"https://{self.host}/v1.0/"
        link: str | None = path
        while link is not None:
            page = self._send("GET", link, call).json()
            yield from page.get("value") or ()
            following = page.get("@odata.nextLink")
            if following is None:
                return
            if not isinstance(following, str) or not following.startswith(prefix):
                raise UpstreamError(
                    f"{call.operation}: Graph's next page is not on {self.host}; nothing more was granted."
                )
            link = following.removeprefix(prefix[:-1])

    def _send(self, method: str, path: str, call: _Call, body: object = None) -> Any:
        """One call (a write sent once); a 403 names what the deployer needs, a 404 the ID that names nothing
        (nothing written)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        client = clients.graph_client(self.host)
        with calling(call.operation):
            once: dict[str, Any] = {"retry_total": 0} if method == "POST" else {}
            answer = client.send_request(HttpRequest(method, f"https://{self.host}/v1.0{path}", json=body), **once)
            answer.read()
            if answer.status_code == 403:
                raise AccessDenied(
                    f"{call.operation}: Graph refused (403): the deployer's credential (DefaultAzureCredential: az "
                    f"login, ...) needs {call.needed}. Nothing more was granted."
                )
            if answer.status_code == 404:
                raise BadRequest(
                    f"{call.operation}: Graph knows no {call.missing} by that ID on {self.host}: {call.fix}."
                )
            if answer.status_code >= 400:
                raise HttpResponseError(response=answer)
        return answer


def _same(one: object, other: object) -> bool:
    """Whether two IDs Graph gives are one (GUIDs: case does not matter)."""
    return str(one).lower() == str(other).lower()


def _guid(text: str, option: str) -> str:
    if not _GUID.fullmatch(text.strip()):
        raise BadRequest(f"{option} is {shown(text)}; expected an object ID (a GUID).")
    return text.strip().lower()
