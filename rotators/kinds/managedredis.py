"""Azure Managed Redis database access keys (``Microsoft.Cache/redisEnterprise/databases``).

Spec ``specification/redisenterprise/resource-manager/Microsoft.Cache/RedisEnterprise/stable/2025-04-01/
redisenterprise.json``: ``Databases_ListKeys`` answers ``AccessKeys`` (``primaryKey``, ``secondaryKey``:
example ``RedisEnterpriseDatabasesListKeys.json``); ``Databases_RegenerateKey`` takes ``{"keyType":
"Primary"|"Secondary"}`` (``AccessKeyType``, not ``modelAsString``) and is long-running
(``final-state-via: azure-async-operation``), answering 200 with both keys or 202 with
``Azure-AsyncOperation`` and ``Location`` (example ``RedisEnterpriseDatabasesRegenerateKey.json``), so
it is started once and never followed: the rotation watches the keys, as for Cosmos DB. The
database's ``properties.accessKeysAuthentication`` (``Enabled``/``Disabled``, first in a stable
version at 2025-04-01) refuses keys; its ``properties.port`` (10000 in every example) and the
cluster's ``properties.hostName`` (``RedisEnterpriseGet.json``) make the connection string:
StackExchange.Redis's, as for Azure Cache for Redis,
``<cluster hostName>:<database port>,password=<key>,ssl=True,abortConnect=False`` (TLS: the examples'
``clientProtocol`` is ``Encrypted``; ``abortConnect=False`` as Microsoft's "Azure Managed Redis
development FAQ" advises, AbortOnConnectFail false).

No new SDK: azure-mgmt-redisenterprise is not a dependency, so the calls go through azure-mgmt-core's
ARM pipeline (:mod:`rotators.kinds.armrest`). No key test: a Redis AUTH needs a RESP client (README,
*Verify before publish*).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, key_in_connection_string
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds import armrest
from rotators.kinds.accountkeys import ONCE
from rotators.kinds.base import Role, arm_call

API_VERSION = "2025-04-01"  # GA, the first stable version that reports accessKeysAuthentication
HOST, PORT = "hostName", "port"  # the endpoints the connection string is written around
DEFAULT_PORT = 10000  # the port of every database in the spec examples, for a database reporting none
_FIELDS = {"Primary": "primaryKey", "Secondary": "secondaryKey"}


@dataclass(frozen=True, eq=False)
class ManagedRedisKind:
    """A database of an Azure Managed Redis cluster: read with its cluster, keys listed and regenerated on it."""

    resource_type = "Microsoft.Cache/redisEnterprise/databases"
    display_name = "Azure Managed Redis database"
    credentials: Mapping[str, Credential]
    passwordless: str
    role: Role
    has_connection_string = True

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            database = armrest.properties(armrest.send(resource, "GET", _path(resource)))
            cluster_answer = armrest.send(resource, "GET", _path(resource, cluster=True))
        cluster = armrest.properties(cluster_answer)
        switch = str(database.get("accessKeysAuthentication") or "")
        disabled = "accessKeysAuthentication is Disabled" if switch.lower() == "disabled" else None
        host = cluster.get("hostName")
        endpoints = {PORT: str(database.get("port") or DEFAULT_PORT)} | ({HOST: str(host)} if host else {})
        return Description({}, disabled, endpoints, retiring=_retiring(cluster_answer))

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = armrest.send(resource, "POST", _path(resource, "listKeys"))
        return armrest.listed_keys(keys, _FIELDS, "The Azure Managed Redis database's key list")

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        """Started once (``ONCE``): a 200's keys or a 202 alike, the rotation then watches the keys."""
        with arm_call(self, resource, f"Regenerate {key} of"):
            armrest.send(
                resource, "POST", _path(resource, "regenerateKey"), {"keyType": key}, accept=(200, 202), **ONCE
            )
        return None

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        host = described.endpoints.get(HOST)
        if not host:
            raise UpstreamError(
                f"Azure reported no hostName for the cluster of {resource.name}: its connection string is unknown."
            )
        port = described.endpoints.get(PORT) or DEFAULT_PORT
        return f"{host}:{port},password={key_value},ssl=True,abortConnect=False"

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "password", separator=",")


def _path(resource: Resource, action: str = "", *, cluster: bool = False) -> str:
    """The database's (or its cluster's) ID, percent-encoded as the SDKs send names, then ``/action``."""
    parsed = resource.arm
    if cluster:
        parsed = replace(parsed, types=parsed.types[:1], names=parsed.names[:1])
    return armrest.path(parsed, API_VERSION, action)


def _retiring(cluster: Any) -> str | None:
    """An Azure Cache for Redis Enterprise cluster (SKU ``Enterprise_*``, ``EnterpriseFlash_*``; Managed
    Redis SKUs are ``Balanced_*``, ``MemoryOptimized_*``, ... in the spec's ``SkuName``): Microsoft's
    "Azure Cache for Redis retirement FAQ" retires those tiers on 2027-03-31."""
    sku = (cluster.get("sku") if isinstance(cluster, dict) else None) or {}
    name = str(sku.get("name") or "") if isinstance(sku, dict) else ""
    if name.lower().startswith("enterprise"):
        return f"Azure Cache for Redis Enterprise ({name}) retires on 2027-03-31: move to Azure Managed Redis"
    return None


KIND = ManagedRedisKind(
    {**pair("Primary", "Secondary"), **pair("PrimaryKey", "SecondaryKey", keys=("Primary", "Secondary"))},
    passwordless="Microsoft Entra ID: give the app a managed identity and an access policy assignment on the database",
    # Granted on the cluster, which holds its databases; the cluster is read for its hostName.
    role=Role(
        "Managed Redis Key Rotator",
        (
            "Microsoft.Cache/redisEnterprise/read",
            "Microsoft.Cache/redisEnterprise/databases/read",
            "Microsoft.Cache/redisEnterprise/databases/listKeys/action",
            "Microsoft.Cache/redisEnterprise/databases/regenerateKey/action",
        ),
    ),
)
