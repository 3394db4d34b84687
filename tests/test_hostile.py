"""Hostile input, drifted tags and slow dependencies: refused clearly, nothing written, the rest goes on.

Each class of input is tried with several values; every refusal is checked for its message,
for no write to Azure, and (where a vault is involved) for the other secrets still rotating.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import azure.functions as func
import pytest

from rotators.core import settings
from rotators.core.errors import ConfigurationError, RotationError
from rotators.core.records import PairRecord
from tests import helpers
from tests.helpers import VAULT

# str.isdigit() and int() accept these; Key Vault tags are free text.
NOT_ASCII_NUMBERS = ["⁹⁰", "①", "٩٠", "\uff19\uff10", "90\u200b", "9 0", "+90", "0x5A", "9e1", ""]


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS)
def test_a_tag_that_only_looks_numeric_is_misconfigured_and_the_vault_still_rotates(cloud, caplog, raw):
    helpers.enroll_storage(cloud, secret="bad-days", account="stbad", validity=raw)
    helpers.enroll_storage(cloud, secret="good", account="stgood")
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "bad-days", "force": True})
    assert status == 422 and "ValidityPeriodDays" in body["error"]["message"]
    helpers.assert_nothing_written(cloud)

    tally = _sweep_everything_due(cloud, ["bad-days", "good"])
    assert tally["misconfigured"] == 1 and tally["rotated"] == 1
    assert cloud.keyvault.current_secret(VAULT, "good").tags["CredentialId"] == "key2"
    assert len(cloud.keyvault.secret_versions(VAULT, "bad-days")) == 1


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ROTATION_MIN_INTERVAL_HOURS", "²⁴"),
        ("ROTATION_MIN_INTERVAL_HOURS", "٢٤"),
        ("ROTATION_HTTP_TIMEOUT_SECONDS", "nan"),
        ("ROTATION_HTTP_TIMEOUT_SECONDS", "1e1"),
        ("ROTATION_EVENT_BUDGET_SECONDS", "30"),
        ("ROTATION_HTTP_BUDGET_SECONDS", "inf"),
    ],
)
def test_settings_are_ascii_numbers_in_range(name, raw):
    with pytest.raises(ConfigurationError, match=name):
        settings.Settings.from_environ({name: raw})


@pytest.mark.parametrize(
    "tags",
    [
        {"CredentialId": "key1", "credentialid": "key2"},
        {"CredentialId": "key1", " CredentialId ": "key1"},
        {"ValidityPeriodDays": "90", "VALIDITYPERIODDAYS": "30"},
        {"ValueFormat": "Key", "valueformat": "ConnectionString"},
    ],
)
def test_tags_spelled_twice_are_ambiguous_and_refused(cloud, caplog, tags):
    account = cloud.storage.create_account("stapp")
    base = {"CredentialId": "key1", "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
    version = cloud.keyvault.seed_secret(
        VAULT, "twice", account.keys["key1"], tags={**base, **tags}, created=helpers.now() - timedelta(days=3)
    )
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "twice", "force": True})
    assert status == 422 and "ambiguous" in body["error"]["message"]
    for spelling in tags:
        assert repr(spelling) in body["error"]["message"]
    helpers.deliver(helpers.event(secret="twice", version=version))
    assert any("ambiguous" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    helpers.assert_nothing_written(cloud)


def test_a_slow_identity_endpoint_cannot_hold_a_trigger_past_its_budget(cloud, monkeypatch):
    version = helpers.enroll_storage(cloud)
    monkeypatch.setenv("ROTATION_EVENT_BUDGET_SECONDS", "3")
    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "3")
    settings.get_settings.cache_clear()
    cloud.inject("identity.token", delay=60, count=10)
    started = time.monotonic()
    with pytest.raises(RotationError) as failed:
        helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert failed.value.retryable
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 503, body
    # Liveness, not speed: without the deadline each call would wait out the endpoint's 60 s.
    assert time.monotonic() - started < 30
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 5_000, "not valid JSON"),
        (b'{"a":' * 2_000 + b"1" + b"}" * 2_000, "not valid JSON"),
        (b"[" * 100_000, "larger than"),
        (b"\xff\xfe\x00{", "not UTF-8"),
        (b'{"vaultName": "kv-app", "secretName": "s", "pad": "' + b"x" * 20_000 + b'"}', "larger than"),
        (b'{"vaultName": "kv\\r\\napp", "secretName": "s"}', "is invalid"),
        (b'{"vaultUrl": "https://[::1/", "secretName": "s"}', "not a Key Vault URL"),
        (b'{"vaultUrl": "https://kv-app.vault.azure.net:8443", "secretName": "s"}', "not a Key Vault URL"),
        (b'{"vaultUrl": "https://user@kv-app.vault.azure.net", "secretName": "s"}', "not a Key Vault URL"),
        ('{"vaultName": "\uff4b\uff56-app", "secretName": "s"}'.encode(), "is invalid"),
        (b'{"vaultName": "kv-app", "secretName": "s\\nx"}', "is invalid"),
    ],
)
def test_malformed_http_bodies_are_400_never_a_traceback(cloud, raw, message):
    status, body = helpers.post_rotate(raw=raw)
    assert status == 400 and message in body["error"]["message"], body
    assert cloud.calls() == []


@pytest.mark.parametrize(
    "event_id",
    [
        "https://[::1/secrets/a/b",
        "https://kv-app.vault.azure.net/secrets/a%2F..%2Fb/v1",
        "https://kv-app.vault.azure.net:444/secrets/a/v1",
        "https://kv-app.vault.azure.net/secrets/a/v1?x=1",
        "https://kv-app.vault.azure.net/secrets/a\n/v1",
        "https://kv-app.vault.azure.net.evil.example/secrets/a/v1",
        "https://kv-app.vault.azure.net@evil.example/secrets/a/v1",
        "x" * 10_000,
    ],
)
def test_unparseable_event_ids_are_permanent_refusals(cloud, caplog, event_id):
    event = func.EventGridEvent(
        id="hostile",
        data={"Id": event_id},
        topic="",
        subject="a",
        event_type="Microsoft.KeyVault.SecretNearExpiry",
        event_time=None,
        data_version="1",
    )
    helpers.deliver(event)  # returns: a permanent refusal is not redelivered
    assert cloud.calls() == []
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("BadRequest" in line for line in errors) and all(len(line) < 1000 for line in errors)


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'"a string"',
        b'{"owner": "kv-app/s"}',
        b'{"owner": {"vaultUrl": 5, "name": "s"}}',
        b'{"rotation": {"baseVersion": 5, "target": "key2", "targetKey": "key2", "phase": "started",'
        b' "startedAt": "2026-01-01T00:00:00+00:00", "keyBefore": "s$d"}}',
        b'{"rotation": {"baseVersion": "v", "target": "key2", "targetKey": "key2", "phase": "finished",'
        b' "startedAt": "2026-01-01T00:00:00+00:00", "keyBefore": "s$d"}}',
        b'{"rotation": {"baseVersion": "v", "target": "key2", "targetKey": "key2", "phase": "started",'
        b' "startedAt": "yesterday", "keyBefore": "s$d"}}',
        b'{"rotation": {"baseVersion": "v", "target": "key2", "targetKey": "key2", "phase": "started",'
        b' "startedAt": "2026-01-01T00:00:00", "keyBefore": "s$d"}}',
        b'{"rotation": {"baseVersion": "v", "target": "key2", "targetKey": "key2", "phase": "started",'
        b' "startedAt": "2026-01-01T00:00:00+00:00", "keyBefore": "s$d", "accepted": "yes"}}',
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"\xff\xfe",
    ],
)
def test_records_of_the_wrong_shape_are_ignored_with_a_warning(raw, caplog):
    with caplog.at_level(logging.WARNING, logger="rotators"):
        assert PairRecord.from_json(raw) == PairRecord()
    assert any("unexpected shape" in r.getMessage() for r in caplog.records)


def test_a_rotation_finds_a_garbled_record_and_rebuilds_from_azure(cloud, azurite):
    helpers.enroll_storage(cloud)
    blob = helpers.record_blob(cloud, azurite.connection_string, "storage-key")
    from rotators.adapters import clients

    clients.lock_container()
    blob.upload_blob(b'{"owner": [1, 2], "rotation": {"phase": {"x": 1}}}', overwrite=True)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated"
    helpers.holds_live_key(cloud, "storage-key")
    assert helpers.regenerations(cloud) == 1


@pytest.mark.parametrize(
    ("allowlist", "entry"),
    [
        ("*", "'*'"),
        ("kv-app,*", "'*'"),
        ("kv-app.vault.azure.net", "'kv-app.vault.azure.net'"),
        ("kv-app,,kv-other", "entry 2 ('')"),
        ("kv-app, ", "entry 2 ('')"),
        ("kv_app", "'kv_app'"),
        ("https://evil.example", "'https://evil.example'"),
        ("http://kv-app.vault.azure.net", "'http://kv-app.vault.azure.net'"),
        ("https://kv-app.vault.azure.net/secrets/x", "'https://kv-app.vault.azure.net/secrets/x'"),
        ("kv-app;kv-other", "'kv-app;kv-other'"),
    ],
)
def test_allowlist_entries_are_validated_and_nothing_is_called(cloud, monkeypatch, allowlist, entry):
    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", allowlist)
    settings.get_settings.cache_clear()
    version = helpers.enroll_storage(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 500 and body["error"]["code"] == "ConfigurationError"
    assert entry in body["error"]["message"] and "ROTATION_ALLOWED_VAULTS" in body["error"]["message"]
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    with pytest.raises(ConfigurationError):
        helpers.sweep()
    assert [(call.method, call.host, call.route) for call in cloud.calls()] == []


def test_an_allowed_name_in_one_cloud_does_not_allow_it_in_another(cloud, monkeypatch, caplog):
    china = "https://kv-app.vault.azure.cn"
    event = helpers.event(secret="s", version="v1", vault_url=china)
    helpers.deliver(event)  # ROTATION_ALLOWED_VAULTS=kv-app names the public cloud's vault only
    assert cloud.calls() == []
    assert any("is not in ROTATION_ALLOWED_VAULTS" in r.getMessage() for r in caplog.records)
    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", f"{china}/")
    settings.get_settings.cache_clear()
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 403 and body["error"]["code"] == "VaultNotAllowed"
    assert settings.get_settings().allowed_vaults == {helpers.vault_address(china)}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda rid: rid.replace("/resourceGroups/", "/resourceGroups/../resourceGroups/"),
        lambda rid: rid.replace("/providers/", "//providers/"),
        lambda rid: rid + "/",
        lambda rid: rid + "/blobServices/default",
        lambda rid: rid.replace("/stapp", "/st%2Fapp"),
        lambda rid: rid.replace("/stapp", "/st..app"),
        lambda rid: rid.replace("/stapp", "/stapp?api-version=1"),
        lambda rid: rid.replace("/stapp", "/stapp#x"),
        lambda rid: rid.replace("/stapp", "/st app"),
        lambda rid: rid.replace("/stapp", "/\uff53\uff54app"),
        lambda rid: rid.replace("00000000-0000-0000-0000-000000000001", "sub"),
        lambda rid: " " + rid.replace("/subscriptions/", "/subscriptions/%2E%2E/"),
        lambda rid: rid.replace("/", "\\"),
    ],
)
def test_resource_ids_must_be_canonical_before_any_arm_call(cloud, mangle):
    account = cloud.storage.create_account("stapp")
    tags = {"CredentialId": "key1", "ProviderAddress": mangle(account.id), "ValidityPeriodDays": "90"}
    cloud.keyvault.seed_secret(
        VAULT, "odd-id", account.keys["key1"], tags=tags, created=helpers.now() - timedelta(days=3)
    )
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "odd-id", "force": True})
    assert status == 422 and "ProviderAddress" in body["error"]["message"], body
    assert [c for c in cloud.calls() if c.host == "management.azure.com"] == []
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize(
    ("event_id", "credential"),
    [
        ("forged\r\nERROR rotators: vault wiped", "key1"),
        ("ok", "key3\nINFO rotators.workflows.rotation Rotated secret everything"),
        ("ok", "key3\u2028INFO forged"),
        ("tab\there\x1b[31mred", "key3\x00"),
    ],
)
def test_log_lines_cannot_be_forged(cloud, caplog, event_id, credential):
    account = cloud.storage.create_account("stapp")
    tags = {"CredentialId": credential, "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
    version = cloud.keyvault.seed_secret(VAULT, "forge", "x", tags=tags, created=helpers.now() - timedelta(days=3))
    raw = json.loads((helpers.EVENTS / "secret_event_eventgrid.json").read_text())
    raw["data"]["Id"] = f"{helpers.VAULT_URL}/secrets/forge/{version}"
    event = func.EventGridEvent(
        id=event_id,
        data=raw["data"],
        topic="",
        subject="forge",
        event_type="Microsoft.KeyVault.SecretNearExpiry",
        event_time=None,
        data_version="1",
    )
    helpers.deliver(event)
    helpers.post_rotate({"vaultName": VAULT, "secretName": "forge"})
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("rotators")]
    assert ours and not [line for line in ours if any(c in line for c in "\r\n\x00\x1b\t\u2028")]


def _sweep_everything_due(cloud, names: list[str]) -> dict[str, int]:
    from rotators.workflows.sweep import sweep

    for name in names:
        cloud.keyvault.current_secret(VAULT, name).expires = int((helpers.now() + timedelta(days=2)).timestamp())
    return dict(sweep())
