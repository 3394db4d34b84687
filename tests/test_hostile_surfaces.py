"""Hostile input on the newer surfaces: the consumers registry and tag, rollback's body, the outcome topic.

Each is tried with several values, as an attacker or a careless operator would: whatever the
registry holds is a note about that registry, never a failed or undone rotation; a name Azure
would not allow never reaches a URL; bad input gets the documented status and changes nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rotators.core import settings
from rotators.core.consumers import Consumer, parse_consumers, parse_entries
from rotators.core.errors import ConfigurationError, NotRotatable
from rotators.triggers.cli import OK
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/storage-key/)"
TOPIC = "https://rotations.eastus-1.eventgrid.azure.net/api/events"


def _rotate() -> tuple[int, dict]:
    return helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})


def _with_topic(monkeypatch) -> None:
    monkeypatch.setenv("ROTATION_EVENTS_TOPIC_ENDPOINT", TOPIC)
    settings.get_settings.cache_clear()


# 1. whatever the registry holds ------------------------------------------------------------

REGISTRY_BLOBS = [
    pytest.param(b'{"consumers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="nested-deep"),
    pytest.param(b'{"a":' * 40_000 + b"1" + b"}" * 40_000, id="objects-deep"),
    pytest.param(json.dumps({"consumers": ["rg-apps/app-fast"] * 20_000}).encode(), id="huge"),
    pytest.param(b'{"consumers": "rg-apps/app-fast"}', id="a-string"),
    pytest.param(b'{"consumers": [1, {"a": 1}, null]}', id="wrong-types"),
    pytest.param(b"[]", id="a-list"),
    pytest.param(b"null", id="null"),
    pytest.param(b"\xff\xfe\x00{", id="not-utf-8"),
    pytest.param('{"consumers": ["rg-apps/app-fast"]}'.encode("utf-16"), id="utf-16"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"consumers": ["../app-trick"]}', id="traversal"),
    pytest.param(json.dumps({"consumers": [f"rg/app{i:03}" for i in range(101)]}).encode(), id="too-many"),
]


def _registry_blob(cloud, azurite):
    from azure.storage.blob import BlobClient

    from rotators.adapters import clients, registry

    clients.lock_container()  # the container exists
    name = registry.blob_name(helpers.vault_address(VAULT), "storage-key")
    return BlobClient.from_connection_string(azurite.connection_string, "secret-rotation", name)


@pytest.mark.parametrize("content", REGISTRY_BLOBS)
def test_whatever_the_registry_holds_the_rotation_stands_and_is_announced(cloud, azurite, monkeypatch, content):
    _with_topic(monkeypatch)
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    _registry_blob(cloud, azurite).upload_blob(content, overwrite=True)

    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated" and body["consumers"] == [], body
    (rotated,) = cloud.eventgriddata.of_type("KeyRotation.SecretRotated")
    assert rotated["data"]["newVersion"] == body["newVersion"]
    helpers.holds_live_key(cloud, "storage-key")
    assert helpers.calls(cloud, "appservice.refresh") == 0  # nobody is refreshed on a registry's word

    # Inside the cool-down, past the confirmed floor: a registry nobody can read confirms nothing.
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=30))
    status, body = _rotate()
    assert status == 409 and body["error"]["code"] == "CoolingDown", body
    assert "its consumers cannot be read" in body["error"]["message"] and "registry" in body["error"]["message"]
    version = cloud.keyvault.current_secret(VAULT, "storage-key").version
    helpers.deliver(helpers.event(secret="storage-key", version=version))  # returns: cooling down, not a failure
    assert helpers.regenerations(cloud) == 1
    assert cloud.eventgriddata.of_type("KeyRotation.RotationFailed") == []


@pytest.mark.parametrize("content", REGISTRY_BLOBS[:3] + REGISTRY_BLOBS[7:8])
def test_whatever_the_registry_holds_status_and_the_sweep_note_it(cloud, azurite, capsys, content):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    _registry_blob(cloud, azurite).upload_blob(content, overwrite=True)
    assert _rotate()[0] == 200
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and "consumers not read: The registry entry of secret 'storage-key'" in out, out
    from rotators.workflows.sweep import sweep

    helpers.enroll_storage(cloud, secret="due-key", account="stdue", age=timedelta(days=80), validity="90")
    tally = sweep(now=helpers.now() + timedelta(minutes=11))
    assert tally["rotated"] == 1 and not tally.get("unexpected"), tally


def test_a_registry_read_as_at_most_256_kib(cloud, azurite):
    """A registry is a few kilobytes; a huge blob is refused after the first 256 KiB, never read whole."""
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    _registry_blob(cloud, azurite).upload_blob(b" " * (8 * 1024 * 1024), overwrite=True)
    status, body = _rotate()
    assert status == 200 and body["consumers"] == [], body
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=30))
    status, body = _rotate()
    assert status == 409 and "larger than 262144 bytes" in body["error"]["message"], body


# 2. names Azure would not allow --------------------------------------------------------------

BAD_ENTRIES = [
    "../app-trick",
    "./app-trick",
    "../../rg/app-trick",
    "./../app",
    "../app/slot",
    "./app",
    "rg-apps/..",
    "rg-apps/app/..",
    ".",
    "..",
    "rg-apps./app-fast",  # a resource group "can't end with period"
    "rg..../app-fast",
    "rg%2F..%2Fx/app-fast",  # percent-encoding
    "rg-apps/app%2Dfast",
    "%2E%2E/app-fast",
    "rg-apps/app-fast/%2E%2E",
    "\uff0e\uff0e/app-fast",  # fullwidth full stops
    "rg-apps\uff0fapp-fast",  # a fullwidth solidus: no '/' at all
    "rg\u2024/app-fast",  # one dot leader
    "rg\u200b/app-fast",  # zero-width space
    "rg-apps/\uff41pp-fast",  # a fullwidth letter in an app name
    "rg-apps/app-f\u0430st",  # a Cyrillic letter in an app name
    "rg-apps/app-fast\u0301",  # a combining mark
    "rg\u00b2/app-fast",  # a superscript digit is no DecimalDigitNumber
    "rg apps/app-fast",
    "rg\t/app-fast",
    "rg-apps/-app",
    "rg-apps/app-",
    "rg-apps/a",
    "rg-apps/" + "a" * 61,
    "rg-apps/app-fast/" + "s" * 60,
    "rg-apps/app-fast/s",
    "rg-apps/app_fast",
    "rg-apps/app.fast",
    "r" * 91 + "/app-fast",
    "/app-fast",
    "rg-apps/",
    "rg-apps//app-fast",
    "appconfig:../store-one",
    "appconfig:rg-apps/st.re-one",
    "appconfig:rg-apps/store-one/x",
    "appconfig:rg-apps/abcd",
    "appconfig:rg-apps/" + "s" * 51,
    "appconfig:rg-apps/st\uff4fre",
]


@pytest.mark.parametrize("entry", BAD_ENTRIES)
def test_a_name_azure_does_not_allow_is_refused_naming_the_entry(entry):
    with pytest.raises(NotRotatable) as refused:
        parse_consumers(f"rg-apps/app-ok,{entry}")
    message = refused.value.message
    assert "entry 2" in message and ("breaks Azure's naming rules" in message or "separated by '/'" in message)


@pytest.mark.parametrize(
    ("entry", "consumer"),
    [
        ("rg.with.periods/app-fast", Consumer("rg.with.periods", "app-fast")),
        ("rg_(x)-1/app-fast/staging", Consumer("rg_(x)-1", "app-fast", "staging")),
        ("RG-Apps/App-Fast/-stage-", Consumer("RG-Apps", "App-Fast", "-stage-")),
        ("r/ab", Consumer("r", "ab")),
        ("\u0440\u0433-apps/app-fast", Consumer("\u0440\u0433-apps", "app-fast")),  # letters, in Cyrillic
        ("rg\u0663/app-fast", Consumer("rg\u0663", "app-fast")),  # an Arabic-Indic digit (Nd)
        ("r" * 90 + "/" + "a" * 60, Consumer("r" * 90, "a" * 60)),
    ],
)
def test_names_azure_allows_are_accepted(entry, consumer):
    """Microsoft's rule for resource groups is Char.IsLetterOrDigit: letters beyond ASCII are a group of their own."""
    assert parse_consumers(entry).consumers == (consumer,)


