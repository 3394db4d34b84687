"""Microsoft.EventHub behind ARM."""

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.eventhubs.models import EventHubsBackend
from localazure.services.eventhubs.urls import URLS

# The version the product pins (README, "Azure API versions"): what the stand-in knows.
API_VERSIONS = frozenset({"2024-01-01"})

SERVICE = Service("eventhubs", arm.FRONT, EventHubsBackend, URLS, API_VERSIONS)
