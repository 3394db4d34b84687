"""Safety and liveness under concurrency, crashes and faults.

Safety: an unforced rotation never regenerates the key the current version holds, and the
current version always holds a live key; at most one regeneration per rotation.
Liveness: a rotation that was started is finished by a later trigger.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest

from rotators.core.errors import RotationError
from tests import helpers
from tests.helpers import VAULT, expire_lock, redeliver_until_done, run_until, trigger_all


def test_eight_simultaneous_triggers_for_one_secret_rotate_once(cloud):
    version = helpers.enroll_storage(cloud)
    event = helpers.event(secret="storage-key", version=version)
    body = {"vaultName": VAULT, "secretName": "storage-key"}
    triggers = [lambda: helpers.deliver(event)] * 4 + [lambda: helpers.post_rotate(body)] * 4
    results = trigger_all(triggers)
    assert not [r for r in results if isinstance(r, Exception)]
    http = sorted(status for status, _ in results[4:])
    assert set(http) <= {200, 409} and http.count(200) <= 1
    assert helpers.regenerations(cloud) == 1
    assert helpers.calls(cloud, "keyvault.set_secret") == 1
    helpers.holds_live_key(cloud, "storage-key")


def test_eight_secrets_at_once_all_rotate(cloud):
    versions = {}
    for index in range(8):
        if index % 2:
            versions[f"s{index}"] = helpers.enroll_cosmos(cloud, secret=f"s{index}", account=f"cosmos-{index}")
        else:
            versions[f"s{index}"] = helpers.enroll_storage(cloud, secret=f"s{index}", account=f"st{index}")
    results = trigger_all(
        [lambda s=s, v=v: helpers.deliver(helpers.event(secret=s, version=v)) for s, v in versions.items()]
    )
    assert results == [None] * 8
    for name in versions:
        helpers.holds_live_key(cloud, name)
        assert len(cloud.keyvault.secret_versions(VAULT, name)) == 2
    assert helpers.regenerations(cloud) == 8


def test_a_held_lock_defers_events_and_answers_http_409(cloud):
    version = helpers.enroll_storage(cloud)
    from azure.storage.blob import BlobClient

    connection = os.environ["AzureWebJobsStorage"]
    helpers.deliver(helpers.event("Microsoft.KeyVault.SecretNewVersionCreated", secret="storage-key", version="x"))
    blob = BlobClient.from_connection_string(
        connection, "secret-rotation", helpers.pair_blob_name(cloud, "storage-key")
    )
    from rotators.adapters import clients

    clients.lock_container()
    blob.upload_blob(b"", overwrite=True)
    blob.acquire_lease(lease_duration=15)
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and body["error"]["code"] == "RotationInProgress"
    assert helpers.regenerations(cloud) == 0
    expire_lock(cloud, connection, "storage-key")  # the holder died and its lease lapsed
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, "storage-key")


CRASH_POINTS = [
    # the pair's first rotation: its first acquire finds no blob (404) and creates it
    ("after taking the lock", "storage", "blob.lease.acquire", {"after": True, "skip": 1}),
    ("after regenerate", "storage", "storage.regenerate_key", {"after": True}),
    ("after regenerate (Cosmos DB)", "cosmos", "cosmos.regenerate_key", {"after": True}),
    ("while waiting on the Cosmos DB operation", "cosmos", "cosmos.get_account", {"skip": 1}),
    ("after the secret write", "storage", "keyvault.set_secret", {"after": True}),
    ("before releasing the lock", "storage", "blob.lease.release", {}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("point", "kind", "route", "extra"), CRASH_POINTS, ids=[c[0] for c in CRASH_POINTS])
def test_a_rotation_killed_at_any_step_is_finished_by_the_next_trigger(cloud, azurite, point, kind, route, extra):
    enroll = helpers.enroll_storage if kind == "storage" else helpers.enroll_cosmos
    version = enroll(cloud, secret="crashy")
    cloud.cosmosdb.operation_delay = 1.0
    fault = cloud.inject(route, delay=60, **extra)
    run_until(fault, "crashy")
    cloud.faults.clear()
    helpers.holds_live_key(cloud, "crashy")

    redelivery = helpers.event(secret="crashy", version=version)
    helpers.deliver(redelivery)  # the dead holder's lease has not lapsed yet: nothing happens
    expire_lock(cloud, azurite.connection_string, "crashy")
    redeliver_until_done(redelivery)
    helpers.holds_live_key(cloud, "crashy")
    current = cloud.keyvault.current_secret(VAULT, "crashy")
    assert current.tags["CredentialId"] == ("key2" if kind == "storage" else "secondary"), point
    assert helpers.regenerations(cloud) == 1, f"{point}: the alternate key was regenerated again"
    assert len(cloud.keyvault.secret_versions(VAULT, "crashy")) == 2


def test_a_cosmos_request_whose_answer_was_lost_is_found_not_sent_again(cloud, azurite):
    """The holder died after Cosmos DB accepted regenerateKey but before it recorded the operation."""
    version = helpers.enroll_cosmos(cloud, secret="lost")
    cloud.cosmosdb.operation_delay = 3.0
    fault = cloud.inject("cosmos.regenerate_key", delay=60, after=True)
    run_until(fault, "lost")
    cloud.faults.clear()
    expire_lock(cloud, azurite.connection_string, "lost")
    body = {"vaultName": VAULT, "secretName": "lost"}
    status, answer = helpers.post_rotate(body)
    assert status == 202 and "went unanswered" in answer["reason"], answer
    cloud.inject("cosmos.get_account", status=403)
    status, answer = helpers.post_rotate(body)
    message = answer["error"]["message"]
    assert status == 502 and "lacks the 'Cosmos DB Account Key Rotator' role" in message, answer
    assert "allow about 10 minutes" in message
    cloud.cosmosdb.advance(3)
    redeliver_until_done(helpers.event(secret="lost", version=version))
    assert helpers.calls(cloud, "cosmos.regenerate_key") == 1
    assert cloud.keyvault.current_secret(VAULT, "lost").tags["CredentialId"] == "secondary"
    helpers.holds_live_key(cloud, "lost")


def test_an_unanswered_request_is_not_sent_again_until_it_has_settled(cloud, azurite):
    version = helpers.enroll_storage(cloud)
    cloud.inject("storage.regenerate_key", drop=True)
    event = helpers.event(secret="storage-key", version=version)
    with pytest.raises(RotationError):
        helpers.deliver(event)
    status, answer = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 202 and "went unanswered" in answer["reason"] and "asked again from" in answer["reason"], answer
    assert helpers.calls(cloud, "storage.regenerate_key") == 1
    helpers.settle_request(cloud, azurite.connection_string, "storage-key")
    helpers.deliver(event)
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, "storage-key")


def test_a_cosmos_operation_that_fails_is_started_again_once_it_has_settled(cloud, azurite, monkeypatch):
    """A Failed operation changes no key; it is invisible without the status URL, so it is asked again late."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_EVENT_BUDGET_SECONDS", "6")
    get_settings.cache_clear()
    version = helpers.enroll_cosmos(cloud)
    cloud.cosmosdb.fail_operations(1)
    with pytest.raises(RotationError) as pending:
        helpers.deliver(helpers.event(secret="cosmos-key", version=version))
    assert pending.value.retryable
    with pytest.raises(RotationError):  # not asked again yet: Azure may still be running it
        helpers.deliver(helpers.event(secret="cosmos-key", version=version))
    assert helpers.calls(cloud, "cosmos.regenerate_key") == 1
    helpers.holds_live_key(cloud, "cosmos-key")
    helpers.settle_request(cloud, azurite.connection_string, "cosmos-key")
    helpers.deliver(helpers.event(secret="cosmos-key", version=version))
    helpers.holds_live_key(cloud, "cosmos-key")
    assert cloud.keyvault.current_secret(VAULT, "cosmos-key").tags["CredentialId"] == "secondary"
    assert helpers.regenerations(cloud) == 2


