"""Key Vault's secrets data plane on ``{vault}.vault.azure.net``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localazure.services.base import Front, Service
from localazure.services.keyvault.models import KeyVaultBackend
from localazure.services.keyvault.urls import URLS
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

AUDIENCE = "https://vault.azure.net"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="{AUDIENCE}"'
# The version the product pins (README, "Azure API versions"): what the stand-in knows.
API_VERSIONS = frozenset({"7.5"})


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "Unauthorized", message, {"WWW-Authenticate": CHALLENGE})


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    version = request.query.get("api-version")
    if not version:
        raise ApiError(400, "BadParameter", "The 'api-version' query parameter is required.")
    if service is not None and service.api_versions and version not in service.api_versions:
        # The service's answer to a version it does not serve (Azure/azure-sdk-for-python#28595,
        # Azure/azure-sdk-for-net#14789: sovereign clouds answering newer SDK defaults).
        latest = max(service.api_versions)
        raise ApiError(
            400,
            "BadParameter",
            f"The specified version ({version}) is not recognized. Consider using the latest supported version "
            f"({latest}).",
        )
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        raise _unauthorized("AKV10000: Request is missing a Bearer or PoP token.")
    audience = cloud.identity.audience(authorization)
    if audience is None:
        raise _unauthorized("AKV10032: Invalid issuer or unknown token.")
    if audience != AUDIENCE:
        raise _unauthorized(f"AKV10022: Invalid audience. Expected {AUDIENCE}, found: {audience}.")


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    raise ApiError(404, "NotFound", "The requested operation is not supported.")


FRONT = Front("keyvault", "azure", lambda cloud, host: cloud.keyvault.vault_of(host) is not None, _check, _unknown)
SERVICE = Service("keyvault", FRONT, KeyVaultBackend, URLS, API_VERSIONS)
