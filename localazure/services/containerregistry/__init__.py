"""Azure Container Registry (Microsoft.ContainerRegistry/registries) behind ARM: the admin user's passwords.

Spec examples of ``Microsoft.ContainerRegistry/Registry/stable/2023-07-01``: ``RegistryGet.json``
(``loginServer`` ``myRegistry.azurecr.io``, ``adminUserEnabled``, ``sku`` Standard),
``RegistryListCredentials.json`` (POST ``listCredentials``, 200 ``{"username": <the registry's name>,
"passwords": [{"name": "password", "value"}, {"name": "password2", "value"}]}``) and
``RegistryRegenerateCredential.json`` (POST ``regenerateCredential`` with ``{"name": "password"}``, 200 with
the same list; synchronous, ``ArmResourceActionSync`` in ``Registry/Registry.tsp``).

``keys_off`` is ``adminUserEnabled: false``. What ``listCredentials`` answers for a registry whose admin user
is disabled is not in the spec: the stand-in lists them anyway, and the tests check that the product never
asks. ``login_suffix`` is the login server's suffix: ``azurecr.io``, or ``azurecr.cn`` / ``azurecr.us`` in
Azure China and US Government (azure-cli ``azure/cli/core/cloud.py``, ``acr_login_server_endpoint``). The
stand-in's registries are named ``<service>-app`` as every keyed service's are, although a real registry's
name is alphanumeric (the spec's ``NamePattern``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class Registry(KeyedResource):
    login_suffix: str = "azurecr.io"

    provider: ClassVar[str] = "Microsoft.ContainerRegistry/registries"

    @property
    def login_server(self) -> str:
        return f"{self.name}.{self.login_suffix}"  # as RegistryGet.json spells it: myRegistry.azurecr.io


def _registry_body(registry: KeyedResource) -> dict[str, Any]:
    assert isinstance(registry, Registry)
    return arm_body(
        registry,
        Registry.provider,
        {
            "loginServer": registry.login_server,
            "creationDate": "2021-06-15T21:38:26.1537861Z",
            "adminUserEnabled": not registry.keys_off,
            "publicNetworkAccess": "Enabled",
            "zoneRedundancy": "Disabled",
        },
        sku={"name": "Standard", "tier": "Standard"},
    )


class ContainerRegistryBackend(KeyedBackend):
    api = KeyedApi(
        Registry,
        ("password", "password2"),
        "listCredentials",
        "regenerateCredential",
        "name",
        get_body=_registry_body,
        keys_body=lambda registry: {
            "username": registry.name,
            "passwords": [{"name": name, "value": registry.keys[name]} for name in ("password", "password2")],
        },
    )


SERVICE = keyed_service("containerregistry", ContainerRegistryBackend, frozenset({"2023-07-01"}))
