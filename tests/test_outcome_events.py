"""Outcome events: one CloudEvent per outcome to the configured Event Grid topic, never a value,
and never the reason a rotation fails."""

from __future__ import annotations

import json

import pytest

from localazure.services.base import ISSUED_KEYS
from rotators.core.errors import ConfigurationError
from rotators.core.settings import Settings
from tests import helpers
from tests.helpers import VAULT

TOPIC = "https://rotations.eastus-1.eventgrid.azure.net/api/events"


@pytest.fixture
def topic(cloud, monkeypatch):
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_EVENTS_TOPIC_ENDPOINT", TOPIC)
    get_settings.cache_clear()
    return cloud.eventgriddata


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
