"""ARM calls for kinds whose management SDK is not a dependency (Azure Managed Redis, Relay, Notification
Hubs, Container Registry): their paths at the kind's api-version, sent through azure-mgmt-core's pipeline
(:func:`~rotators.adapters.clients.arm_send`: the policies, bounds, retries and deadline of every
management client, each answer mapped to errors as the generated operations map them).
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
    """One ARM call (``url_path`` from :func:`path`) through :func:`~rotators.adapters.clients.arm_send`."""
    from azure.core.rest import HttpRequest

    request = HttpRequest(method, resource.cloud.arm_endpoint + url_path, json=body)
    return clients.arm_send(resource.cloud, request, accept=accept, **options)


def properties(answer: Any) -> dict[str, Any]:
    """An ARM resource's ``properties``, or nothing when the answer has none."""
    found = answer.get("properties") if isinstance(answer, dict) else None
    return found if isinstance(found, dict) else {}