@pytest.mark.parametrize("entry", ["../app-trick", "rg-apps./app-fast", "rg%2F..%2Fx/app-fast", "\uff0e\uff0e/app"])
def test_a_traversal_in_the_tag_refuses_the_rotation_before_any_call(cloud, entry):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": f"rg-apps/app-fast,{entry}"})
    cloud.appservice.create_app("app-trick", {"STORAGE": REFERENCE}, resource_group="rg-other")
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "force": True})
    assert status == 422 and "entry 2" in body["error"]["message"], body
    helpers.assert_nothing_written(cloud)
    assert [call for call in cloud.calls() if "/Microsoft.Web/" in call.path] == []


def test_a_look_alike_group_is_called_as_itself_never_as_the_group_it_resembles(cloud):
    """A Cyrillic look-alike of 'rg-apps' is another group: its path is percent-encoded, as the SDK sends it."""
    look_alike = "\u0440\u0433-apps"
    helpers.enroll_storage(cloud, extra_tags={"Consumers": f"{look_alike}/app-fast"})
    app = cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})  # in rg-apps
    before = app.active["appsettings/STORAGE"]
    status, body = _rotate()
    assert status == 200 and body["consumers"][0]["state"] == "unreachable", body
    web = [call.path for call in cloud.calls() if "/Microsoft.Web/" in call.path]
    assert web and all("/resourceGroups/%D1%80%D0%B3-apps/" in path for path in web), web
    assert app.active["appsettings/STORAGE"] == before  # rg-apps/app-fast was never refreshed


def test_a_registry_entry_is_held_to_the_same_names(cloud):
    with pytest.raises(NotRotatable, match=r"registry entry .* entry 3 is '\.\./app-trick'"):
        parse_entries(["rg/app-one", "rg/app-two", "../app-trick"], "The registry entry of secret 's'")


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
        helpers.sweep()
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


# 5. a consumer named twice -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "position", "first"),
    [
        ("rg/app-a,rg/app-b,rg/app-a", 3, 1),
        ("rg/app-a,RG/App-A", 2, 1),
        ("rg/app-a/staging,rg/app-b,rg/app-a/STAGING", 3, 1),
        ("appconfig:rg/store-one,rg/app-a,appconfig:rg/Store-One", 3, 1),
        ("rg/app-a, rg/app-b ,rg/app-c,rg/app-b", 4, 2),
    ],
)
def test_a_consumer_named_twice_is_refused_naming_both_positions(cloud, raw, position, first):
    with pytest.raises(NotRotatable, match=f"entry {position} .* names the same consumer as entry {first}"):
        parse_consumers(raw)
    helpers.enroll_storage(cloud, extra_tags={"Consumers": raw})
    status, body = _rotate()
    assert status == 422 and f"entry {position}" in body["error"]["message"], body
    helpers.assert_nothing_written(cloud)


def test_the_same_app_in_another_slot_or_group_is_not_a_duplicate():
    declared = parse_consumers("rg/app-a,rg/app-a/staging,rg-b/app-a,appconfig:rg/app-a1")
    assert len(declared.consumers) == 4
