"""Microsoft.AppConfiguration configuration stores behind ARM: their four access keys."""

from localazure.services import arm
from localazure.services.appconfiguration.models import AppConfigurationBackend
from localazure.services.appconfiguration.urls import URLS
from localazure.services.base import Service

# The version the product pins (README, "Azure API versions"): what the stand-in knows.
API_VERSIONS = frozenset({"2024-06-01"})

SERVICE = Service("appconfiguration", arm.FRONT, AppConfigurationBackend, URLS, API_VERSIONS)
