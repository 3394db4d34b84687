"""Azure AI Search services' admin keys (Microsoft.Search/searchServices) behind ARM.

Spec examples of Microsoft.Search stable 2025-05-01: ``SearchGetService.json``
(``disableLocalAuth``, ``authOptions``), ``SearchGetAdminKeys.json`` (POST ``listAdminKeys``,
200 ``{"primaryKey", "secondaryKey"}``) and ``SearchRegenerateAdminKey.json`` (POST
``regenerateAdminKey/{keyKind}`` with no body, ``keyKind`` ``primary``|``secondary``, 200 with both keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class SearchService(KeyedResource):
    provider: ClassVar[str] = "Microsoft.Search/searchServices"


class SearchBackend(KeyedBackend):
    api = KeyedApi(
        SearchService,
        ("primary", "secondary"),
        "listAdminKeys",
        "regenerateAdminKey/(?P<key>[^/]+)",
        None,
        get_body=lambda service: arm_body(
            service,
            "Microsoft.Search/searchServices",
            {"status": "running", "disableLocalAuth": service.keys_off, "replicaCount": 1, "partitionCount": 1},
            sku={"name": "standard"},
        ),
        keys_body=lambda service: {
            "primaryKey": service.keys["primary"],
            "secondaryKey": service.keys["secondary"],
        },
    )


SERVICE = keyed_service("search", SearchBackend, frozenset({"2025-05-01"}))
