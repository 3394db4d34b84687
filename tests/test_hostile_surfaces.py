"""Hostile input on the newer surfaces: rollback's body and the outcome topic setting.

Each is tried with several values, as an attacker or a careless operator would: bad input gets
the documented status and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rotators.core import settings
from rotators.core.errors import ConfigurationError
from tests import helpers
from tests.helpers import VAULT


def _rotate() -> tuple[int, dict]:
    return helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})


# 3. the outcome topic setting ----------------------------------------------------------------

BAD_TOPICS = [
    "https://rotations.eastus-1.eventgrid.azure.net:abc/api/events",
    "https://rotations.eastus-1.eventgrid.azure.net:99999/api/events",
    "https://rotations.eastus-1.eventgrid.azure.net:-1/api/events",
    "https://[",
    "https://[::1/api/events",
    "https://rotations.eastus-1.eventgrid.azure.net\uff0fapi/events",  # a fullwidth solidus
    "https://rotations.eastus-1.eventgrid.azure.net\u2100/api/events",  # NFKC folds it into 'a/c'
    "https://rotations.eastus-1.eventgrid.azure.net:443/api/events",
    "http://rotations.eastus-1.eventgrid.azure.net/api/events",
    "https://user@rotations.eastus-1.eventgrid.azure.net/api/events",
    "rotations.eastus-1.eventgrid.azure.net",
]


@pytest.mark.parametrize("endpoint", BAD_TOPICS)
def test_an_unparseable_topic_endpoint_is_a_configuration_error_naming_the_setting(endpoint):
    with pytest.raises(ConfigurationError, match="ROTATION_EVENTS_TOPIC_ENDPOINT"):
        settings.Settings.from_environ({"ROTATION_ALLOWED_VAULTS": VAULT, "ROTATION_EVENTS_TOPIC_ENDPOINT": endpoint})


@pytest.mark.parametrize("endpoint", BAD_TOPICS[:6])
def test_every_trigger_reports_a_bad_topic_endpoint_and_calls_nothing(cloud, monkeypatch, caplog, endpoint):
    version = helpers.enroll_storage(cloud)
    monkeypatch.setenv("ROTATION_EVENTS_TOPIC_ENDPOINT", endpoint)
    settings.get_settings.cache_clear()
    status, body = _rotate()
    assert status == 500 and body["error"]["code"] == "ConfigurationError", body
    assert "ROTATION_EVENTS_TOPIC_ENDPOINT" in body["error"]["message"]
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert any("ROTATION_EVENTS_TOPIC_ENDPOINT" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    with pytest.raises(ConfigurationError):
        helpers.FUNCTIONS["SweepVaults"](None)
    assert cloud.calls() == []


# 4. nested bodies, on both endpoints ---------------------------------------------------------

NESTED = [
    {"extra": {"a": 1}},
    {"extra": [1, 2]},
    {"dryRun": {"value": False}},
    {"force": [True]},
    {"vaultName": {"name": VAULT}},
    {"secretName": ["storage-key"]},
    {"extra": {"a": {"b": {"c": []}}}},
]


@pytest.mark.parametrize("function", ["RotateSecret", "RollbackSecret"])
@pytest.mark.parametrize("nested", NESTED)
def test_a_nested_body_is_refused_on_both_endpoints_and_nothing_is_written(cloud, function, nested):
    v0 = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event(secret="storage-key", version=v0))  # rotated once: a rollback could go ahead
    helpers.age_current_version(cloud, "storage-key", timedelta(days=2))
    calls = len(cloud.calls())
    body = {"vaultName": VAULT, "secretName": "storage-key", **nested}
    status, answer = helpers.post_rotate(body, function=function)
    assert status == 400 and answer["error"]["code"] == "BadRequest", answer
    assert "flat JSON object" in answer["error"]["message"] and repr(next(iter(nested))) in answer["error"]["message"]
    assert len(cloud.calls()) == calls  # refused before any call to Azure


def test_a_flat_body_still_rolls_back(cloud):
    v0 = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event(secret="storage-key", version=v0))
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": "storage-key", "dryRun": False})
    assert status == 200 and body["status"] == "rolledBack", body
