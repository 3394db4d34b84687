"""ARM calls for kinds whose management SDK is not a dependency (Azure Managed Redis, Relay, Notification
Hubs, Container Registry, and the SAS rules of :mod:`rotators.kinds.sasrules`): azure-mgmt-core's pipeline
(:func:`~rotators.adapters.clients.arm_client`: the policies, bounds, retries and deadline of every management
client) with ``send_request``, each answer mapped to errors as the generated operations map them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.core.parsing import ResourceId
from rotators.core.resources import Resource


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
    """One ARM call (``url_path`` from :func:`path`) through the client's pipeline; an answer outside
    ``accept`` raises as a generated operation's would (``map_error``, then ``HttpResponseError`` in ARM's
    error format)."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        map_error,
    )
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    url = resource.cloud.arm_endpoint + url_path
    request = HttpRequest(method, url, json=body)
    response = clients.arm_client(resource.cloud).send_request(request, **options)
    if response.status_code not in accept:
        errors = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
        map_error(status_code=response.status_code, response=response, error_map=errors)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response.json() if response.content else None


def properties(answer: Any) -> dict[str, Any]:
    """An ARM resource's ``properties``, or nothing when the answer has none."""
    found = answer.get("properties") if isinstance(answer, dict) else None
    return found if isinstance(found, dict) else {}
