"""Microsoft.Storage behind ARM."""

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.storage.models import StorageBackend
from localazure.services.storage.urls import URLS

# The version the product pins (README, "Azure API versions"): what the stand-in knows.
API_VERSIONS = frozenset({"2023-01-01"})

SERVICE = Service("storage", arm.FRONT, StorageBackend, URLS, API_VERSIONS)
