"""ARM calls of the kinds whose management SDK is not a dependency (Azure Managed Redis, API Management
subscriptions, Azure Machine Learning online endpoints): raw requests through azure-mgmt-core's ARM pipeline
(:func:`~rotators.adapters.clients.arm_client`: the policies, bounds, retries and deadline of every
management client) with ``send_request``, each answer mapped to errors as the generated operations map them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description
from rotators.core.resources import Resource
from rotators.kinds.accountkeys import ONCE


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


class KeyAlone:
    """What a kind whose apps send the key alone says of connection strings: it has none."""

    display_name: str
    has_connection_string = False

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        raise ValueError(f"An {self.display_name} has no connection string.")  # read_contract refuses it first

    def key_in_connection_string(self, value: str) -> str | None:
        return None
