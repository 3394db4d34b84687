"""Azure Cache for Redis (Microsoft.Cache/redis) behind ARM.

Shapes from the spec examples of Microsoft.Cache stable 2024-11-01: ``RedisCacheGet.json``
(``hostName``, ``sslPort``; ``disableAccessKeyAuthentication`` is in the 2024-11-01 schema,
``RedisCommonProperties``, though not in that example), ``RedisCacheListKeys.json`` and
``RedisCacheRegenerateKey.json`` (body ``{"keyType": "Primary"}``, 200 with both keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service


@dataclass
class Cache(KeyedResource):
    provider: ClassVar[str] = "Microsoft.Cache/redis"


class RedisBackend(KeyedBackend):
    api = KeyedApi(
        Cache,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=lambda cache: arm_body(
            cache,
            "Microsoft.Cache/Redis",
            {
                "hostName": f"{cache.name}.redis.cache.windows.net",
                "port": 6379,
                "sslPort": 6380,
                "enableNonSslPort": False,
                "disableAccessKeyAuthentication": cache.keys_off,
            },
        ),
        keys_body=lambda cache: {"primaryKey": cache.keys["Primary"], "secondaryKey": cache.keys["Secondary"]},
    )


SERVICE = keyed_service("redis", RedisBackend, frozenset({"2024-11-01"}))
