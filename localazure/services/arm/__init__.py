"""Azure Resource Manager's front door on ``management.azure.com``: the bearer token's
audience, the api-version a provider serves, and the 404s of paths nobody serves.

Providers (Storage, Cosmos DB, …) are services behind this front, each with its own
URL table and api-versions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.arm.models import RG, ArmBackend
from localazure.services.base import Front, Service
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


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    if match := _ANY_RESOURCE.search(request.path):
        raise cloud.arm.missing(match["sub"], match["rg"], f"{match['namespace']}/{match['type']}", match["name"])
    raise ApiError(404, "InvalidResourceType", f"The resource type could not be found for path '{request.path}'.")


def retry_after(seconds: float) -> dict[str, str]:
    """Whole seconds as ``Retry-After``; less as ``retry-after-ms`` (azure-core reads ``Retry-After: 0`` as absent)."""
    if seconds >= 1:
        return {"Retry-After": str(int(seconds))}
    return {"retry-after-ms": str(int(seconds * 1000))}


FRONT = Front("arm", "azure", lambda cloud, host: host == HOST, _check, _unknown)
SERVICE = Service("arm", FRONT, ArmBackend, ())
