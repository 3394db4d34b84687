"""End to end through the real function handlers, against the stand-in and Azurite."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from rotators.errors import TransientError
from tests import helpers
from tests.helpers import VAULT


def current(cloud, name):
    return cloud.current_secret(VAULT, name)


def test_storage_rotates_key1_key2_key1_a_day_apart(cloud):
    account = cloud.create_storage_account("stapp")
    version = helpers.enroll_storage(cloud)
    key1_before = account.keys["key1"]

    helpers.deliver(helpers.event(secret="storage-key", version=version))
    first = current(cloud, "storage-key")
    assert first.tags["CredentialId"] == "key2" and first.value == account.keys["key2"]
    assert account.keys["key1"] == key1_before, "the key the app holds must survive the rotation"
    assert first.expires - first.created == pytest.approx(timedelta(days=90).total_seconds(), abs=5)
    assert first.tags["ProviderAddress"] == account.id and first.tags["ValidityPeriodDays"] == "90"

    helpers.age_current_version(cloud, "storage-key", timedelta(hours=25))
    key2_live = account.keys["key2"]
    helpers.deliver(helpers.event(secret="storage-key", version=first.version))
    second = current(cloud, "storage-key")
    assert second.tags["CredentialId"] == "key1" and second.value == account.keys["key1"] != key1_before
    assert account.keys["key2"] == key2_live
    assert [r.path.rsplit("/", 1)[1] for r in cloud.calls("storage.regenerate_key")] == ["regenerateKey"] * 2
    assert len(cloud.secret_versions(VAULT, "storage-key")) == 3


@pytest.mark.parametrize(
    ("credential", "target"),
    [
        ("primary", "secondary"),
        ("secondary", "primary"),
        ("primaryReadonly", "secondaryReadonly"),
        ("secondaryReadonly", "primaryReadonly"),
        ("key1", "key2"),
    ],
)
def test_cosmos_rotates_each_pair(cloud, credential, target):
    account = cloud.create_cosmos_account("cosmos-app")
    version = helpers.enroll_cosmos(cloud, credential=credential)
    kind = {"key1": "primary", "key2": "secondary"}.get(credential, credential)
    held = account.keys[kind]
    helpers.deliver(helpers.event(secret="cosmos-key", version=version))
    written = current(cloud, "cosmos-key")
    target_kind = {"key2": "secondary"}.get(target, target)
    assert written.tags["CredentialId"] == target and written.value == account.keys[target_kind]
    assert account.keys[kind] == held
    readonly_route = "cosmos.readonly_keys" if "Readonly" in credential else "cosmos.list_keys"
    assert helpers.calls(cloud, readonly_route) == 1
    assert {r.status for r in cloud.calls("cosmos.operation_status")} == {200}


def test_connection_string_values(cloud):
    storage = cloud.create_storage_account("stconn")
    cosmos = cloud.create_cosmos_account("cosmos-conn")
    fmt = {"ValueFormat": "ConnectionString"}
    helpers.enroll_storage(cloud, secret="st-conn", account="stconn", extra_tags=fmt)
    helpers.enroll_cosmos(cloud, secret="cosmos-conn", account="cosmos-conn", extra_tags=fmt)
    for name in ("st-conn", "cosmos-conn"):
        assert helpers.post_rotate({"vaultName": VAULT, "secretName": name})[0] == 200
    assert current(cloud, "st-conn").value == (
        f"DefaultEndpointsProtocol=https;AccountName=stconn;AccountKey={storage.keys['key2']};"
        "EndpointSuffix=core.windows.net"
    )
    assert current(cloud, "cosmos-conn").value == (
        f"AccountEndpoint=https://cosmos-conn.documents.azure.com:443/;AccountKey={cosmos.keys['secondary']};"
    )
    assert current(cloud, "cosmos-conn").tags["ValueFormat"] == "ConnectionString"


def test_content_type_and_unknown_tags_are_carried_over(cloud):
    account = cloud.create_storage_account("stapp")
    cloud.seed_secret(
        VAULT,
        "typed",
        account.keys["key2"],
        content_type="text/plain",
        created=helpers.now() - timedelta(days=2),
        tags={"credentialid": "key2", "ProviderAddress": account.id, "ValidityPeriodDays": "30", "owner": "team-a"},
    )
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "typed"})
    assert status == 200 and body["newCredential"] == "key1"
    written = current(cloud, "typed")
    assert written.content_type == "text/plain"
    assert written.tags == {
        "credentialid": "key1",
        "ProviderAddress": account.id,
        "ValidityPeriodDays": "30",
        "owner": "team-a",
    }


def test_short_validity_is_accepted_with_a_warning(cloud, caplog):
    version = helpers.enroll_storage(cloud, validity="30")
    with caplog.at_level(logging.WARNING, logger="rotators"):
        helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert current(cloud, "storage-key").tags["CredentialId"] == "key2"
    assert any("ValidityPeriodDays of 30" in r.getMessage() for r in caplog.records)


def test_duplicate_and_stale_events_rotate_once(cloud):
    version = helpers.enroll_storage(cloud)
    event = helpers.event(secret="storage-key", version=version)
    for _ in range(3):
        helpers.deliver(event)
    helpers.deliver(helpers.event("Microsoft.KeyVault.SecretExpired", secret="storage-key", version=version))
    helpers.deliver(helpers.event(secret="storage-key", version="0" * 32))
    assert helpers.regenerations(cloud) == 1
    assert helpers.calls(cloud, "keyvault.set_secret") == 1


def test_secret_expired_rotates(cloud):
    version = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event("Microsoft.KeyVault.SecretExpired", secret="storage-key", version=version))
    assert current(cloud, "storage-key").tags["CredentialId"] == "key2"


@pytest.mark.parametrize(
    "event_type",
    [
        "Microsoft.KeyVault.SecretNewVersionCreated",
        "Microsoft.KeyVault.KeyNearExpiry",
        "Microsoft.Storage.BlobCreated",
        "",
    ],
)
def test_other_event_types_are_ignored_without_calling_azure(cloud, event_type):
    version = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event(event_type, secret="storage-key", version=version))
    assert cloud.calls() == []


def test_cloudevents_schema(cloud):
    version = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event(secret="storage-key", version=version, schema="cloudevents"))
    assert current(cloud, "storage-key").tags["CredentialId"] == "key2"


def test_cool_down_holds_events_and_http_until_forced(cloud):
    account = cloud.create_storage_account("stapp")
    version = helpers.enroll_storage(cloud, age=timedelta(hours=3))
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and body["error"]["code"] == "CoolingDown"
    assert "3.0 h" in body["error"]["message"] and "force" in body["error"]["message"]
    helpers.assert_nothing_written(cloud)

    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "force": True})
    assert status == 200 and body["status"] == "rotated" and body["reason"].startswith("forced")
    assert current(cloud, "storage-key").value == account.keys["key2"]


def test_cool_down_follows_the_setting(cloud, monkeypatch):
    from rotators.config import get_settings

    monkeypatch.setenv("ROTATION_MIN_INTERVAL_HOURS", "2")
    get_settings.cache_clear()
    helpers.enroll_storage(cloud, age=timedelta(hours=3))
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200


def test_dry_run_plans_without_writing(cloud):
    version = helpers.enroll_storage(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "dryRun": True})
    assert status == 200
    assert body["status"] == "planned" and body["previousCredential"] == "key1" and body["newCredential"] == "key2"
    assert body["previousVersion"] == version and body["newVersion"] is None and "regenerate key2" in body["reason"]
    helpers.assert_nothing_written(cloud)


def test_http_accepts_the_samples_query_parameters(cloud):
    helpers.enroll_storage(cloud)
    status, body = helpers.post_rotate(params={"KeyVaultName": VAULT, "SecretName": "storage-key"})
    assert status == 200 and body["newCredential"] == "key2" and "value" not in body


def test_transient_failures_raise_so_event_grid_redelivers(cloud):
    version = helpers.enroll_storage(cloud)
    cloud.inject("storage.regenerate_key", status=503, count=10)
    with pytest.raises(TransientError):
        helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert current(cloud, "storage-key").version == version
    cloud.faults.clear()
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert current(cloud, "storage-key").tags["CredentialId"] == "key2"


def test_http_maps_upstream_failures(cloud):
    helpers.enroll_storage(cloud)
    cloud.inject("storage.regenerate_key", status=503, count=10)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 503 and body["error"]["code"] == "UpstreamUnavailable"
    cloud.faults.clear()
    cloud.inject("storage.regenerate_key", status=403)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 502 and "role assignments" in body["error"]["message"]


def test_credentials_and_clients_are_built_once_per_process(cloud):
    for index in range(3):
        helpers.enroll_storage(cloud, secret=f"reuse-{index}")
        assert helpers.post_rotate({"vaultName": VAULT, "secretName": f"reuse-{index}"})[0] == 200
    audiences = sorted(r.audience for r in cloud.calls("identity.token"))
    assert audiences == ["https://management.azure.com", "https://vault.azure.net"]
