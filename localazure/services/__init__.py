"""The services the stand-in serves, in the order their URL tables are tried."""

from __future__ import annotations

from localazure.services import arm, blob, cosmosdb, eventhubs, identity, keyvault, servicebus, storage
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
)
