"""Azure Container Registry admin user passwords (``Microsoft.ContainerRegistry/registries``).

Spec ``specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2023-07-01/
containerregistry.json``: ``Registries_ListCredentials`` answers ``{"username", "passwords": [{"name":
"password"|"password2", "value"}]}`` (example ``RegistryListCredentials.json``); ``Registries_RegenerateCredential``
takes ``{"name": "password"|"password2"}`` and answers 200 with the same list, the named password new
(``RegistryRegenerateCredential.json``; synchronous: ``ArmResourceActionSync`` in the TypeSpec source,
``Registry/Registry.tsp``). ``properties.adminUserEnabled`` false refuses the admin user (``RegistryGet.json``
shows it false, the default: "Each container registry includes an admin user account, which is disabled by
default", Microsoft's "Authenticate with an Azure container registry"). The same page: "The admin account is
provided with two passwords, both of which can be regenerated ... Two passwords allow you to maintain
connection to the registry by using one password while you regenerate the other", and regenerated passwords
"take 60 seconds to replicate": a geo-replicated registry's other replicas may refuse a password the nearest
one accepts for that long (README, *Container Registry*, states what is assumed). No connection string: apps
and ``docker login`` take the login server, the username (``listCredentials``' ``username``) and a password.

Repository-scoped tokens (``registries/tokens``) are not a kind yet: ``Registries_GenerateCredentials``
returns a token's new password only in the final result of a long-running operation ("The passwords can't be
retrieved again, but new ones can be generated", "Create a token with repository-scoped permissions"), which
the product never polls; a token kind would need to poll it inside the deadline and stage the password in a
secret as the Entra ID kind does (README, *Container Registry*).

A new password is tested as ``docker login`` uses it, on the login server ARM reports (``loginServer``,
``<registry>.azurecr.io``; ``azurecr.cn``, ``azurecr.us`` in Azure China and US Government):
``GET /v2/`` (the Docker registry API's version check) with Basic authentication, the way azure-cli's acr
module sends admin credentials to the registry's ``/v2/`` routes (``_docker_utils.py``,
``request_data_from_registry``; "basic authentication is accepted with access key credentials", Azure/acr#466).
A refused password is answered 401 ``Basic realm="Azure Container Registry"`` (Azure/acr#651). A 401 whose Bearer
challenge names the registry's own token endpoint
(``realm="https://<login server>/oauth2/token"``, Azure/acr ``docs/Token-BasicAuth.md``) is then answered as
that document does: ``GET <realm>?service=<the challenge's service>`` with the same Basic credentials, 200 for a
password the registry accepts, 401 for one it refuses. A firewall's 403 ("you don't have access to registry",
azure-cli ``_get_credentials``) says nothing about the password.

No new SDK: azure-mgmt-containerregistry is not a dependency; ARM is reached as in :mod:`rotators.kinds.armrest`,
the registry with azure-core's pipeline (:func:`~rotators.adapters.clients.data_plane_client`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from rotators.adapters import clients
from rotators.adapters.dataplane import testing_key
from rotators.core.errors import DataPlaneUnreachable, UpstreamError
from rotators.core.keys import Description
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds import armrest
from rotators.kinds.accountkeys import ONCE
from rotators.kinds.base import Role, arm_call

API_VERSION = "2023-07-01"  # GA since 2023, with adminUserEnabled, listCredentials and regenerateCredential
LOGIN_SERVER, USERNAME = "loginServer", "username"  # what describe reads for the key test
_NAMES = ("password", "password2")


class ContainerRegistryKind:
    """A registry's admin user: two passwords, listed and regenerated on the registry."""

    resource_type = "Microsoft.ContainerRegistry/registries"
    display_name = "Container Registry"
    credentials: Mapping[str, Credential] = pair(*_NAMES)
    passwordless = (
        "Microsoft Entra ID: give the app a managed identity with the 'AcrPull' role on the registry "
        "('AcrPush' to push images too), and disable the admin user"
    )
    role = Role(
        "Container Registry Admin Password Rotator",
        (
            "Microsoft.ContainerRegistry/registries/read",
            "Microsoft.ContainerRegistry/registries/listCredentials/action",
            "Microsoft.ContainerRegistry/registries/regenerateCredential/action",
        ),
    )
    has_connection_string = False

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            registry = armrest.send(resource, "GET", armrest.path(resource.arm, API_VERSION))
        properties = armrest.properties(registry)
        disabled = None if properties.get("adminUserEnabled") is True else "adminUserEnabled is false"
        login_server = properties.get("loginServer")
        # The admin user's name: GET's name, which listCredentials' username equals (both "myRegistry" in
        # RegistryGet.json and RegistryListCredentials.json); read here, so the passwords are listed only to rotate.
        name = registry.get("name") if isinstance(registry, dict) else None
        endpoints = {LOGIN_SERVER: str(login_server or ""), USERNAME: str(name or resource.name)}
        return Description({}, disabled, {key: value for key, value in endpoints.items() if value})

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List the admin passwords of"):
            listed = armrest.send(resource, "POST", armrest.path(resource.arm, API_VERSION, "listCredentials"))
        return _passwords(listed)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        with arm_call(self, resource, f"Regenerate {key} of"):
            url_path = armrest.path(resource.arm, API_VERSION, "regenerateCredential")
            answer = armrest.send(resource, "POST", url_path, {"name": key}, **ONCE)
        return _passwords(answer)

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        raise ValueError("A Container Registry has no connection string.")  # read_contract refuses it first

    def key_in_connection_string(self, value: str) -> str | None:
        return None

    def verify_key(self, resource: Resource, key: str, value: str, described: Description) -> str | None:
        """``GET /v2/`` with the admin user and the new password; on a Bearer challenge from the registry
        itself, its token endpoint with the same credentials. A client per test: it holds the password."""
        from azure.core.credentials import AzureKeyCredential
        from azure.core.exceptions import HttpResponseError
        from azure.core.pipeline.policies import AzureKeyCredentialPolicy
        from azure.core.rest import HttpRequest

        what = f"Test the new {key} of {resource.name}"
        server = described.endpoints.get(LOGIN_SERVER)
        if not server:
            raise DataPlaneUnreachable(f"{what}: the registry reports no loginServer")
        username = described.endpoints.get(USERNAME, resource.name)
        basic = base64.b64encode(f"{username}:{value}".encode()).decode()
        policy = AzureKeyCredentialPolicy(AzureKeyCredential(basic), "Authorization", prefix="Basic")
        with clients.data_plane_client(f"https://{server}", policy) as client, testing_key(what):
            answer = client.send_request(HttpRequest("GET", f"https://{server}/v2/"))
            url = token_request(answer.status_code, answer.headers.get("WWW-Authenticate", ""), server)
            if url is not None:
                answer = client.send_request(HttpRequest("GET", url))
            if answer.status_code != 200:  # a redirect, not followed, proves nothing either
                raise HttpResponseError(response=answer)
        return None


