"""ARM calls for kinds whose management SDK is not a dependency (Azure Managed Redis, Container Registry).

They go through azure-mgmt-core's ARM pipeline (:func:`~rotators.adapters.clients.arm_client`: the
policies, bounds, retries and deadline of every management client) with ``send_request``, each answer
mapped to errors as a generated operation maps it, so :func:`~rotators.kinds.base.arm_call` reads them
as it reads an SDK's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from rotators.adapters import clients
from rotators.core.parsing import ResourceId
from rotators.core.resources import Resource


def path(resource_id: ResourceId) -> str:
    """A resource's ID, percent-encoded as the SDKs send names."""
    return quote(str(resource_id))


@dataclass(frozen=True)
class ArmRest:
    """A kind's calls at its pinned api-version."""

    api_version: str

    def send(
        self,
        resource: Resource,
        method: str,
        resource_path: str,
        body: Mapping[str, str] | None = None,
        *,
        accept: tuple[int, ...] = (200,),
        **options: Any,
    ) -> Any:
        """One ARM call through the client's pipeline; an answer outside ``accept`` raises as a generated
        operation's would (``map_error``, then ``HttpResponseError`` in ARM's error format)."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
            map_error,
        )
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        url = resource.cloud.arm_endpoint + resource_path
        request = HttpRequest(method, url, params={"api-version": self.api_version}, json=body)
        response = clients.arm_client(resource.cloud).send_request(request, **options)
        if response.status_code not in accept:
            errors = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
            map_error(status_code=response.status_code, response=response, error_map=errors)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response.json() if response.content else None


def properties(answer: Any) -> dict[str, Any]:
    """An ARM resource's ``properties`` as answered (empty when it has none)."""
    found = answer.get("properties") if isinstance(answer, dict) else None
    return found if isinstance(found, dict) else {}
