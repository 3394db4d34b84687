"""Azure Machine Learning online endpoints (Microsoft.MachineLearningServices/workspaces/onlineEndpoints) behind ARM.

Shapes from the spec examples of ``Microsoft.MachineLearningServices/stable/2024-10-01``:
``Workspace/OnlineEndpoint/get.json`` (``properties.authMode``, ``scoringUri``, ``swaggerUri``,
``provisioningState``, ``traffic``; a tracked resource with ``location``, ``kind``, ``identity``, ``sku``) and
``Workspace/OnlineEndpoint/regenerateKeys.json`` (body ``{"keyType": "Primary", "keyValue": …}``; 200 with no
body, or 202 with ``Azure-AsyncOperation`` and ``Location``: both are options, as for every long-running
regeneration in :mod:`localazure.services.keyed`). ``OnlineEndpoints_ListKeys`` answers ``EndpointAuthKeys``
(``primaryKey``, ``secondaryKey``: the spec's definition; its example file is not in the 2024-10-01 folder).
``keyValue`` sets a key instead of generating one; the product never sends it, and the stand-in ignores it.
A workspace here has one endpoint, ``scoring``, in ``Key`` mode (``keys_off``: ``AMLToken``, as in get.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from localazure.services.keyed import (
    ChildBackend,
    ChildResource,
    KeyedApi,
    KeyedResource,
    keyed_service,
    primary_secondary,
)


@dataclass
class OnlineEndpoint(ChildResource):
    """A workspace's online endpoint."""

    auth_mode: str = "Key"  # the spec's EndpointAuthMode: Key, AMLToken, AADToken
    provider: ClassVar[str] = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    parent: ClassVar[str] = "Microsoft.MachineLearningServices/workspaces"
    segment: ClassVar[str] = "onlineEndpoints"
    child: ClassVar[str] = "scoring"


def _endpoint_body(endpoint: KeyedResource) -> dict[str, Any]:
    assert isinstance(endpoint, OnlineEndpoint)
    example = "https://www.contoso.com/example"  # get.json's scoringUri and swaggerUri
    return endpoint.body(
        {
            "description": "string",
            "scoringUri": example,
            "swaggerUri": example,
            "authMode": "AMLToken" if endpoint.keys_off else endpoint.auth_mode,
            "provisioningState": "Succeeded",
            "traffic": {"blue": 100},
        },
        location=endpoint.location,
        kind="Managed",
        tags={},
    )


class MachineLearningBackend(ChildBackend):
    """Online endpoints by their workspace's name (``create(name)`` makes the workspace and its endpoint)."""

    api = KeyedApi(
        OnlineEndpoint,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKeys",
        "keyType",
        get_body=_endpoint_body,
        keys_body=primary_secondary,
        regenerated_body=lambda endpoint, key: None,
        long_running=True,
        async_operation=True,
    )


SERVICE = keyed_service("mlendpoints", MachineLearningBackend, frozenset({"2024-10-01"}), path=OnlineEndpoint.path())
