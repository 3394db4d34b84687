"""A throwaway certificate authority, so real TLS clients trust the stand-in.

The CA is appended to the system bundle rather than replacing it: the machine
sets ``REQUESTS_CA_BUNDLE`` globally and other HTTPS must keep working.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from localazure.services.graph.models import GRAPH_LOGIN_HOSTS, LOGIN_HOSTS

# The Event Grid topic and Batch account hosts are in the stand-in's one region (eastus): a wildcard
# covers one label only.
SERVED_HOSTS = (
    "*.vault.azure.net",
    "management.azure.com",
    "*.eastus-1.eventgrid.azure.net",
    "*.blob.core.windows.net",
    "*.z24.blob.storage.azure.net",  # Azure DNS zone endpoints, in the stand-in's one zone
    "*.documents.azure.com",
    "*.azconfig.io",
    "*.communication.azure.com",
    "*.unitedstates.communication.azure.com",
    "*.search.windows.net",
    "*.webpubsub.azure.com",
    "*.eastus.batch.azure.com",
    "*.azurecr.io",  # container registries' login servers, and Azure China's and US Government's
    "*.azurecr.cn",
    "*.azurecr.us",
    "api.loganalytics.io",  # the Log Analytics query API, by each name Microsoft gives it
    "api.loganalytics.azure.com",
    "api.loganalytics.azure.cn",
    "api.loganalytics.us",
    *sorted(LOGIN_HOSTS),  # Entra ID's token endpoints of each cloud
    *GRAPH_LOGIN_HOSTS,  # Microsoft Graph of each cloud
)
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class Certificates:
    def __init__(self, directory: Path) -> None:
        self._ca = trustme.CA()
        self._server = self._ca.issue_cert(*SERVED_HOSTS)
        self.bundle_path = directory / "ca-bundle.pem"
        system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
        self.bundle_path.write_bytes(system + b"\n" + self._ca.cert_pem.bytes())

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server.configure_cert(context)
        return context
