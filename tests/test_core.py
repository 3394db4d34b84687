"""The pure core on plain values: contract, plan, events, settings."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from rotators.core.assessment import State, assess_vault
from rotators.core.clouds import PUBLIC, VaultAddress
from rotators.core.contract import ValueFormat, read_contract, shared_key_pairs
from rotators.core.errors import BadRequest, ConfigurationError, NotRotatable, VaultNotAllowed
from rotators.core.events import parse_secret_event
from rotators.core.keys import Holding, KeyState, Step, holding, progress
from rotators.core.plan import Action, Planning
from rotators.core.records import PairRecord, RotationRecord, SecretRef, SecretVersionInfo, fingerprint
from rotators.core.settings import Settings
from rotators.kinds import KINDS

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
    contract = read_contract(tags(ProviderAddress=address, CredentialId=credential), PUBLIC, KINDS)
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
        read_contract(tags(**overrides), PUBLIC, KINDS)
    assert message in refused.value.message
    assert refused.value.status == 422


def test_tag_names_and_values_are_matched_loosely_and_value_format_defaults_to_key():
    contract = read_contract(
        {"credentialid": " key2 ", "PROVIDERADDRESS": STORAGE, "validityPeriodDays": "7"}, PUBLIC, KINDS
    )
    assert contract.credential.tag == "key2" and contract.validity == timedelta(days=7)
    assert contract.value_format is ValueFormat.KEY and contract.expires_within_near_expiry_window
    assert (
        read_contract(tags(ValueFormat="connectionstring"), PUBLIC, KINDS).value_format is ValueFormat.CONNECTION_STRING
    )


def secret(created: datetime, version: str = "v1") -> SecretVersionInfo:
    return SecretVersionInfo("s", version, created, None, tags(), None)


CONTRACT = read_contract(tags(), PUBLIC, KINDS)
DAY = timedelta(hours=24)


def test_plan_rotates_the_alternate_after_the_cool_down():
    plan = Planning(secret(NOW - timedelta(hours=25)), CONTRACT, now=NOW, min_interval=DAY).plan()
    assert plan.action is Action.ROTATE and plan.target.tag == "key2" and plan.current.tag == "key1"
    assert plan.expires_on == NOW + timedelta(days=90)


def test_plan_skips_stale_events_before_anything_else():
    plan = Planning(
        secret(NOW - timedelta(days=9)), CONTRACT, now=NOW, min_interval=DAY, event_version="old", force=True
    ).plan()
    assert plan.action is Action.STALE and "old" in plan.reason


def test_plan_holds_off_inside_the_cool_down_unless_forced():
    young = secret(NOW - timedelta(hours=2))
    held = Planning(young, CONTRACT, now=NOW, min_interval=DAY).plan()
    assert held.action is Action.COOLING_DOWN and "apps may still hold key2" in held.reason
    forced = Planning(young, CONTRACT, now=NOW, min_interval=DAY, force=True).plan()
    assert forced.action is Action.ROTATE and forced.reason.startswith("forced")


def test_plan_resumes_an_interrupted_rotation_even_inside_the_cool_down():
    current = secret(NOW - timedelta(hours=1))
    record = started()
    plan = Planning(current, CONTRACT, now=NOW, min_interval=DAY, record=record).plan()
    assert plan.action is Action.ROTATE and plan.resume == record
    # A rotation that wrote made a newer version current: its record's base is no longer the current version.
    for finished in (started(base_version="v0"), started(target="key1", target_key="key1")):
        plan = Planning(current, CONTRACT, now=NOW, min_interval=DAY, record=finished).plan()
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


def started(**changes) -> RotationRecord:
    base = SecretVersionInfo("s", "v1", NOW - DAY, None, {}, None)
    record = RotationRecord.start(base, CONTRACT.alternate, key_before="old-key", generated_before="t0", at=NOW)
    return replace(record, **changes)


def test_key_fingerprints_tell_a_changed_key_without_holding_it():
    record = started()
    assert "old-key" not in record.key_before and record.key_before != fingerprint("old-key")
    assert not record.key_changed("old-key") and record.key_changed("new-key")


def test_an_unanswered_request_settles_after_six_read_timeouts():
    settings = Settings.from_environ({"ROTATION_HTTP_TIMEOUT_SECONDS": "30"})
    assert settings.call_budget_seconds == 120 and settings.request_settle == timedelta(minutes=3)


SETTLE, ACCEPTED = timedelta(minutes=3), timedelta(minutes=30)


@pytest.mark.parametrize(
    ("record", "value", "generated", "at", "step", "reason"),
    [
        # a changed value is proof, whatever else the record says
        (started(), "new-key", "t0", NOW, Step.REGENERATED, ""),
        (started(accepted=True), "new-key", "t1", NOW, Step.REGENERATED, ""),
        # Azure says it generated the key, but lists the old value: never ask again, never publish it
        (started(), "old-key", "t1", NOW + timedelta(days=1), Step.WAIT, "still lists its old value"),
        (started(generated_before=None), "old-key", "t1", NOW, Step.WAIT, "still lists its old value"),
        # nothing in flight: ask
        (started(requested_at=None), "old-key", "t0", NOW, Step.SEND, ""),
        (started(requested_at=None), "old-key", None, NOW, Step.SEND, ""),
        # an unanswered request may still take effect until it has settled
        (started(), "old-key", "t0", NOW + SETTLE - timedelta(seconds=1), Step.WAIT, "went unanswered"),
        (started(), "old-key", None, NOW + SETTLE, Step.SEND, ""),
        # an accepted operation runs on Azure's clock: ask again only much later (412 meanwhile)
        (started(accepted=True), "old-key", "t0", NOW + SETTLE, Step.WAIT, "runs it on its own clock"),
        (started(accepted=True), "old-key", "t0", NOW + ACCEPTED, Step.SEND, ""),
    ],
)
def test_progress_of_a_rotation_is_read_from_the_keys(record, value, generated, at, step, reason):
    state = KeyState({"key2": generated} if generated else {}, values={"key1": "live-key1", "key2": value})
    decided = progress(record, state, now=at, settle=SETTLE, accepted_settle=ACCEPTED)
    assert decided.step is step and reason in decided.reason


@pytest.mark.parametrize(
    ("held", "expected"),
    [("k1", Holding.CURRENT), ("k2", Holding.ALTERNATE), ("k3", Holding.NEITHER), (None, Holding.NEITHER)],
)
def test_holding_compares_the_value_with_both_keys(held, expected):
    assert holding(held, KeyState(values={"key1": "k1", "key2": "k2"}), "key1", "key2") is expected


def test_key_state_never_shows_its_values():
    assert "secret-value" not in repr(KeyState({"key1": "t"}, values={"key1": "secret-value"}))


def test_pair_records_survive_the_blob_round_trip():
    owner = SecretRef.of("https://KV-App.vault.azure.net/", "Storage-Key")
    record = PairRecord(owner, SecretRef.of("https://kv-b.vault.azure.cn", "other"), started(accepted=True))
    assert PairRecord.from_json(record.to_json()) == record
    assert (
        owner == SecretRef("https://kv-app.vault.azure.net", "storage-key") and str(owner) == "'storage-key' in kv-app"
    )
    unasked = PairRecord(owner, None, started(requested_at=None))
    assert PairRecord.from_json(unasked.to_json()) == unasked
    assert PairRecord.from_json(b"{not json") == PairRecord() and PairRecord.from_json(b"") == PairRecord()


def test_secrets_sharing_a_key_pair_are_found_whatever_the_spelling():
    contracts = {
        "a": read_contract(tags(), PUBLIC, KINDS),
        "b": read_contract(
            tags(CredentialId="KEY2", ProviderAddress=STORAGE.upper().replace("SUBSCRIPTIONS", "subscriptions")),
            PUBLIC,
            KINDS,
        ),
        "c": read_contract(tags(ProviderAddress=COSMOS, CredentialId="primary"), PUBLIC, KINDS),
        "d": read_contract(tags(ProviderAddress=COSMOS, CredentialId="primaryReadonly"), PUBLIC, KINDS),
        # "key2" is the Cosmos DB rotation sample's name for secondary.
        "e": read_contract(tags(ProviderAddress=COSMOS, CredentialId="key2"), PUBLIC, KINDS),
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
    states = {
        a.secret.name: (a.state, a.reason) for a in assess_vault(listed, PUBLIC, KINDS, now=NOW, min_interval=DAY)
    }
    assert states["own"] == (State.OK, "")
    assert (
        states["one"][0] is State.MISCONFIGURED
        and "Secrets 'one' and 'two' both rotate the key1/key2 pair of stapp" in states["one"][1]
    )
    assert states["two"][0] is State.MISCONFIGURED and "plain" not in states


def test_the_error_tree_in_the_errors_docstring_is_the_classes_tree():
    """core/errors.py draws its hierarchy (httpx's way): rendered here from the classes, so it cannot drift."""
    from rotators.core import errors

    def below(cls: type[errors.RotationError], lead: str) -> list[str]:
        children = [child for child in cls.__subclasses__() if child.__module__ == errors.__name__]
        lines = []
        for index, child in enumerate(children):
            last = index == len(children) - 1
            lines.append(f"{lead}{'└── ' if last else '├── '}{child.__name__} {child.status}")
            lines += below(child, lead + ("    " if last else "│   "))
        return lines

    tree = re.compile(r"^    (?P<lead>[│├└─ ]*)(?P<name>[A-Za-z]+) +(?P<status>\d{3})", re.M)
    drawn = [f"{m['lead']}{m['name']} {m['status']}" for m in tree.finditer(errors.__doc__ or "")]
    root = errors.RotationError
    assert drawn == [f"{root.__name__} {root.status}", *below(root, "")]
