"""ARM calls for kinds whose management SDK is not a dependency (Azure Managed Redis, Relay and Notification
Hubs rules (:class:`~rotators.kinds.sasrules.RestSasRuleKind`), Container Registry, Machine Learning online
endpoints, API Management subscriptions): their paths at the kind's api-version, sent through azure-mgmt-core's
pipeline (:func:`~rotators.adapters.clients.arm_send`: the policies, bounds, retries and deadline of every
management client, each answer mapped to errors as the generated operations map them). A kind whose two keys
need nothing but these calls states only its names (:class:`RestKeyApi`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.core.errors import RotationError, UpstreamError
from rotators.core.keys import Description
from rotators.core.parsing import ResourceId
from rotators.core.resources import Credential, Resource
from rotators.kinds.accountkeys import ONCE
from rotators.kinds.base import Role, arm_call


def path(resource_id: ResourceId, api_version: str, action: str = "") -> str:
    """A resource's ID (then ``/action``, if any), percent-encoded as the SDKs send names, at ``api_version``."""
    return quote(str(resource_id) + (f"/{action}" if action else "")) + f"?api-version={api_version}"


def send(
    resource: Resource,
    method: str,
    url_path: str,
    body: Mapping[str, str] | None = None,
    *,
    accept: tuple[int, ...] = (200,),
    **options: Any,
) -> Any:
    """One ARM call (``url_path`` from :func:`path`) through :func:`~rotators.adapters.clients.arm_send`."""
    from azure.core.rest import HttpRequest

    request = HttpRequest(method, resource.cloud.arm_endpoint + url_path, json=body)
    return clients.arm_send(resource.cloud, request, accept=accept, **options)


def properties(answer: Any) -> dict[str, Any]:
    """An ARM resource's ``properties``, or nothing when the answer has none."""
    found = answer.get("properties") if isinstance(answer, dict) else None
    return found if isinstance(found, dict) else {}


def listed_keys(answer: Any, fields: Mapping[str, str], listing: str) -> dict[str, str]:
    """The keys by the service's key names, from an answer holding them under ``fields``; ``listing`` names
    the answer in the error a missing key raises."""
    listed = answer if isinstance(answer, dict) else {}
    values = {name: listed.get(field) for name, field in fields.items()}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise UpstreamError(f"{listing} lacks {', '.join(missing)}.")
    return {name: str(value) for name, value in values.items()}


@dataclass(frozen=True)
class RestKeyApi:
    """What differs between the kinds whose two keys live on the resource and are reached with :func:`send`
    alone: the pinned api-version, the listing action and the fields of its answer by key name, what in the
    resource's ``properties`` refuses keys, the action and body that regenerate a key and the statuses that
    accept it, and whether it is long-running (its answer never lists the keys: the rotation watches them) or
    not (the keys are listed at once)."""

    api_version: str
    list_action: str
    fields: Mapping[str, str]
    keys_off: Callable[[Mapping[str, Any]], str | None]
    regenerate: Callable[[str], tuple[str, Mapping[str, str] | None]]
    accept: tuple[int, ...]
    long_running: bool


@dataclass(frozen=True, eq=False)
class RestKeyKind:
    """A resource with two keys on itself, reached with :func:`send`, whose apps send the key alone (no
    connection string)."""

    resource_type: str
    display_name: str
    credentials: Mapping[str, Credential]
    api: RestKeyApi
    _: KW_ONLY
    passwordless: str
    role: Role
    has_connection_string = False

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            read = properties(send(resource, "GET", path(resource.arm, self.api.api_version)))
        return Description({}, self.api.keys_off(read))

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = send(resource, "POST", path(resource.arm, self.api.api_version, self.api.list_action))
        return listed_keys(keys, self.api.fields, f"The {self.display_name}'s key list")

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        """Sent once (``ONCE``). A long-running regeneration is never followed; another one's keys are listed at
        once, and a failed listing is not a refused regeneration (Azure changed the key): ``None`` then, and the
        rotation reads the keys itself."""
        action, body = self.api.regenerate(key)
        with arm_call(self, resource, f"Regenerate {key} of"):
            url_path = path(resource.arm, self.api.api_version, action)
            send(resource, "POST", url_path, body, accept=self.api.accept, **ONCE)
        if not self.api.long_running:
            with contextlib.suppress(RotationError):
                return self.list_keys(resource)
        return None

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        raise ValueError(f"An {self.display_name} has no connection string.")  # read_contract refuses it first

    def key_in_connection_string(self, value: str) -> str | None:
        return None
