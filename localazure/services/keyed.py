"""The stand-in for resources whose two keys are listed and regenerated on the resource itself.

Redis, Azure AI services, AI Search, Maps, Communication Services, Batch, Event Grid topics
and domains, SignalR and Web PubSub answer the same three operations (GET the resource, list
its keys, regenerate one); their packages state the differences in a :class:`KeyedApi`, with
the spec examples each one follows, and build their service with :func:`keyed_service`. A child
resource (an API Management subscription, a Machine Learning online endpoint) is a :class:`ChildResource`,
served by a :class:`ChildBackend` on its parent's URL.

A long-running regeneration (Event Grid topics, SignalR, Web PubSub: ``x-ms-long-running-operation``
in their specs, ``begin_regenerate_key`` in their SDKs) may answer 200 with the keys or 202
with a ``Location`` (the specs list both). Which one Azure picks is not documented, so both are
options (``answers_at_once``, where the spec lists a 200 at all); a 202's key changes
``operation_delay`` seconds later on the backend's clock (``advance`` moves it), whether or
not anyone polls.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from localazure.services import arm
from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, RG, ArmResource
from localazure.services.base import Service, Url, new_key, now_iso
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure


@dataclass
class KeyedResource(ArmResource):
    """A resource with a key pair; ``keys_off`` is the service's switch that refuses keys.

    ``generated`` dates each key on the stand-in's clock (ARM reports no such time for these
    services): what a data plane's key propagation counts from.
    """

    keys_off: bool = False
    generated: dict[str, str] = field(default_factory=dict)

    provider: ClassVar[str] = ""

    def regenerate(self, key_name: str) -> None:
        self.keys[key_name] = new_key()
        self.generated[key_name] = now_iso()


@dataclass(frozen=True)
class KeyedApi:
    resource: type[KeyedResource]
    key_names: tuple[str, str]  # as the regenerate request spells them
    list_action: str  # "listKeys", "listAdminKeys", ...
    regenerate_action: str  # "regenerateKey"; a path template may name the key: "regenerateAdminKey/(?P<key>[^/]+)"
    key_field: str | None  # the body field naming the key; None when the path names it
    get_body: Callable[[KeyedResource], dict[str, Any]]
    keys_body: Callable[[KeyedResource], dict[str, Any]]
    # What regenerate answers, when not the whole key list (Communication answers the regenerated half; API
    # Management subscriptions and Machine Learning endpoints, nothing: None), and with which status.
    regenerated_body: Callable[[KeyedResource, str], dict[str, Any] | None] | None = None
    regenerated_status: int = 200
    long_running: bool = False
    may_answer_200: bool = True  # a long-running regeneration whose spec lists 200 besides 202
    # A 202 that names its status URL in Azure-AsyncOperation too, where the spec's example shows it.
    async_operation: bool = False


@dataclass
class _Operation:
    resource: KeyedResource
    key: str
    completes_at: float
    done: bool = False


class KeyedBackend:
    api: ClassVar[KeyedApi]

    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.items: dict[str, KeyedResource] = {}
        self.operations: dict[str, _Operation] = {}
        self.answers_at_once = False  # a long-running regeneration answers 200 at once, or 202 (default)
        self.operation_delay = 0.2  # seconds a 202's regeneration runs on the backend's clock

    def advance(self, seconds: float) -> None:
        """The backend's clock runs ``seconds`` ahead: running operations end that much sooner."""
        with self.cloud.lock:
            for operation in self.operations.values():
                operation.completes_at -= seconds

    def settle(self) -> None:
        """Finish every operation whose time has come."""
        now = time.monotonic()
        for operation in self.operations.values():
            if not operation.done and operation.completes_at <= now:
                operation.resource.regenerate(operation.key)
                operation.done = True

    def create(
        self, name: str, *, subscription: str = DEFAULT_SUBSCRIPTION, resource_group: str = "rg-demo"
    ) -> KeyedResource:
        resource = self.api.resource(subscription, resource_group, name)
        # Undated: the keys a resource was created with work everywhere (no propagation to wait out).
        resource.keys = {key_name: new_key() for key_name in self.api.key_names}
        with self.cloud.lock:
            return self.cloud.arm.add(self.items, resource)

    def resources(self) -> list[KeyedResource]:
        return list(self.items.values())

    def find(self, match: re.Match[str]) -> KeyedResource:
        """The resource a URL names, or ARM's 404 for it."""
        return self.cloud.arm.find(self.items, match, self.api.resource.provider)


