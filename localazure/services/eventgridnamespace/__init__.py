"""Event Grid namespaces (Microsoft.EventGrid/namespaces) behind ARM: their two access keys.

Spec Microsoft.EventGrid stable 2025-02-15: ``Namespaces_Get.json`` (``properties.provisioningState``,
``topicSpacesConfiguration``; the ``Namespace`` schema has no ``disableLocalAuth``),
``Namespaces_ListSharedAccessKeys.json`` (POST ``listKeys``, 200 ``{"key1", "key2"}``) and
``Namespaces_RegenerateKey.json`` (body ``{"keyName": "key1"}``; a long-running operation answering
200 with the keys, or 202 with ``Location`` and ``Azure-AsyncOperation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class EventGridNamespace(KeyedResource):
    provider: ClassVar[str] = "Microsoft.EventGrid/namespaces"


class EventGridNamespaceBackend(KeyedBackend):
    api = KeyedApi(
        EventGridNamespace,
        ("key1", "key2"),
        "listKeys",
        "regenerateKey",
        "keyName",
        get_body=lambda namespace: arm_body(
            namespace,
            "Microsoft.EventGrid/namespaces",
            {
                "topicSpacesConfiguration": {
                    "state": "Disabled",
                    # Namespaces_Get.json's form: <namespace>.<region>-1.mqtt.eventgrid.azure.net
                    "hostname": f"{namespace.name}.{namespace.location}-1.mqtt.eventgrid.azure.net",
                },
            },
        ),
        keys_body=lambda namespace: {"key1": namespace.keys["key1"], "key2": namespace.keys["key2"]},
        long_running=True,
        async_operation=True,
    )


SERVICE = keyed_service("eventgridnamespace", EventGridNamespaceBackend, frozenset({"2025-02-15"}))
