"""Container registries' login servers (``<registry>.azurecr.io``, ``.azurecr.cn``, ``.azurecr.us``): what
testing a new admin password needs, authorized with the admin user's Basic credentials.

- ``GET /v2/``, the Docker registry API's version check: 200 ``{}`` to credentials the registry accepts
  ("basic authentication is accepted with access key credentials", Azure/acr#466; azure-cli's acr module sends
  the admin user's as Basic to ``/v2/``, ``_docker_utils.py`` ``request_data_from_registry``). Basic
  credentials it refuses: 401 with ``Www-Authenticate: Basic realm="Azure Container Registry"``, the answer
  the ACR team published to ``curl https://PAT:banana@<registry>.azurecr.io/v2/`` (Azure/acr#651).
  Without credentials: 401 with ``Www-Authenticate: Bearer realm="https://<login server>/oauth2/token",
  service="<login server>"`` (azure-cli's acr module reads that challenge from an unauthenticated ``/v2/``,
  ``_docker_utils.py`` ``_get_aad_token``; Azure/acr ``docs/Token-BasicAuth.md``).
- ``GET /oauth2/token?service=<login server>`` with Basic credentials: 200 ``{"access_token"}``, as Azure/acr
  ``docs/Token-BasicAuth.md`` shows it.
- The body of a 401: ``{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}``, the
  Docker registry API's error format (``distribution`` ``spec/api.md``, "Errors").

The admin user is the registry's name with either live password (``RegistryListCredentials.json``); a
disabled admin user is refused ("Changing or disabling this account disables registry access for all users
who use its credentials", "Authenticate with an Azure container registry").

Options where behaviour is not documented, the product correct under each (tests parametrized over them):
``refusal_challenge`` (``"basic"``: refused Basic credentials on ``/v2/`` get Azure/acr#651's Basic
challenge; ``"bearer"``: the Bearer challenge instead, the switch #651 puts on the ACR team's roadmap) and
``basic_on_v2`` (False: ``/v2/`` takes no Basic credentials and answers them with the Bearer challenge, only
the token endpoint takes them: "ACR doesn't support basic username/password authorization but 'token'
authorization", a 2019 comment in Azure/acr-docker-credential-helper#31, before #466 and #651), and those of
:class:`~localazure.services.base.DataPlane`; passwords are dated by ``KeyedResource.generated``. No source shows
ACR's token endpoint refusing Basic credentials: the stand-in answers 401 with the Bearer challenge and the
Docker registry API's ``UNAUTHORIZED`` body (what the product assumes, README *Verify before publish*). Any
other path answers a bare 404: the product requests none, and no source shows ACR's answer.
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

_HOST = re.compile(r"(?P<registry>[a-z0-9-]{5,50})\.azurecr\.(?:io|cn|us)", re.IGNORECASE)


class RegistryDataPlane(DataPlane):
    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__(cloud)
        self.basic_on_v2 = True
        self.refusal_challenge = "basic"


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    """Each route decides (the challenge is an answer, not an error)."""


def _accepted(backend: RegistryDataPlane, request: Request) -> bool:
    """Basic credentials of the registry's enabled admin user with a password that works yet."""
    match = _HOST.fullmatch(request.host)
    registries = backend.cloud.containerregistry.items.values()
    # Host names are case-insensitive (RFC 4343): myRegistry.azurecr.io is reached as myregistry.azurecr.io.
    registry = next((item for item in registries if match and item.name.lower() == match["registry"].lower()), None)
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # The username exactly as listCredentials answers it (RegistryListCredentials.json): no source shows ACR
    # taking another spelling.
    if registry is None or registry.keys_off or scheme != "Basic" or username != registry.name:
        return False
    live = backend.live_keys(registry.keys, registry.generated)
    return any(hmac.compare_digest(password.encode(), key.encode()) for key in live)


def _challenge(request: Request, *, basic: bool = False) -> Response:
    # Azure/acr#651: a refused Basic login on /v2/; else azure-cli's _get_aad_token and Token-BasicAuth.md.
    bearer = f'Bearer realm="https://{request.host}/oauth2/token",service="{request.host}"'
    return Response(
        401,
        {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]},
        headers={"Www-Authenticate": 'Basic realm="Azure Container Registry"' if basic else bearer},
    )


def version_check(backend: RegistryDataPlane, request: Request, match: re.Match[str]) -> Response:
    if not backend.basic_on_v2:
        return _challenge(request)
    if _accepted(backend, request):
        return Response(200, {})
    basic = request.headers.get("authorization", "").startswith("Basic ")
    return _challenge(request, basic=basic and backend.refusal_challenge == "basic")


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
    unknown=lambda cloud, request: Response(404, None),
)
