"""Microsoft.DocumentDB behind ARM."""

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.cosmosdb.models import CosmosBackend
from localazure.services.cosmosdb.urls import URLS

# The version the product pins (README, "Azure API versions"): what the stand-in knows.
API_VERSIONS = frozenset({"2023-11-15"})

SERVICE = Service("cosmosdb", arm.FRONT, CosmosBackend, URLS, API_VERSIONS)
