"""The services the stand-in serves, in the order their URL tables are tried."""

from __future__ import annotations

from localazure.services import (
    appconfiguration,
    arm,
    batch,
    blob,
    cognitiveservices,
    communication,
    cosmosdata,
    cosmosdb,
    eventgriddata,
    eventgriddomain,
    eventgridtopic,
    eventhubs,
    identity,
    keyvault,
    maps,
    redis,
    search,
    servicebus,
    signalrservice,
    storage,
    storagedata,
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
    eventgridtopic.SERVICE,
    signalrservice.SIGNALR,
    signalrservice.WEB_PUBSUB,
    appconfiguration.SERVICE,
    eventgriddata.SERVICE,
    storagedata.SERVICE,
    cosmosdata.SERVICE,
)
