"""Event Grid domains (Microsoft.EventGrid/domains) behind ARM: their two access keys.

Spec Microsoft.EventGrid stable 2025-02-15: ``Domains_Get.json`` (``properties.endpoint``;
``disableLocalAuth`` in the schema), and the domain operations ``Domains_ListSharedAccessKeys``
(POST ``listKeys``, 200 ``DomainSharedAccessKeys`` ``{"key1", "key2"}``) and
``Domains_RegenerateKey`` (POST ``regenerateKey`` with ``{"keyName": "key1"}``, synchronous 200
with both keys; the SDK's ``domains.regenerate_key`` accepts only 200).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class Domain(KeyedResource):
    provider: ClassVar[str] = "Microsoft.EventGrid/domains"


class EventGridDomainBackend(KeyedBackend):
    api = KeyedApi(
        Domain,
        ("key1", "key2"),
        "listKeys",
        "regenerateKey",
        "keyName",
        get_body=lambda domain: arm_body(
            domain,
            "Microsoft.EventGrid/domains",
            {
                "endpoint": f"https://{domain.name}.{domain.location}-1.eventgrid.azure.net/api/events",
                "disableLocalAuth": domain.keys_off,
            },
        ),
        keys_body=lambda domain: {"key1": domain.keys["key1"], "key2": domain.keys["key2"]},
    )


SERVICE = keyed_service("eventgriddomain", EventGridDomainBackend, frozenset({"2025-02-15"}))
