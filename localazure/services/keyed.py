"""The stand-in for resources whose two keys are listed and regenerated on the resource itself.

Redis, Azure AI services, AI Search, Maps, Communication Services, Batch and Event Grid
domains answer the same three operations (GET the resource, list its keys, regenerate one,
all synchronous 200s); their packages state the differences in a :class:`KeyedApi`, with
the spec examples each one follows, and build their service with :func:`keyed_service`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from localazure.services import arm
from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, RG, ArmResource
from localazure.services.base import Service, Url, new_key
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure


@dataclass
class KeyedResource(ArmResource):
    """A resource with a key pair; ``keys_off`` is the service's switch that refuses keys."""

    keys_off: bool = False

    provider: ClassVar[str] = ""


@dataclass(frozen=True)
class KeyedApi:
    resource: type[KeyedResource]
    key_names: tuple[str, str]  # as the regenerate request spells them
    list_action: str  # "listKeys", "listAdminKeys", ...
    regenerate_action: str  # "regenerateKey"; a path template may name the key: "regenerateAdminKey/(?P<key>[^/]+)"
    key_field: str | None  # the body field naming the key; None when the path names it
    get_body: Callable[[KeyedResource], dict[str, Any]]
    keys_body: Callable[[KeyedResource], dict[str, Any]]
    # What regenerate answers, when not the whole key list (Communication answers the regenerated half).
    regenerated_body: Callable[[KeyedResource, str], dict[str, Any]] | None = None


class KeyedBackend:
    api: ClassVar[KeyedApi]

    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.items: dict[str, KeyedResource] = {}

    def create(
        self, name: str, *, subscription: str = DEFAULT_SUBSCRIPTION, resource_group: str = "rg-demo"
    ) -> KeyedResource:
        resource = self.api.resource(subscription, resource_group, name)
        resource.keys = {key_name: new_key() for key_name in self.api.key_names}
        with self.cloud.lock:
            return self.cloud.arm.add(self.items, resource)

    def resources(self) -> list[KeyedResource]:
        return list(self.items.values())


def _find(backend: KeyedBackend, match: re.Match[str]) -> KeyedResource:
    return backend.cloud.arm.find(backend.items, match, backend.api.resource.provider)


def _get(backend: KeyedBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, backend.api.get_body(_find(backend, match)))


def _list_keys(backend: KeyedBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, backend.api.keys_body(_find(backend, match)))


def _regenerate(backend: KeyedBackend, request: Request, match: re.Match[str]) -> Response:
    api = backend.api
    resource = _find(backend, match)
    field = api.key_field
    key = match["key"] if field is None else (request.json() or {}).get(field)
    if key not in api.key_names:
        # ARM's common ErrorResponse; the spec examples show only the 200.
        raise ApiError(400, "InvalidRequestContent", f"The value '{key}' is not valid for {field or 'the key kind'}.")
    resource.keys[key] = new_key()
    body = api.regenerated_body(resource, key) if api.regenerated_body else api.keys_body(resource)
    return Response(200, body)


def keyed_service(name: str, backend: type[KeyedBackend], api_versions: frozenset[str]) -> Service:
    api = backend.api
    path = RG + "/providers/" + re.escape(api.resource.provider) + r"/(?P<name>[^/]+)"
    urls = (
        Url(f"{name}.get", "GET", path, _get),
        Url(f"{name}.list_keys", "POST", f"{path}/{api.list_action}", _list_keys),
        Url(f"{name}.regenerate_key", "POST", f"{path}/{api.regenerate_action}", _regenerate, writes=True),
    )
    return Service(name, arm.FRONT, backend, urls, api_versions)


def arm_body(resource: KeyedResource, type_name: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A resource as ARM answers a GET: its id, name, type as the service spells it, region and properties."""
    return {
        "id": resource.id,
        "name": resource.name,
        "type": type_name,
        "location": resource.location,
        **extra,
        "properties": {"provisioningState": "Succeeded", **properties},
    }
