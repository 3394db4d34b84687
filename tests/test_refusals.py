"""Bad input gets a precise error, the right status, and changes nothing."""

from __future__ import annotations

import pytest

from tests import helpers
from tests.helpers import VAULT

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def bad_tag_cases():
    return [
        ({"CredentialId": None}, "Tag 'CredentialId' is missing"),
        ({"CredentialId": "key3"}, "expected one of key1, key2"),
        ({"ProviderAddress": None}, "Tag 'ProviderAddress' is missing"),
        ({"ProviderAddress": "not-an-id"}, "expected an ARM resource ID"),
        (
            {"ProviderAddress": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Web/sites/app"},
            "Microsoft.Web/sites resource; supported",
        ),
        ({"ValidityPeriodDays": None}, "Tag 'ValidityPeriodDays' is missing"),
        ({"ValidityPeriodDays": "0"}, "from 1 to 3650"),
        ({"ValidityPeriodDays": "abc"}, "from 1 to 3650"),
        ({"ValueFormat": "Base64"}, "expected Key or ConnectionString"),
    ]


def seed(cloud, overrides):
    account = cloud.storage.create_account("stapp")
    tags = {"CredentialId": "key1", "ProviderAddress": account.id, "ValidityPeriodDays": "90", **overrides}
    return cloud.keyvault.seed_secret(
        VAULT,
        "bad",
        account.keys["key1"],
        tags={k: v for k, v in tags.items() if v is not None},
        created=helpers.now() - __import__("datetime").timedelta(days=3),
    )


@pytest.mark.parametrize(("overrides", "message"), bad_tag_cases())
def test_bad_tags_over_http_are_422_and_write_nothing(cloud, overrides, message):
    seed(cloud, overrides)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "bad", "force": True})
    assert status == 422 and body["error"]["code"] == "SecretNotRotatable"
    assert message in body["error"]["message"]
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize(("overrides", "message"), bad_tag_cases())
def test_bad_tags_on_an_event_are_logged_not_retried(cloud, caplog, overrides, message):
    version = seed(cloud, overrides)
    helpers.deliver(helpers.event(secret="bad", version=version))
    assert any(r.levelname == "ERROR" and message in r.getMessage() for r in caplog.records)
    helpers.assert_nothing_written(cloud)


def test_missing_resource_is_not_rotatable(cloud):
    account = cloud.storage.create_account("stapp")
    cloud.keyvault.seed_secret(
        VAULT,
        "gone",
        "x",
        tags={
            "CredentialId": "key1",
            "ValidityPeriodDays": "90",
            "ProviderAddress": account.id.replace("stapp", "stgone"),
        },
    )
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "gone", "force": True})
    assert status == 422 and "stgone" in body["error"]["message"]
    assert body["error"]["code"] == "ResourceNotFound"
    assert [r.status for r in cloud.calls() if r.host == "management.azure.com"] == [404]  # one read, no more
    helpers.assert_nothing_written(cloud)


def test_vault_not_allowed(cloud):
    cloud.keyvault.create_vault("kv-other")
    version = cloud.keyvault.seed_secret("kv-other", "s", "x")
    status, body = helpers.post_rotate({"vaultName": "kv-other", "secretName": "s"})
    assert status == 403 and body["error"] == {
        "code": "VaultNotAllowed",
        "message": "Vault 'kv-other' is not in ROTATION_ALLOWED_VAULTS.",
    }
    helpers.deliver(helpers.event(secret="s", version=version, vault_url="https://kv-other.vault.azure.net"))
    assert cloud.calls() == [], "the allowlist is checked before any call to Azure"


@pytest.mark.parametrize("value", [None, "", " , "])
def test_missing_allowlist_fails_closed(cloud, monkeypatch, caplog, value):
    from rotators.core.settings import get_settings

    if value is None:
        monkeypatch.delenv("ROTATION_ALLOWED_VAULTS")
    else:
        monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", value)
    get_settings.cache_clear()
    version = helpers.enroll_storage(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 500 and body["error"]["code"] == "ConfigurationError"
    assert "ROTATION_ALLOWED_VAULTS" in body["error"]["message"]
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert cloud.calls() == []
    assert any("ROTATION_ALLOWED_VAULTS" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_secret_not_found(cloud):
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "nope"})
    assert status == 404 and body["error"]["code"] == "SecretNotFound"
    helpers.deliver(helpers.event(secret="nope", version="a" * 32))
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"raw": b"{not json"}, "not valid JSON"),
        ({"raw": b"[1, 2]"}, "must be a JSON object"),
        ({"body": {"secretName": "s"}}, "Give 'vaultName' and 'secretName'"),
        ({"body": {"vaultName": VAULT}}, "Give 'vaultName' and 'secretName'"),
        ({"body": {"vaultName": "kv_bad!", "secretName": "s"}}, "Vault name 'kv_bad!' is invalid"),
        ({"body": {"vaultName": 42, "secretName": "s"}}, "Vault name 42 is invalid"),
        ({"body": {"vaultName": VAULT, "secretName": "a/b"}}, "Secret name 'a/b' is invalid"),
        ({"body": {"vaultName": VAULT, "secretName": "s", "force": "yes"}}, "'force' must be true or false"),
        ({"body": {"vaultName": VAULT, "secretName": "s", "dryRun": 1}}, "'dryRun' must be true or false"),
    ],
)
def test_malformed_http_requests_are_400(cloud, kwargs, message):
    status, body = helpers.post_rotate(**kwargs)
    assert status == 400 and body["error"]["code"] == "BadRequest" and message in body["error"]["message"]
    assert cloud.calls() == []


@pytest.mark.parametrize(
    "data",
    [{"Id": "https://kv-app.evil.example/secrets/s/v1"}, {"Id": "https://kv-app.vault.azure.net/secrets/s"}, {}],
)
def test_malformed_events_are_logged_and_dropped(cloud, caplog, data):
    import azure.functions as func

    event = func.EventGridEvent(
        id="bad",
        data=data,
        topic="",
        subject="s",
        event_type="Microsoft.KeyVault.SecretNearExpiry",
        event_time=None,
        data_version="1",
    )
    helpers.deliver(event)
    assert cloud.calls() == []
    assert any(r.levelname == "ERROR" and "BadRequest" in r.getMessage() for r in caplog.records)
