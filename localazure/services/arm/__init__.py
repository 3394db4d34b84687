"""Azure Resource Manager's front door on ``management.azure.com``: the bearer token's
audience, the api-version a provider serves, the caller's authorization for the operation, and
the 404s of paths nobody serves.

Providers (Storage, Cosmos DB, …) are services behind this front, each with its own
URL table and api-versions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.arm.models import RG, ArmBackend
from localazure.services.base import Front, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

HOST = "management.azure.com"
AUDIENCES = {"https://management.azure.com", "https://management.core.windows.net"}
CHALLENGE = (
    'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
    "error_description=\"The authentication failed because of missing 'Authorization' header.\""
)
_ANY_RESOURCE = re.compile(RG + r"/providers/(?P<namespace>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)", re.I)


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        raise ApiError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            {"WWW-Authenticate": CHALLENGE},
        )
    audience = cloud.identity.audience(authorization)
    if audience not in AUDIENCES:
        raise ApiError(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
            "match with one of the allowed audiences 'https://management.core.windows.net/',"
            "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
        )
    version = request.query.get("api-version")
    if not version:
        raise ApiError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if service is not None and service.api_versions and version not in service.api_versions:
        # ARM's answer to a version the provider does not serve in the region, as recorded in
        # Azure/azure-cli#23985 and #28496 (sovereign clouds and rollouts lagging public Azure).
        match = _ANY_RESOURCE.search(request.path)
        kind = match["type"] if match else service.name
        raise ApiError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location 'eastus' and API version '{version}' for type "
            f"'{kind}'. The supported api-versions are '{', '.join(sorted(service.api_versions))}'.",
        )


def checked_action(request: Request) -> tuple[str, str]:
    """The RBAC action ARM checks for a call, by its naming of the URL, and the scope it checks it over.

    After ``/providers/<namespace>`` the segments alternate a resource type and a name, and the types
    make the resource type; GET reads, PUT and PATCH write, DELETE deletes, and a POST's last segment
    is an action (``<type>/<action>/action``) over the path before it. Recorded: ``POST <app>/config/
    appsettings/list`` is checked as ``Microsoft.Web/sites/config/list/action`` over ``<app>/config/
    appsettings`` (Azure/azure-cli#29644), ``PUT <storage account>`` as ``Microsoft.Storage/
    storageAccounts/write`` over the account (Azure/ARO-RP#66). Action names follow the URL's case,
    which RBAC ignores.
    """
    tail = request.path.rstrip("/").rpartition("/providers/")[2]
    namespace, *segments = tail.split("/")
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(request.method)
    scope = request.path.rstrip("/")
    if verb is None:  # POST: the last segment names the action
        verb = f"{segments.pop()}/action" if segments else "action"
        scope = scope.rpartition("/")[0]
    return "/".join([namespace, *segments[0::2], verb]), scope


def refusal(cloud: LocalAzure, action: str, scope: str) -> ApiError:
    """ARM's 403 for a call no role assignment covers, as recorded: ``{"error": {"code":
    "AuthorizationFailed", "message": "The client '<id>' with object id '<id>' does not have
    authorization to perform action '<action>' over scope '<scope>' or the scope is invalid. If access
    was recently granted, please refresh your credentials."}}`` (Azure/ARO-RP#66; Azure/azure-cli#29644;
    Microsoft's "Troubleshoot Azure RBAC" quotes the same sentence)."""
    principal = cloud.identity.principal_id
    return ApiError(
        403,
        "AuthorizationFailed",
        f"The client '{principal}' with object id '{principal}' does not have authorization to perform action "
        f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh "
        "your credentials.",
    )


def _authorize(cloud: LocalAzure, request: Request, url: Url) -> None:
    """Refuse a call that the caller's role assignments (``cloud.arm.assign``) do not cover."""
    action, scope = checked_action(request)
    action = cloud.arm.checked_as.get(url.route) or url.action or action
    if not cloud.arm.allows(action, scope):
        raise refusal(cloud, action, scope)


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    if match := _ANY_RESOURCE.search(request.path):
        raise cloud.arm.missing(match["sub"], match["rg"], f"{match['namespace']}/{match['type']}", match["name"])
    raise ApiError(404, "InvalidResourceType", f"The resource type could not be found for path '{request.path}'.")


def retry_after(seconds: float) -> dict[str, str]:
    """Whole seconds as ``Retry-After``; less as ``retry-after-ms`` (azure-core reads ``Retry-After: 0`` as absent)."""
    if seconds >= 1:
        return {"Retry-After": str(int(seconds))}
    return {"retry-after-ms": str(int(seconds * 1000))}


FRONT = Front("arm", "azure", lambda cloud, host: host == HOST, _check, _unknown, _authorize)
SERVICE = Service("arm", FRONT, ArmBackend, ())
