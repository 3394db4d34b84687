"""Fixtures: the local Azure stand-in, Azurite, and a clean process state per test."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from localazure import Azurite, LocalAzure
from localazure.services.base import ISSUED_KEYS
from rotators.core import settings
from tests import helpers

# Settings the machine may carry that would steer DefaultAzureCredential elsewhere.
_FOREIGN_IDENTITY = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
)


def clear_process_state() -> None:
    """What a new worker process starts with: no settings read, no client built.

    Every cache of the product's modules (settings, clients, credentials, tenants, whichever module
    adds one next) is found, not listed: a client kept across tests keeps its credential, whose token
    requests the stand-in refuses after a reset.
    """
    for cache in _process_caches():
        cache.cache_clear()


def _process_caches() -> Iterator[Any]:
    for name, module in list(sys.modules.items()):
        if name != "rotators" and not name.startswith("rotators."):
            continue
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name:
                yield value


@pytest.fixture(scope="session")
def local_azure() -> Iterator[LocalAzure]:
    with LocalAzure() as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    try:
        server = Azurite().start()
    except RuntimeError as exc:
        pytest.fail(f"Azurite could not start, so AzureWebJobsStorage is unavailable: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def cloud(local_azure: LocalAzure, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAzure]:
    """The stand-in with no resources, the environment pointing at it, and fresh process caches."""
    local_azure.reset()
    for name in _FOREIGN_IDENTITY:
        monkeypatch.delenv(name, raising=False)
    for name, value in local_azure.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AzureWebJobsStorage", local_azure.blob_connection_string(azurite))
    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", helpers.VAULT)
    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("ROTATION_POLL_SECONDS", "0.05")  # the stand-in completes operations in a fraction of a second
    local_azure.keyvault.create_vault(helpers.VAULT)
    helpers.delete_lock_container(azurite.connection_string)
    helpers.delete_queues(azurite.connection_string)
    clear_process_state()
    yield local_azure
    clear_process_state()


@pytest.fixture
def verify(cloud, monkeypatch):
    """Set ROTATION_VERIFY (and a short HTTP budget, so a wait ends in seconds)."""

    def configure(mode: str | None) -> None:
        if mode is not None:
            monkeypatch.setenv("ROTATION_VERIFY", mode)
        monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "8")
        settings.get_settings.cache_clear()

    return configure


@pytest.fixture
def topic(cloud, monkeypatch):
    """An outcome topic (ROTATION_EVENTS_TOPIC_ENDPOINT) in the stand-in; tests read what it received."""
    monkeypatch.setenv("ROTATION_EVENTS_TOPIC_ENDPOINT", helpers.TOPIC)
    settings.get_settings.cache_clear()
    return cloud.eventgriddata


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        helpers.PRODUCED.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def no_key_leaves_the_product() -> Iterator[None]:
    """Every log line of the suite (DEBUG, every library), every HTTP response and CLI output
    the tests produced: at the end of the session none may hold a key the stand-in issued."""
    root = logging.getLogger()
    handler, previous = _Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(previous)
    helpers.assert_no_key_in(helpers.PRODUCED, ISSUED_KEYS)


_STAND_IN_FIXTURES = {"cloud", "local_azure", "azurite"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the stand-in or Azurite, so ``make unit`` can leave them out."""
    for item in items:
        if _STAND_IN_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stand_in)
