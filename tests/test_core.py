"""The pure core on plain values: contract, plan, events, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from rotators.core.assessment import State, assess_vault
from rotators.core.clouds import PUBLIC, VaultAddress
from rotators.core.contract import ValueFormat, read_contract, shared_key_pairs
from rotators.core.errors import BadRequest, ConfigurationError, NotRotatable, VaultNotAllowed
from rotators.core.events import parse_secret_event
from rotators.core.plan import Action, plan_rotation
from rotators.core.records import Phase, RotationRecord, SecretVersionInfo, fingerprint
from rotators.core.settings import Settings

SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-0000000000a1"
STORAGE = f"{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stapp"
COSMOS = f"{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-app"
NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


def tags(**overrides: str) -> dict[str, str]:
    base = {"CredentialId": "key1", "ProviderAddress": STORAGE, "ValidityPeriodDays": "90"}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


@pytest.mark.parametrize(
    ("address", "credential", "current", "alternate", "key"),
    [
        (STORAGE, "key1", "key1", "key2", "key2"),
        (STORAGE, "KEY2", "key2", "key1", "key1"),
        (STORAGE.upper().replace("SUBSCRIPTIONS", "subscriptions"), "key1", "key1", "key2", "key2"),
        (COSMOS, "primary", "primary", "secondary", "secondary"),
        (COSMOS, "Secondary", "secondary", "primary", "primary"),
        (COSMOS, "primaryreadonly", "primaryReadonly", "secondaryReadonly", "secondaryReadonly"),
        (COSMOS, "secondaryReadonly", "secondaryReadonly", "primaryReadonly", "primaryReadonly"),
        (COSMOS, "key1", "key1", "key2", "secondary"),
        (COSMOS, "key2", "key2", "key1", "primary"),
    ],
)
def test_credential_pairs(address, credential, current, alternate, key):
    contract = read_contract(tags(ProviderAddress=address, CredentialId=credential), PUBLIC)
    assert (contract.credential.tag, contract.alternate.tag, contract.alternate.key) == (current, alternate, key)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"CredentialId": None}, "Tag 'CredentialId' is missing"),
        ({"CredentialId": " "}, "Tag 'CredentialId' is missing"),
        ({"CredentialId": "key3"}, "expected one of key1, key2 for a storage account"),
        ({"CredentialId": "primary"}, "expected one of key1, key2"),
        ({"ProviderAddress": None}, "Tag 'ProviderAddress' is missing"),
        ({"ProviderAddress": "stapp"}, "expected an ARM resource ID"),
        (
            {"ProviderAddress": STORAGE + "/blobServices/default"},
            "Microsoft.Storage/storageAccounts/blobServices resource",
        ),
        (
            {"ProviderAddress": STORAGE.replace("Microsoft.Storage/storageAccounts", "Microsoft.Web/sites")},
            "Microsoft.Web/sites resource; supported: Microsoft.Storage/storageAccounts",
        ),
        ({"ValidityPeriodDays": None}, "Tag 'ValidityPeriodDays' is missing"),
        ({"ValidityPeriodDays": "ninety"}, "whole number of days from 1 to 3650"),
        ({"ValidityPeriodDays": "0"}, "whole number of days from 1 to 3650"),
        ({"ValidityPeriodDays": "3651"}, "whole number of days from 1 to 3650"),
        ({"ValidityPeriodDays": "-5"}, "whole number of days from 1 to 3650"),
        ({"ValidityPeriodDays": "1.5"}, "whole number of days from 1 to 3650"),
        ({"ValueFormat": "pem"}, "Tag 'ValueFormat' is 'pem'; expected Key or ConnectionString"),
    ],
)
def test_invalid_tags_name_the_tag_and_the_expected_value(overrides, message):
    with pytest.raises(NotRotatable) as refused:
        read_contract(tags(**overrides), PUBLIC)
    assert message in refused.value.message
    assert refused.value.status == 422


def test_tag_names_and_values_are_matched_loosely_and_value_format_defaults_to_key():
    contract = read_contract({"credentialid": " key2 ", "PROVIDERADDRESS": STORAGE, "validityPeriodDays": "7"}, PUBLIC)
    assert contract.credential.tag == "key2" and contract.validity == timedelta(days=7)
    assert contract.value_format is ValueFormat.KEY and contract.expires_within_near_expiry_window
    assert read_contract(tags(ValueFormat="connectionstring"), PUBLIC).value_format is ValueFormat.CONNECTION_STRING


def secret(created: datetime, version: str = "v1") -> SecretVersionInfo:
    return SecretVersionInfo("s", version, created, None, tags(), None)


CONTRACT = read_contract(tags(), PUBLIC)
DAY = timedelta(hours=24)


def test_plan_rotates_the_alternate_after_the_cool_down():
    plan = plan_rotation(secret(NOW - timedelta(hours=25)), CONTRACT, now=NOW, min_interval=DAY)
    assert plan.action is Action.ROTATE and plan.target.tag == "key2" and plan.current.tag == "key1"
    assert plan.expires_on == NOW + timedelta(days=90)


def test_plan_skips_stale_events_before_anything_else():
    plan = plan_rotation(
        secret(NOW - timedelta(days=9)), CONTRACT, now=NOW, min_interval=DAY, event_version="old", force=True
    )
    assert plan.action is Action.STALE and "old" in plan.reason


def test_plan_holds_off_inside_the_cool_down_unless_forced():
    young = secret(NOW - timedelta(hours=2))
    held = plan_rotation(young, CONTRACT, now=NOW, min_interval=DAY)
    assert held.action is Action.COOLING_DOWN and "apps may still hold key2" in held.reason
    forced = plan_rotation(young, CONTRACT, now=NOW, min_interval=DAY, force=True)
    assert forced.action is Action.ROTATE and forced.reason.startswith("forced")


def test_plan_resumes_an_interrupted_rotation_even_inside_the_cool_down():
    current = secret(NOW - timedelta(hours=1))
    record = RotationRecord("v1", "key2", Phase.REGENERATED, NOW, "salt$digest")
    plan = plan_rotation(current, CONTRACT, now=NOW, min_interval=DAY, record=record)
    assert plan.action is Action.ROTATE and plan.resume == record
    for finished in (
        RotationRecord("v0", "key2", Phase.REGENERATED, NOW, "s$d"),
        RotationRecord("v1", "key2", Phase.WRITTEN, NOW, "s$d"),
        RotationRecord("v1", "key1", Phase.STARTED, NOW, "s$d"),
    ):
        plan = plan_rotation(current, CONTRACT, now=NOW, min_interval=DAY, record=finished)
        assert plan.action is Action.COOLING_DOWN and plan.resume is None


def test_event_parsing_survives_real_world_payloads():
    event = parse_secret_event(
        "e1",
        "Microsoft.KeyVault.SecretNearExpiry",
        {
            " Id ": " https://kv-app.vault.azure.net/secrets/app-key/0123abcd ",
            "NBF": None,
            "EXP": 1.757952762e9,
            "ObjectType ": "Secret",
        },
    )
    assert (event.vault.url, event.vault.name, event.secret_name, event.version) == (
        "https://kv-app.vault.azure.net",
        "kv-app",
        "app-key",
        "0123abcd",
    )
    assert event.expires_on == datetime.fromtimestamp(1757952762, tz=timezone.utc) and event.rotates
    china = parse_secret_event("e2", "x", {"Id": "https://kv-cn.vault.azure.cn/secrets/a/b1", "EXP": "bad"})
    assert china.vault.cloud.arm_endpoint == "https://management.chinacloudapi.cn" and china.expires_on is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({}, "no 'Id'"),
        ({"Id": "https://kv-app.evil.example/secrets/a/b"}, "not a Key Vault URL"),
        ({"Id": "http://kv-app.vault.azure.net/secrets/a/b"}, "not a Key Vault URL"),
        ({"Id": "https://kv-app.vault.azure.net/keys/a/b"}, "not a versioned secret URL"),
        ({"Id": "https://kv-app.vault.azure.net/secrets/a"}, "not a versioned secret URL"),
        ({"Id": "https://kv-app.vault.azure.net/secrets/a/b", "ObjectType": "Key"}, "not 'Secret'"),
    ],
)
def test_malformed_events_are_refused_with_the_field_named(data, message):
    with pytest.raises(BadRequest) as refused:
        parse_secret_event("e", "Microsoft.KeyVault.SecretNearExpiry", data)
    assert message in refused.value.message


def test_settings_fail_closed_and_validate_numbers():
    vault = VaultAddress.from_name("kv-app")
    with pytest.raises(ConfigurationError):
        Settings.from_environ({}).check_vault(vault)
    with pytest.raises(VaultNotAllowed):
        Settings.from_environ({"ROTATION_ALLOWED_VAULTS": "kv-other"}).check_vault(vault)
    Settings.from_environ({"ROTATION_ALLOWED_VAULTS": " KV-App , kv-other"}).check_vault(vault)
    assert Settings.from_environ({"ROTATION_MIN_INTERVAL_HOURS": "48"}).min_interval == timedelta(hours=48)
    for bad in ("abc", "-1", "99999"):
        with pytest.raises(ConfigurationError, match="ROTATION_MIN_INTERVAL_HOURS"):
            Settings.from_environ({"ROTATION_MIN_INTERVAL_HOURS": bad})


@pytest.mark.parametrize("name", ["", "ab", "1vault", "kv_app", "a" * 25, None, 5])
def test_vault_names_are_validated(name):
    with pytest.raises(BadRequest):
        VaultAddress.from_name(name)


def test_key_fingerprints_tell_a_changed_key_without_holding_it():
    before = fingerprint("old-key-value")
    record = RotationRecord("v1", "key2", Phase.STARTED, NOW, before)
    assert "old-key-value" not in before and before != fingerprint("old-key-value")
    assert not record.key_changed("old-key-value") and record.key_changed("new-key-value")


def test_an_unanswered_request_settles_once_every_retry_and_azure_are_done_with_it():
    settings = Settings.from_environ({"ROTATION_HTTP_TIMEOUT_SECONDS": "30"})
    settle = settings.request_settle
    assert settings.call_budget_seconds == 120 and settle == timedelta(minutes=3)
    asked = RotationRecord("v1", "key2", Phase.STARTED, NOW, "s$d", requested_at=NOW)
    assert asked.resend_after(settle) == NOW + timedelta(minutes=3)
    assert replace(asked, requested_at=None).resend_after(settle) is None


def test_rotation_records_survive_the_blob_round_trip():
    record = RotationRecord("v1", "key2", Phase.STARTED, NOW, "s$d", operation="token", requested_at=NOW)
    assert RotationRecord.from_json(record.to_json()) == record
    unasked = replace(record, requested_at=None)
    assert RotationRecord.from_json(unasked.to_json()) == unasked
    assert RotationRecord.from_json(b"{not json") is None and RotationRecord.from_json(b"") is None


def test_secrets_sharing_a_key_pair_are_found_whatever_the_spelling():
    contracts = {
        "a": read_contract(tags(), PUBLIC),
        "b": read_contract(
            tags(CredentialId="KEY2", ProviderAddress=STORAGE.upper().replace("SUBSCRIPTIONS", "subscriptions")), PUBLIC
        ),
        "c": read_contract(tags(ProviderAddress=COSMOS, CredentialId="primary"), PUBLIC),
        "d": read_contract(tags(ProviderAddress=COSMOS, CredentialId="primaryReadonly"), PUBLIC),
        # "key2" is the Cosmos DB rotation sample's name for secondary.
        "e": read_contract(tags(ProviderAddress=COSMOS, CredentialId="key2"), PUBLIC),
    }
    assert shared_key_pairs(contracts) == {"a": ["b"], "b": ["a"], "c": ["e"], "e": ["c"]}


def test_assessing_a_vault_marks_secrets_sharing_a_key_pair_misconfigured():
    listed = [
        SecretVersionInfo("one", "v1", NOW - 3 * DAY, NOW + 60 * DAY, tags(), None),
        SecretVersionInfo("two", "v1", NOW - 3 * DAY, NOW + 60 * DAY, tags(CredentialId="key2"), None),
        SecretVersionInfo(
            "own", "v1", NOW - 3 * DAY, NOW + 60 * DAY, tags(ProviderAddress=COSMOS, CredentialId="primary"), None
        ),
        SecretVersionInfo("plain", "v1", NOW, None, {}, None),
    ]
    states = {a.secret.name: (a.state, a.reason) for a in assess_vault(listed, PUBLIC, now=NOW, min_interval=DAY)}
    assert states["own"] == (State.OK, "")
    assert (
        states["one"][0] is State.MISCONFIGURED
        and "Secrets 'one' and 'two' both rotate the key1/key2 pair of stapp" in states["one"][1]
    )
    assert states["two"][0] is State.MISCONFIGURED and "plain" not in states
