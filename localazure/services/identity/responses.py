"""The App Service managed-identity endpoint (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``), as
Microsoft's doc "Use managed identities for App Service and Azure Functions" describes it:
``GET ?resource=…&api-version=2019-08-01`` with header ``X-IDENTITY-HEADER``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.identity.models import IdentityBackend


def token(identity: IdentityBackend, request: Request, match: re.Match[str]) -> Response:
    if request.headers.get("x-identity-header") != identity.header:
        raise ApiError(401, "Unauthorized", "The X-IDENTITY-HEADER header is missing or wrong.")
    resource = request.query.get("resource")
    if not resource or not request.query.get("api-version"):
        raise ApiError(400, "BadRequest", "Parameters 'resource' and 'api-version' are required.")
    issued, expires_on = identity.issue(resource)
    return Response(
        200, {"access_token": issued, "expires_on": str(expires_on), "resource": resource, "token_type": "Bearer"}
    )
