"""The lock store (``AzureWebJobsStorage``) failing is transient: every trigger answers as for any
Azure outage, inside its budget, and nothing is regenerated without the lock.

The failing store is either the stand-in's blob front (which relays to Azurite) stalling, dropping or
answering Storage's own 500/503, or a test-side peer that accepts connections and never answers a byte.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from localazure import azurite as azurite_module
from localazure.services.base import ISSUED_KEYS
from rotators.core import settings
from rotators.core.errors import RotationError
from tests import helpers
from tests.conftest import clear_process_state
from tests.helpers import VAULT

# What a failing storage account can do to a call (the stand-in's blob front relays to Azurite and
# injects the fault; "silent peer" is a listener that accepts and never reads or writes).
FAILURES = {
    "silent peer": None,
    "stalled answer": {"delay": 60},
    "dropped connection": {"drop": True},
    "500 InternalError": {"status": 500},
    "503 ServerBusy": {"status": 503},
}
SLACK_SECONDS = 1.5  # scheduling on two noisy cores; a call waiting out its own timeout would take 5 s more


@pytest.fixture
def silent_peer() -> Iterator[str]:
    """A blob endpoint that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/{azurite_module.ACCOUNT}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def failing_store(cloud, request, monkeypatch):
    """``fail(name)`` makes the lock store fail as FAILURES[name] says, from now on."""

    def fail(name: str) -> None:
        fault = FAILURES[name]
        if fault is None:
            endpoint = request.getfixturevalue("silent_peer")
            monkeypatch.setenv(
                "AzureWebJobsStorage",
                f"DefaultEndpointsProtocol=http;AccountName={azurite_module.ACCOUNT};"
                f"AccountKey={azurite_module.ACCOUNT_KEY};BlobEndpoint={endpoint};",
            )
            clear_process_state()
        else:
            cloud.inject("blob.*", count=10_000, **fault)

    return fail


def _budgets(monkeypatch, seconds: int) -> None:
    monkeypatch.setenv("ROTATION_EVENT_BUDGET_SECONDS", str(seconds))
    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", str(seconds))
    settings.get_settings.cache_clear()


@pytest.mark.parametrize("failure", FAILURES)
def test_http_answers_503_inside_its_budget_and_regenerates_nothing(cloud, failing_store, monkeypatch, failure):
    helpers.enroll_storage(cloud)
    _budgets(monkeypatch, 6)
    failing_store(failure)
    started = time.monotonic()
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert time.monotonic() - started < 6 + SLACK_SECONDS
    assert status == 503 and body["error"]["code"] in ("UpstreamUnavailable", "DeadlineExceeded"), body
    assert helpers.regenerations(cloud) == 0
    helpers.assert_nothing_written(cloud)
    helpers.assert_no_key_in([str(body)], ISSUED_KEYS)


@pytest.mark.parametrize("failure", FAILURES)
def test_an_event_raises_for_redelivery_inside_its_budget(cloud, failing_store, monkeypatch, failure):
    version = helpers.enroll_storage(cloud)
    _budgets(monkeypatch, 4)
    failing_store(failure)
    started = time.monotonic()
    with pytest.raises(RotationError) as failed:
        helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert time.monotonic() - started < 4 + SLACK_SECONDS
    assert failed.value.retryable, failed.value.code
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize("failure", ["silent peer", "503 ServerBusy"])
def test_the_sweep_counts_each_secret_as_failed_and_goes_on(cloud, failing_store, monkeypatch, failure):
    helpers.enroll_storage(cloud)
    helpers.enroll_storage(cloud, secret="other-key", account="stother")
    _budgets(monkeypatch, 3)
    failing_store(failure)
    tally = _sweep()
    assert sum(tally[code] for code in ("UpstreamUnavailable", "DeadlineExceeded")) == 2, tally
    helpers.assert_nothing_written(cloud)


def _sweep():
    from rotators.workflows.sweep import sweep

    return sweep()


@pytest.mark.parametrize(
    ("route", "skip"),
    [
        ("blob.put", 0),  # the container, created once per process
        ("blob.lease.acquire", 0),
        ("blob.get", 0),  # the pair's record, read under the lock
        ("blob.put", 2),  # the record saved before the regeneration (after the container and the pair's blob)
    ],
    ids=["create container", "acquire", "read record", "save record"],
)
def test_each_call_to_the_lock_store_fails_as_a_transient_error(cloud, route, skip):
    helpers.enroll_storage(cloud)
    cloud.inject(route, status=503, skip=skip, count=10_000)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 503 and body["error"]["code"] == "UpstreamUnavailable", body
    assert helpers.regenerations(cloud) == 0
    cloud.faults.clear()
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    helpers.holds_live_key(cloud, "storage-key")


def test_a_lock_that_cannot_be_released_leaves_the_rotation_standing(cloud, caplog):
    helpers.enroll_storage(cloud)
    cloud.inject("blob.lease.release", status=503, count=10_000)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert any("Could not release the rotation lock" in r.getMessage() for r in caplog.records)
    helpers.holds_live_key(cloud, "storage-key")


def test_a_sweep_that_cannot_list_interrupted_rotations_still_rotates_due_secrets(cloud):
    helpers.enroll_storage(cloud)
    cloud.inject("blob.list", status=503, count=10_000)
    tally = _sweep()
    assert tally["rotated"] == 1, tally
    helpers.holds_live_key(cloud, "storage-key")


def test_a_renewal_the_store_never_answers_cannot_hold_the_trigger(cloud, monkeypatch):
    """The lease's background renewal runs in the trigger's time: with the store stalling a renewal while a
    Cosmos DB regeneration is awaited, the trigger still answers ``pending`` inside its budget."""
    from rotators.adapters import lock

    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "30")  # only the budget ends the wait
    _budgets(monkeypatch, 8)
    monkeypatch.setattr(lock, "RENEW_EVERY_SECONDS", 0.5)  # a renewal falls inside the wait
    cloud.cosmosdb.operation_delay = 3600
    helpers.enroll_cosmos(cloud)
    stalled = cloud.inject("blob.lease.renew", delay=60, count=10_000)
    started = time.monotonic()
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert time.monotonic() - started < 8 + SLACK_SECONDS
    assert stalled.taken.is_set()
    assert status == 202 and body["status"] == "pending", body
