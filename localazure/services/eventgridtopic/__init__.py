"""Event Grid custom topics (Microsoft.EventGrid/topics) behind ARM: their two access keys.

Spec Microsoft.EventGrid stable 2025-02-15: ``Topics_ListSharedAccessKeys.json`` (POST
``listKeys``, 200 ``{"key1", "key2"}``) and ``Topics_RegenerateKey.json`` (body
``{"keyName": "key1"}``; a long-running operation answering 200 with the keys or 202),
``disableLocalAuth`` and ``endpoint`` in the ``Topic`` schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class Topic(KeyedResource):
    provider: ClassVar[str] = "Microsoft.EventGrid/topics"


class EventGridTopicBackend(KeyedBackend):
    api = KeyedApi(
        Topic,
        ("key1", "key2"),
        "listKeys",
        "regenerateKey",
        "keyName",
        get_body=lambda topic: arm_body(
            topic,
            "Microsoft.EventGrid/topics",
            {
                "endpoint": f"https://{topic.name}.{topic.location}-1.eventgrid.azure.net/api/events",
                "disableLocalAuth": topic.keys_off,
            },
        ),
        keys_body=lambda topic: {"key1": topic.keys["key1"], "key2": topic.keys["key2"]},
        long_running=True,
    )


SERVICE = keyed_service("eventgridtopic", EventGridTopicBackend, frozenset({"2025-02-15"}))
