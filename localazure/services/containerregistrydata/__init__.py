"""Container registries' login servers (``<registry>.azurecr.io``, ``.azurecr.cn``, ``.azurecr.us``): what
testing a new admin password needs, authorized with the admin user's Basic credentials.

- ``GET /v2/``, the Docker registry API's version check: 200 ``{}`` to credentials the registry accepts.
- ``GET /oauth2/token?service=<login server>`` with Basic credentials: 200 ``{"access_token"}``, as Azure/acr
  ``docs/Token-BasicAuth.md`` shows it.
- Credentials refused: 401 ``{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}``
  with ``Www-Authenticate: Bearer realm="https://<login server>/oauth2/token",service="<login server>"``
  (the same document's unauthenticated answer).

The admin user is the registry's name with either live password (``RegistryListCredentials.json``); a
disabled admin user is refused ("Changing or disabling this account disables registry access for all users
who use its credentials", "Authenticate with an Azure container registry").

Options where behaviour is not documented: ``basic_on_v2`` (True: ``/v2/`` takes Basic credentials itself,
as azure-cli's acr module sends the admin user's there; False: it answers the Bearer challenge to them,
and only the token endpoint takes them), and those of :class:`~localazure.services.base.DataPlane`;
passwords are dated by ``KeyedResource.generated``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from localazure.services.base import DataPlane, Service, Url, data_plane_service
from localazure.wire import Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<registry>[a-z0-9-]{5,50})\.azurecr\.(?:io|cn|us)")


class RegistryDataPlane(DataPlane):
    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__(cloud)
        self.basic_on_v2 = True


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    """Each route decides (the challenge is an answer, not an error)."""


def _accepted(backend: RegistryDataPlane, request: Request) -> bool:
    """Basic credentials of the registry's enabled admin user with a password that works yet."""
    match = _HOST.fullmatch(request.host)
    registry = backend.cloud.containerregistry.items.get(match["registry"]) if match else None
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    if registry is None or registry.keys_off or scheme != "Basic" or username.lower() != registry.name.lower():
        return False
    live = backend.live_keys(registry.keys, registry.generated)
    return any(hmac.compare_digest(password.encode(), key.encode()) for key in live)


def _challenge(request: Request) -> Response:
    return Response(
        401,
        {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]},
        headers={
            "Www-Authenticate": f'Bearer realm="https://{request.host}/oauth2/token",service="{request.host}"',
        },
    )


def version_check(backend: RegistryDataPlane, request: Request, match: re.Match[str]) -> Response:
    if backend.basic_on_v2 and _accepted(backend, request):
        return Response(200, {})
    return _challenge(request)


def token(backend: RegistryDataPlane, request: Request, match: re.Match[str]) -> Response:
    if request.query.get("service") == request.host and _accepted(backend, request):
        return Response(200, {"access_token": secrets.token_urlsafe(32)})
    return _challenge(request)


SERVICE = data_plane_service(
    "containerregistrydata",
    _HOST,
    RegistryDataPlane,
    _check,
    (
        Url("containerregistrydata.version_check", "GET", r"/v2/", version_check),
        Url("containerregistrydata.token", "GET", r"/oauth2/token", token),
    ),
    unknown=lambda cloud, request: Response(
        404, {"errors": [{"code": "NOT_FOUND", "message": "not found", "detail": None}]}
    ),
)
