"""Azure Managed Redis (Microsoft.Cache/redisEnterprise clusters and their databases) behind ARM.

Shapes from the spec examples of ``Microsoft.Cache/RedisEnterprise/stable/2025-04-01``:
``RedisEnterpriseGet.json`` (the cluster's ``properties.hostName``),
``RedisEnterpriseDatabasesCreate.json`` (a database's ``port`` 10000 and ``accessKeysAuthentication``
``Enabled``; the spec has no database GET example at that version, its ``Databases_Get`` answers the
same ``Database``), ``RedisEnterpriseDatabasesListByCluster.json`` (``name`` ``cache1/default``,
``type`` ``Microsoft.Cache/redisEnterprise/databases``), ``RedisEnterpriseDatabasesListKeys.json``
(``primaryKey``, ``secondaryKey``) and ``RedisEnterpriseDatabasesRegenerateKey.json`` (body
``{"keyType": "Primary"}``; 200 with both keys, or 202 with ``Azure-AsyncOperation`` and ``Location``
under ``/providers/Microsoft.Cache/``: both are options, as for every long-running regeneration in
:mod:`localazure.services.keyed`; the status URL is ``OperationsStatusGet.json``'s
``locations/<region>/operationsStatus/<id>``). A cluster here has one database, ``default``, the
name every example uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from localazure.services.arm.models import RG
from localazure.services.base import Url
from localazure.services.keyed import KeyedApi, KeyedBackend, KeyedResource, arm_body, keyed_service
from localazure.wire import Request, Response

DATABASE = "default"


@dataclass
class Database(KeyedResource):
    """A cluster's database; ``name`` is the cluster's, as the stand-in keys its resources by it."""

    port: int = 10000
    # The cluster's SKU: the spec's SkuName lists Managed Redis's (its description's own example,
    # Balanced_B5) and Azure Cache for Redis Enterprise's (Enterprise_E10, EnterpriseFlash_F300).
    sku: str = "Balanced_B5"
    provider: ClassVar[str] = "Microsoft.Cache/redisEnterprise/databases"

    @property
    def id(self) -> str:
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
        return f"{group}/providers/Microsoft.Cache/redisEnterprise/{self.name}/databases/{DATABASE}"

    @property
    def cluster_id(self) -> str:
        return self.id.rpartition("/databases/")[0]

    @property
    def host_name(self) -> str:
        """The cluster's hostName, in the form of ``RedisEnterpriseGet.json``'s ``cache1.westus.something.azure.com``
        (the product writes whatever the cluster reports)."""
        return f"{self.name}.{self.location}.something.azure.com"


def _database_body(database: KeyedResource) -> dict[str, Any]:
    assert isinstance(database, Database)
    body = arm_body(
        database,
        "Microsoft.Cache/redisEnterprise/databases",
        {
            "resourceState": "Running",
            "clientProtocol": "Encrypted",
            "clusteringPolicy": "OSSCluster",
            "evictionPolicy": "AllKeysLRU",
            "port": database.port,
            "accessKeysAuthentication": "Disabled" if database.keys_off else "Enabled",
        },
    )
    del body["location"]  # a proxy resource: the examples' databases have none
    return {**body, "name": f"{database.name}/{DATABASE}"}


class RedisEnterpriseBackend(KeyedBackend):
    """Databases by their cluster's name (``create(name)`` makes the cluster and its ``default``)."""

    api = KeyedApi(
        Database,
        ("Primary", "Secondary"),
        "listKeys",
        "regenerateKey",
        "keyType",
        get_body=_database_body,
        keys_body=lambda database: {
            "primaryKey": database.keys["Primary"],
            "secondaryKey": database.keys["Secondary"],
        },
        long_running=True,
        async_operation=True,
    )

    def find(self, match: re.Match[str]) -> KeyedResource:
        database = self.cloud.arm.find(self.items, match, "Microsoft.Cache/redisEnterprise")
        if match.groupdict().get("database", DATABASE).lower() != DATABASE:
            raise self.cloud.arm.missing(
                match["sub"], match["rg"], Database.provider, f"{match['name']}/{match['database']}"
            )
        return database


def _get_cluster(backend: RedisEnterpriseBackend, request: Request, match: re.Match[str]) -> Response:
    database = backend.find(match)
    assert isinstance(database, Database)
    return Response(
        200,
        {
            "id": database.cluster_id,
            "name": database.name,
            "type": "Microsoft.Cache/redisEnterprise",
            "location": database.location,
            "kind": "v1",
            # A capacity only for Enterprise SKUs (the spec's Sku.capacity), 3 as RedisEnterpriseGet.json's.
            "sku": {"name": database.sku, **({"capacity": 3} if database.sku.startswith("Enterprise") else {})},
            "properties": {
                "hostName": database.host_name,
                "provisioningState": "Succeeded",
                "resourceState": "Running",
                "redisVersion": "6",
                "minimumTlsVersion": "1.2",
            },
        },
    )


_CLUSTER = RG + r"/providers/Microsoft\.Cache/redisEnterprise/(?P<name>[^/]+)"
SERVICE = keyed_service(
    "redisenterprise",
    RedisEnterpriseBackend,
    frozenset({"2025-04-01"}),
    path=_CLUSTER + r"/databases/(?P<database>[^/]+)",
    reads=(Url("redisenterprise.get_cluster", "GET", _CLUSTER, _get_cluster),),
)
