"""ARM calls of the kinds whose management SDK is not a dependency (Azure Managed Redis, API Management
subscriptions, Azure Machine Learning online endpoints): raw requests through azure-mgmt-core's ARM pipeline
(:func:`~rotators.adapters.clients.arm_client`: the policies, bounds, retries and deadline of every
management client) with ``send_request``, each answer mapped to errors as the generated operations map them.
A kind whose keys need nothing but these calls states only its names (:class:`RestKeyApi`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.core.errors import RotationError, UpstreamError
from rotators.core.keys import Description
from rotators.core.resources import Credential, Resource
from rotators.kinds.accountkeys import ONCE
from rotators.kinds.base import Role, arm_call


@dataclass(frozen=True)
class ArmApi:
    """A provider's ARM operations at one pinned ``api_version``, on a kind's resource (or its parent)."""

    api_version: str

    def get(self, resource: Resource, *, levels: int | None = None) -> Any:
        """The resource (or its ancestor ``levels`` types deep: 1, the top-level parent) as ARM answers a GET."""
        return self._send(resource, self._request(resource, "GET", _path(resource, levels)), (200,))

    def post(self, resource: Resource, action: str) -> Any:
        """An action on the resource that changes nothing (a key listing), retried by the pipeline as every call is."""
        return self._send(resource, self._request(resource, "POST", f"{_path(resource, None)}/{action}"), (200,))

    def post_once(
        self, resource: Resource, action: str, body: Mapping[str, str] | None = None, *, accept: tuple[int, ...]
    ) -> Any:
        """An action that changes a key: sent once (``ONCE``), never re-sent by the pipeline."""
        request = self._request(resource, "POST", f"{_path(resource, None)}/{action}", body)
        return self._send(resource, request, accept, **ONCE)

    def _request(self, resource: Resource, method: str, url_path: str, body: Mapping[str, str] | None = None) -> Any:
        from azure.core.rest import HttpRequest

        url = resource.cloud.arm_endpoint + url_path
        return HttpRequest(method, url, params={"api-version": self.api_version}, json=body)

    def _send(self, resource: Resource, request: Any, accept: tuple[int, ...], **options: Any) -> Any:
        """One ARM call through the client's pipeline; an answer outside ``accept`` raises as a generated
        operation's would (``map_error``, then ``HttpResponseError`` in ARM's error format)."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
            map_error,
        )
        from azure.mgmt.core.exceptions import ARMErrorFormat

        response = clients.arm_client(resource.cloud).send_request(request, **options)
        if response.status_code not in accept:
            errors = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
            map_error(status_code=response.status_code, response=response, error_map=errors)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response.json() if response.content else None


def _path(resource: Resource, levels: int | None) -> str:
    """The resource's ID (or its ancestor's), percent-encoded as the SDKs send names."""
    parsed = resource.arm
    if levels is not None:
        parsed = replace(parsed, types=parsed.types[:levels], names=parsed.names[:levels])
    return quote(str(parsed))


def properties(answer: Any) -> dict[str, Any]:
    """An ARM resource's ``properties``, empty when the answer has none."""
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
    """What differs between the kinds read, listed and regenerated through :class:`ArmApi` alone: the listing
    action and the fields of its answer by key name, what in the resource's ``properties`` refuses keys,
    the action and body that regenerate a key and the statuses that accept it, and whether it is long-running
    (its answer never lists the keys: the rotation watches them) or not (the keys are listed at once)."""

    arm: ArmApi
    list_action: str
    fields: Mapping[str, str]
    keys_off: Callable[[Mapping[str, Any]], str | None]
    regenerate: Callable[[str], tuple[str, Mapping[str, str] | None]]
    accept: tuple[int, ...]
    long_running: bool


@dataclass(frozen=True, eq=False)
class RestKeyKind:
    """A resource with two keys on itself, reached through :class:`ArmApi`, whose apps send the key alone
    (no connection string)."""

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
            read = properties(self.api.arm.get(resource))
        return Description({}, self.api.keys_off(read))

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = self.api.arm.post(resource, self.api.list_action)
        return listed_keys(keys, self.api.fields, f"The {self.display_name}'s key list")

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        """Sent once. A long-running regeneration is never followed; another one's keys are listed at once, and
        a failed listing is not a refused regeneration (Azure changed the key): ``None`` then, and the rotation
        reads the keys itself."""
        action, body = self.api.regenerate(key)
        with arm_call(self, resource, f"Regenerate {key} of"):
            self.api.arm.post_once(resource, action, body, accept=self.api.accept)
        if not self.api.long_running:
            with contextlib.suppress(RotationError):
                return self.list_keys(resource)
        return None

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        raise ValueError(f"An {self.display_name} has no connection string.")  # read_contract refuses it first

    def key_in_connection_string(self, value: str) -> str | None:
        return None
