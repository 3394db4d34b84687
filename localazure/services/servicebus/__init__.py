"""Microsoft.ServiceBus behind ARM."""

from localazure.services import arm
from localazure.services.base import Service
from localazure.services.servicebus.models import ServiceBusBackend
from localazure.services.servicebus.urls import URLS

# The version the product pins (README, "Azure API versions"): what the stand-in knows.
API_VERSIONS = frozenset({"2021-11-01"})

SERVICE = Service("servicebus", arm.FRONT, ServiceBusBackend, URLS, API_VERSIONS)
