"""The services the stand-in serves, in the order their URL tables are tried."""

from __future__ import annotations

from localazure.services import (
    arm,
    batch,
    blob,
    cognitiveservices,
    communication,
    cosmosdb,
    eventgriddomain,
    eventhubs,
    identity,
    keyvault,
    maps,
    redis,
    search,
    servicebus,
    storage,
)
from localazure.services.base import Service

SERVICES: tuple[Service, ...] = (
    identity.SERVICE,
    blob.SERVICE,
    keyvault.SERVICE,
    arm.SERVICE,
    storage.SERVICE,
    cosmosdb.SERVICE,
    servicebus.SERVICE,
    eventhubs.SERVICE,
    redis.SERVICE,
    cognitiveservices.SERVICE,
    search.SERVICE,
    maps.SERVICE,
    communication.SERVICE,
    batch.SERVICE,
    eventgriddomain.SERVICE,
)
