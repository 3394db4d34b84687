"""Outcome events: one CloudEvent per outcome to the configured Event Grid topic, never a value,
and never the reason a rotation fails."""

from __future__ import annotations

import json
import time

import pytest

from localazure.services.base import ISSUED_KEYS
from rotators.core.errors import ConfigurationError
from rotators.core.settings import Settings
from tests import helpers
from tests.helpers import VAULT


def _no_value_in(events: list[dict]) -> None:
    helpers.assert_no_key_in([json.dumps(events)], ISSUED_KEYS)


def test_a_rotation_publishes_secret_rotated(cloud, topic):
    version = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    (event,) = topic.of_type("KeyRotation.SecretRotated")
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    assert event["source"] == "/rotators" and event["subject"].endswith("/secrets/storage-key")
    data = event["data"]
    assert data["vault"] == VAULT and data["vaultUrl"].startswith(helpers.VAULT_URL) and data["secret"] == "storage-key"
    assert data["trigger"] == "event" and data["eventId"]
    assert (data["previousVersion"], data["newVersion"]) == (version, current.version)
    assert (data["previousCredential"], data["newCredential"]) == ("key1", "key2")
    assert data["resourceId"] == cloud.storage.accounts["stapp"].id
    _no_value_in(topic.received)


def test_a_long_regeneration_publishes_rotation_pending(cloud, topic, monkeypatch):
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")
    get_settings.cache_clear()
    cloud.cosmosdb.operation_delay = 3600
    helpers.enroll_cosmos(cloud)
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 202
    (event,) = topic.of_type("KeyRotation.RotationPending")
    assert event["data"]["trigger"] == "http" and event["data"]["status"] == "pending"
    _no_value_in(topic.received)


def test_a_permanent_failure_publishes_rotation_failed_and_a_refusal_does_not(cloud, topic):
    helpers.enroll_storage(cloud, secret="bad", extra_tags={"CredentialId": "key3"})
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "bad"})
    assert status == 422
    (event,) = topic.of_type("KeyRotation.RotationFailed")
    assert event["data"]["code"] == "SecretNotRotatable" and "CredentialId" in event["data"]["reason"]

    helpers.enroll_storage(cloud, secret="fresh", account="stfresh", age=helpers.timedelta(hours=1))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "fresh"})
    assert status == 409 and body["error"]["code"] == "CoolingDown"
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "fresh", "dryRun": True, "force": True})
    assert len(topic.received) == 1  # the cool-down and a dry run are not outcomes anyone is told of
    _no_value_in(topic.received)


def test_the_sweep_publishes_secret_misconfigured(cloud, topic):
    helpers.enroll_storage(cloud, secret="broken", extra_tags={"ProviderAddress": "nope"})
    helpers.sweep()
    (event,) = topic.of_type("KeyRotation.SecretMisconfigured")
    assert event["data"]["trigger"] == "sweep" and "ProviderAddress" in event["data"]["reason"]


@pytest.mark.parametrize("fault", [{"status": 503, "count": 20}, {"status": 401, "count": 20}, {"drop": True}])
def test_a_topic_that_fails_never_fails_the_rotation(cloud, topic, fault):
    cloud.inject("eventgriddata.publish", **fault)
    helpers.enroll_storage(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    helpers.holds_live_key(cloud, "storage-key")


# What a topic can do to a publish (no Microsoft source bounds Event Grid's answer time, so each is a
# plausible day): accept the connection and never answer, answer late but inside the call's timeout, or
# drop the connection.
TOPIC_STALLS = {"never answers": {"delay": 60}, "answers slowly": {"delay": 2}, "drops": {"drop": True}}


@pytest.mark.parametrize("stall", TOPIC_STALLS)
@pytest.mark.parametrize(("trigger", "budget"), [("event", 7), ("http", 9)])
def test_a_stalled_topic_cannot_hold_a_trigger(cloud, topic, monkeypatch, caplog, stall, trigger, budget):
    """azure-eventgrid 4.22 drops the client's options for a basic topic (10 retries, 300 s reads): the
    bounds go with each send, so the trigger answers inside its budget and the rotation stands."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_EVENT_BUDGET_SECONDS", str(budget))
    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", str(budget))
    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "30")  # past the budget: only the deadline ends the wait
    get_settings.cache_clear()
    version = helpers.enroll_storage(cloud)
    fault = cloud.inject("eventgriddata.publish", count=100, **TOPIC_STALLS[stall])
    started = time.monotonic()
    if trigger == "event":
        helpers.deliver(helpers.event(secret="storage-key", version=version))
    else:
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
        assert status == 200 and body["status"] == "rotated", body
    assert time.monotonic() - started < budget + 1.5
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    assert current.version != version and current.tags["CredentialId"] == "key2"
    helpers.holds_live_key(cloud, "storage-key")
    assert fault.taken.is_set()  # the topic was asked, and what it did is what the trigger lived through
    published = topic.of_type("KeyRotation.SecretRotated")
    missed = [r.getMessage() for r in caplog.records if "was not published" in r.getMessage()]
    assert (len(published), len(missed)) == ((1, 0) if stall == "answers slowly" else (0, 1)), missed
    assert not [r for r in caplog.records if "is not a known attribute" in r.getMessage()]
    helpers.assert_no_key_in([r.getMessage() for r in caplog.records], ISSUED_KEYS)


def test_no_topic_no_events(cloud):
    helpers.enroll_storage(cloud)
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and cloud.eventgriddata.received == [] and helpers.calls(cloud, "eventgriddata.publish") == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://rotations.eastus-1.eventgrid.azure.net/api/events",
        "https://rotations.eastus-1.eventgrid.azure.net.evil.example/api/events",
        "https://evil.example/api/events",
        "https://rotations.eastus-1.eventgrid.azure.net/api/other",
        "https://rotations.eastus-1.eventgrid.azure.net:8443/api/events",
        "https://user@rotations.eastus-1.eventgrid.azure.net/api/events",
    ],
)
def test_a_topic_endpoint_that_is_not_event_grid_is_a_configuration_error(endpoint):
    with pytest.raises(ConfigurationError, match="ROTATION_EVENTS_TOPIC_ENDPOINT"):
        Settings.from_environ({"ROTATION_EVENTS_TOPIC_ENDPOINT": endpoint})


def test_a_topic_endpoint_is_normalised_to_its_events_path():
    for endpoint in ("https://tt1.eastus-1.eventgrid.azure.net", "https://tt1.eastus-1.eventgrid.azure.net/api/events"):
        assert Settings.from_environ({"ROTATION_EVENTS_TOPIC_ENDPOINT": endpoint}).events_topic_endpoint == (
            "https://tt1.eastus-1.eventgrid.azure.net/api/events"
        )