def test_a_slow_cosmos_operation_is_resumed_not_repeated(cloud, monkeypatch):
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")  # waits at most about a second on Azure
    get_settings.cache_clear()
    cloud.cosmosdb.operation_delay = 2.5
    helpers.enroll_cosmos(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 202 and body["status"] == "pending"
    cloud.cosmosdb.advance(2.5)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 200 and body["status"] == "rotated" and body["reason"].startswith("resuming")
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, "cosmos-key")


@pytest.mark.parametrize("lag", [0.0, 1.0], ids=["keys listed at once", "key list lags"])
@pytest.mark.parametrize("state", ["Succeeded", "Updating"])
def test_a_long_cosmos_operation_under_each_plausible_azure(cloud, monkeypatch, state, lag):
    """Where Microsoft's sources are silent (the account's state during regenerateKey, whether
    listKeys lags), the product decides the same under each behaviour: pending until the new key
    is listed, one regeneration, never the old key published."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")
    get_settings.cache_clear()
    cloud.cosmosdb.operation_delay = 2.0
    cloud.cosmosdb.provisioning_state_while_regenerating = state
    cloud.cosmosdb.list_keys_lag = lag
    helpers.enroll_cosmos(cloud)
    before = cloud.cosmosdb.accounts["cosmos-app"].keys["secondary"]
    answers = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not answers or answers[-1][0] != 200):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
        answers.append((status, body.get("status")))
        time.sleep(0.3)
    assert answers[-1] == (200, "rotated") and set(answers[:-1]) <= {(202, "pending")}, answers
    assert helpers.regenerations(cloud) == 1
    helpers.differ(cloud.keyvault.current_secret(VAULT, "cosmos-key").value, before, "a new key published")
    helpers.holds_live_key(cloud, "cosmos-key")


FAULTS = {
    "429 with Retry-After": {"status": 429, "retry_after": 1},
    "503 burst": {"status": 503, "count": 2},
    "500 until the trigger gives up": {"status": 500, "count": 4},
    "dropped connection": {"drop": True},
    "latency beyond the timeout": {"delay": 2.5},
}
ROUTES = {
    "storage": [
        "identity.token",
        "keyvault.get_secret",
        "keyvault.list_secrets",
        "blob.lease.acquire",
        "blob.lease.renew",
        "blob.put",
        "storage.list_keys",
        "storage.regenerate_key",
        "keyvault.set_secret",
    ],
    "cosmos": ["cosmos.regenerate_key", "cosmos.operation_status", "cosmos.list_keys"],
}
CASES = [(kind, route, name) for kind, routes in ROUTES.items() for route in routes for name in FAULTS]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "route", "fault"), CASES, ids=[f"{r}-{f}" for _, r, f in CASES])
def test_faults_end_in_a_rotation_or_a_clear_failure_a_later_trigger_completes(
    cloud, azurite, monkeypatch, kind, route, fault
):
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    enroll = helpers.enroll_storage if kind == "storage" else helpers.enroll_cosmos
    secret = "storage-key" if kind == "storage" else "cosmos-key"
    version = enroll(cloud)
    cloud.inject(route, **FAULTS[fault])
    event = helpers.event(secret=secret, version=version)
    try:
        helpers.deliver(event)
    except RotationError as exc:
        assert exc.retryable, f"{route}/{fault} ended in a permanent error: {exc.code}"
    helpers.holds_live_key(cloud, secret)
    cloud.faults.clear()
    if cloud.keyvault.current_secret(VAULT, secret).version == version:
        # Event Grid redelivers after 10 s at the earliest: by then a stalled request has landed,
        # an unanswered one has settled and MSAL has forgotten a failed token answer (5 s).
        time.sleep(FAULTS[fault].get("delay", 0.0) + (5.5 if route == "identity.token" else 0.0))
        helpers.settle_request(cloud, azurite.connection_string, secret)
        redeliver_until_done(event)
    helpers.holds_live_key(cloud, secret)
    assert cloud.keyvault.current_secret(VAULT, secret).tags["CredentialId"] in ("key2", "secondary")
    assert helpers.regenerations(cloud) == 1, [(c.route, c.status) for c in cloud.calls()]


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_while_finding_out_what_became_of_a_lost_request(cloud, azurite, monkeypatch, fault):
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    version = helpers.enroll_cosmos(cloud)
    cloud.inject("cosmos.regenerate_key", drop=True, after=True)  # Azure starts it; its answer is lost
    event = helpers.event(secret="cosmos-key", version=version)
    with pytest.raises(RotationError):
        helpers.deliver(event)
    met = cloud.inject("cosmos.get_account", **FAULTS[fault])
    try:
        helpers.deliver(event)
    except RotationError as exc:
        assert exc.retryable, f"{fault} ended in a permanent error: {exc.code}"
    assert met.taken.is_set(), "the redelivery never asked whether the account was busy"
    helpers.holds_live_key(cloud, "cosmos-key")
    cloud.faults.clear()
    time.sleep(FAULTS[fault].get("delay", 0.0))
    redeliver_until_done(event)
    helpers.holds_live_key(cloud, "cosmos-key")
    assert cloud.keyvault.current_secret(VAULT, "cosmos-key").tags["CredentialId"] == "secondary"
    assert helpers.regenerations(cloud) == 1, [(c.route, c.status) for c in cloud.calls()]


def test_the_lock_is_released_on_every_path(cloud):
    helpers.enroll_storage(cloud, age=timedelta(days=4))
    cloud.inject("storage.regenerate_key", status=400)
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 502
    assert helpers.calls(cloud, "blob.lease.release") == 1
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and helpers.calls(cloud, "blob.lease.release") == 2


STALLS = [
    "identity.token",
    "keyvault.get_secret",
    "keyvault.list_secrets",
    "blob.lease.acquire",
    "blob.get",
    "blob.put",
    "storage.get_account",
    "storage.list_keys",
    "storage.regenerate_key",
    "keyvault.set_secret",
    "cosmos.get_account",
    "cosmos.regenerate_key",
]


@pytest.mark.slow
@pytest.mark.parametrize("route", STALLS)
def test_an_event_answers_within_its_budget_whatever_azure_does(cloud, azurite, monkeypatch, route):
    """Event Grid redelivers after 30 s without an answer: the delivery must end before that, every time."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_EVENT_BUDGET_SECONDS", "4")
    get_settings.cache_clear()
    enroll = helpers.enroll_cosmos if route.startswith("cosmos") else helpers.enroll_storage
    secret = "cosmos-key" if route.startswith("cosmos") else "storage-key"
    version = enroll(cloud)
    cloud.inject(route, delay=60, count=100)
    started = time.monotonic()
    try:
        helpers.deliver(helpers.event(secret=secret, version=version))
    except RotationError as exc:
        assert exc.retryable, exc.code
    # Liveness, not speed: a stalled call ends with the trigger's budget, not with Azure.
    assert time.monotonic() - started < 4 + 6, route
    cloud.faults.clear()
    helpers.holds_live_key(cloud, secret)
    assert helpers.regenerations(cloud) <= 1