@dataclass
class ChildResource(KeyedResource):
    """A resource one level under a parent of type ``parent``, found under ``segment`` and named ``child`` (one per
    parent); ``name`` is the parent's, as the stand-in keys its resources by it."""

    parent: ClassVar[str]
    segment: ClassVar[str]
    child: ClassVar[str]

    @property
    def parent_id(self) -> str:
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
        return f"{group}/providers/{self.parent}/{self.name}"

    @property
    def id(self) -> str:
        return f"{self.parent_id}/{self.segment}/{self.child}"

    def body(self, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """The resource as ARM answers a GET: its id, its own name, its type, ``extra`` fields and ``properties``."""
        return {"id": self.id, "name": self.child, "type": self.provider, **extra, "properties": properties}

    @classmethod
    def path(cls) -> str:
        """The URL pattern that names one: its parent's, then its ``child`` group."""
        return RG + "/providers/" + re.escape(cls.parent) + r"/(?P<name>[^/]+)/" + cls.segment + r"/(?P<child>[^/]+)"


class ChildBackend(KeyedBackend):
    """The resources of a :class:`ChildResource` type, found by their parent's name and their own."""

    def find(self, match: re.Match[str]) -> KeyedResource:
        child = self.api.resource
        assert issubclass(child, ChildResource)
        resource = self.cloud.arm.find(self.items, match, child.parent)
        if match["child"].lower() != child.child.lower():
            raise self.cloud.arm.missing(match["sub"], match["rg"], child.provider, f"{match['name']}/{match['child']}")
        return resource


def primary_secondary(resource: KeyedResource) -> dict[str, Any]:
    """A key listing of the ``primaryKey``/``secondaryKey`` shape, from keys named ``Primary``/``Secondary``."""
    return {"primaryKey": resource.keys["Primary"], "secondaryKey": resource.keys["Secondary"]}


def _find(backend: KeyedBackend, match: re.Match[str]) -> KeyedResource:
    backend.settle()
    return backend.find(match)


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
    if api.long_running and not (backend.answers_at_once and api.may_answer_200):
        operation_id = secrets.token_hex(8)
        backend.operations[operation_id] = _Operation(resource, key, time.monotonic() + backend.operation_delay)
        # The operation's status URL sits under the provider's location, as ARM's async pattern has it.
        location = (
            f"https://management.azure.com/subscriptions/{resource.subscription}/providers/"
            f"{resource.provider.split('/')[0]}/locations/{resource.location}/operationResults/{operation_id}"
            f"?api-version={request.query.get('api-version', '')}"
        )
        headers = {"Location": location, "Retry-After": "10"}
        if api.async_operation:
            headers["Azure-AsyncOperation"] = location.replace("/operationResults/", "/operationsStatus/")
        return Response(202, None, headers=headers)
    resource.regenerate(key)
    body = api.regenerated_body(resource, key) if api.regenerated_body else api.keys_body(resource)
    return Response(api.regenerated_status, body)


def keyed_service(
    name: str,
    backend: type[KeyedBackend],
    api_versions: frozenset[str],
    *,
    path: str | None = None,
    reads: tuple[Url, ...] = (),
) -> Service:
    """The service's three operations on ``path`` (by default the resource's own, a top-level one),
    after ``reads`` of other resources it needs (a child's parent)."""
    api = backend.api
    path = path or RG + "/providers/" + re.escape(api.resource.provider) + r"/(?P<name>[^/]+)"
    urls = (
        *reads,
        Url(f"{name}.get", "GET", path, _get),
        Url(f"{name}.list_keys", "POST", f"{path}/{api.list_action}", _list_keys),
        # The action Microsoft's permission pages publish for it (Search's regenerateAdminKey/{keyKind}:
        # regenerateAdminKey/action), where ARM's naming of the URL would take the key's name for the action;
        # ARM's own naming where the action's segment names the key (API Management's regeneratePrimaryKey).
        Url(
            f"{name}.regenerate_key",
            "POST",
            f"{path}/{api.regenerate_action}",
            _regenerate,
            writes=True,
            action=f"{api.resource.provider}/{api.regenerate_action.split('/')[0]}/action"
            if "(" not in api.regenerate_action.split("/")[0]
            else None,
        ),
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


def rest_keys(resource: KeyedResource, host: str) -> dict[str, Any]:
    """SignalR's and Web PubSub's ``listKeys``: both keys and their connection strings."""
    connection = f"Endpoint=https://{host};AccessKey={{}};Version=1.0;"
    return {
        "primaryKey": resource.keys["Primary"],
        "secondaryKey": resource.keys["Secondary"],
        "primaryConnectionString": connection.format(resource.keys["Primary"]),
        "secondaryConnectionString": connection.format(resource.keys["Secondary"]),
    }