def token_request(status: int, challenge: str, server: str) -> str | None:
    """The token request a 401's Bearer challenge asks for, if its realm is the registry's own
    (``https://<server>/...``): the password is never sent to another host. ``None`` for any other answer or
    challenge. The challenge's ``service`` is sent back as given, added to any query the realm has, as Docker's
    token authentication does (Azure/acr ``docs/Token-BasicAuth.md``)."""
    scheme, _, parameters = challenge.strip().partition(" ")
    if status != 401 or scheme.lower() != "bearer":
        return None
    fields = {
        name.strip().lower(): value.strip().strip('"')
        for name, _, value in (part.partition("=") for part in parameters.split(","))
    }
    realm = fields.get("realm", "")
    parts = urlsplit(realm)
    if parts.scheme != "https" or (parts.hostname or "") != server.lower() or parts.port not in (None, 443):
        return None
    service = urlencode({"service": fields["service"]}) if fields.get("service") else ""
    return f"{realm}{'&' if parts.query else '?'}{service}" if service else realm


def _passwords(answer: Any) -> dict[str, str]:
    listed = answer.get("passwords") if isinstance(answer, dict) else None
    values = {
        str(entry.get("name")): entry.get("value")
        for entry in (listed if isinstance(listed, list) else [])
        if isinstance(entry, dict)
    }
    missing = [name for name in _NAMES if not values.get(name)]
    if missing:
        raise UpstreamError(f"The Container Registry's admin credentials lack {', '.join(missing)}.")
    return {name: str(values[name]) for name in _NAMES}


KIND = ContainerRegistryKind()
