"""Consumers: after a rotation, every app the Consumers tag declares is asked to refresh its
Key Vault references and reports the version it runs; none of it can undo or fail the rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION
from rotators.core.consumers import Consumer, ConsumerKind, Declared, Reference, Standing, judge, parse_consumers
from rotators.core.errors import NotRotatable
from rotators.triggers.cli import FAILED, OK, REFUSED
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/storage-key/)"


def test_the_consumers_tag_reads_groups_apps_and_slots():
    assert parse_consumers(" rg-a/app-one, rg-b/app-two/staging, appconfig:rg-c/store-one ").consumers == (
        Consumer("rg-a", "app-one"),
        Consumer("rg-b", "app-two", "staging"),
        Consumer("rg-c", "store-one", kind=ConsumerKind.APP_CONFIGURATION),
    )
    assert not parse_consumers("") and not parse_consumers(None)
    assert parse_consumers(" @Registry ") == Declared(in_registry=True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("app-only", "entry 1"),
        ("rg/app,rg/-bad", "entry 2"),
        ("rg/app/slot/extra", "entry 1"),
        ("rg/app,rg/app", r"entry 2 \('rg/app'\) names the same consumer as entry 1"),
        ("rg/a", "entry 1"),  # App Service names have two characters at least
        (",".join(f"rg/app{i:02}" for i in range(21)), "at most 20; list more in the registry"),
        ("appconfig:rg/abc", "entry 1"),  # store names have five characters at least
        ("appconfig:rg/store-one,rg/app,appconfig:RG/Store-One", "entry 3 .* same consumer as entry 1"),
        ("registry", "entry 1"),
    ],
)
def test_a_bad_consumers_tag_is_refused_naming_the_entry(raw, message):
    with pytest.raises(NotRotatable, match=message):
        parse_consumers(raw)


def test_judging_a_consumer_s_references():
    consumer = Consumer("rg", "app")

    def ref(status: str = "Resolved", active: str | None = "v2", secret: str = "s") -> Reference:
        return Reference("SETTING", status, "kv", secret, None, active)

    assert judge(consumer, [ref()], "KV", "S", "v2").state is Standing.MOVED
    assert judge(consumer, [ref(active="v1")], "kv", "s", "v2").state is Standing.BEHIND
    failing = judge(consumer, [ref(status="AccessToKeyVaultDenied")], "kv", "s", "v2")
    assert failing.state is Standing.FAILING and "Key Vault Secrets User" in failing.detail
    assert judge(consumer, [ref(secret="other")], "kv", "s", "v2").state is Standing.UNREFERENCED


def _three_consumers(cloud) -> None:
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    slow = cloud.appservice.create_app("app-slow", {"STORAGE": REFERENCE}, slot="staging")
    slow.refresh_delay = 3600  # the refresh lands an hour later
    denied = cloud.appservice.create_app("app-denied", {"STORAGE": REFERENCE})
    denied.vault_access = False  # its identity lacks Key Vault Secrets User
    helpers.enroll_storage(
        cloud, extra_tags={"Consumers": "rg-apps/app-fast,rg-apps/app-slow/staging,rg-apps/app-denied"}
    )


@pytest.mark.parametrize("refresh_status", [200, 204])  # Microsoft's doc does not say which
def test_a_rotation_refreshes_each_consumer_and_reports_where_it_stands(cloud, refresh_status):
    cloud.appservice.refresh_status = refresh_status
    _three_consumers(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    states = {report["consumer"]: report for report in body["consumers"]}
    assert states["rg-apps/app-fast"]["state"] == "moved"
    assert states["rg-apps/app-slow/staging"]["state"] == "behind"
    assert states["rg-apps/app-denied"]["state"] == "failing"
    assert "Key Vault Secrets User" in states["rg-apps/app-denied"]["detail"]
    assert helpers.calls(cloud, "appservice.refresh") == 3
    new_version = cloud.keyvault.current_secret(VAULT, "storage-key").version
    assert cloud.appservice.apps["app-fast"].active["appsettings/STORAGE"] == new_version
    cloud.appservice.advance(3600)  # the slow app's refresh lands
    helpers.holds_live_key(cloud, "storage-key")


def test_the_old_version_stays_active_until_a_refresh_or_a_day(cloud):
    """The stand-in's App Service as Microsoft documents it: no refresh, no move for 24 hours."""
    helpers.enroll_storage(cloud)  # no Consumers tag: nobody is refreshed
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    app = cloud.appservice.create_app("app-idle", {"STORAGE": REFERENCE})
    assert app.active["appsettings/STORAGE"] == before
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    assert helpers.calls(cloud, "appservice.refresh") == 0
    cloud.appservice.settle(app)
    assert app.active["appsettings/STORAGE"] == before
    cloud.appservice.advance(86400)
    cloud.appservice.settle(app)
    assert app.active["appsettings/STORAGE"] == cloud.keyvault.current_secret(VAULT, "storage-key").version


@pytest.mark.parametrize("route", ["appservice.refresh", "appservice.list_references", "appconfigdata.put_key_value"])
def test_a_consumer_that_fails_never_fails_the_rotation(cloud, route):
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.appconfiguration.create("cfg-app", resource_group="rg-apps")
    consumers = "rg-apps/app-fast,rg-apps/app-gone" if route.startswith("appservice") else "appconfig:rg-apps/cfg-app"
    helpers.enroll_storage(cloud, extra_tags={"Consumers": consumers})
    cloud.inject(route, status=503, count=10)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert {report["state"] for report in body["consumers"]} == {"unreachable"}
    helpers.holds_live_key(cloud, "storage-key")


def test_a_bad_consumers_tag_refuses_the_rotation_before_any_write(cloud):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "just-an-app"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 422 and "Consumers" in body["error"]["message"], body
    helpers.assert_nothing_written(cloud)


# App Configuration stores ------------------------------------------------------------------


def _store(cloud, name: str = "cfg-app"):
    return cloud.appconfiguration.create(name, resource_group="rg-apps")


def test_a_store_gets_its_sentinel_set_after_the_write(cloud):
    _store(cloud)
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast,appconfig:rg-apps/cfg-app"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    states = {report["consumer"]: report["state"] for report in body["consumers"]}
    assert states == {"rg-apps/app-fast": "moved", "appconfig:rg-apps/cfg-app": "signalled"}
    sentinel = cloud.appconfigdata.get("cfg-app", "Sentinel")
    assert sentinel.value == f"kv-app/storage-key/{body['newVersion']}"  # names the version, never the key
    (call,) = cloud.calls("appconfigdata.put_key_value")
    assert call.audience == "https://azconfig.io"


def test_a_store_the_function_may_not_write_is_reported_and_the_sweep_signals_it_later(cloud, monkeypatch):
    monkeypatch.setenv("ROTATION_APPCONFIG_SENTINEL", "Settings:Sentinel")
    _store(cloud)
    cloud.appconfigdata.denied.add("cfg-app")  # no App Configuration Data Owner yet
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "appconfig:rg-apps/cfg-app"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    (report,) = body["consumers"]
    assert report["state"] == "unreachable" and "App Configuration Data Owner" in report["detail"]
    cloud.appconfigdata.denied.clear()  # the role assignment lands
    sweep()
    assert cloud.appconfigdata.get("cfg-app", "Settings:Sentinel").value.endswith(body["newVersion"])
    sweep()  # already signalled: read, not written again
    assert helpers.calls(cloud, "appconfigdata.put_key_value") == 2


def test_a_store_keeps_the_full_cool_down(cloud):
    _store(cloud)
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast,appconfig:rg-apps/cfg-app"})
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    helpers.age_current_version(cloud, "storage-key", timedelta(hours=2))
    reads = helpers.calls(cloud, "appservice.list_references")
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "appconfig:rg-apps/cfg-app" in body["error"]["message"], body
    assert "cannot confirm" in body["error"]["message"]
    assert helpers.calls(cloud, "appservice.list_references") == reads  # nobody asked: a store never confirms
    assert helpers.regenerations(cloud) == 1


# confirmation ------------------------------------------------------------------------------


def test_the_next_rotation_starts_early_only_once_every_consumer_confirms(cloud):
    _three_consumers(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    reads = helpers.calls(cloud, "appservice.list_references")

    # Under the confirmed floor (15 minutes): the cool-down, without asking anyone.
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and body["error"]["code"] == "CoolingDown", body
    assert helpers.calls(cloud, "appservice.list_references") == reads

    # Past the floor: the consumers are asked; the slow one still runs the old version.
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "consumer rg-apps/app-slow/staging holds it (behind" in body["error"]["message"], body
    evt = helpers.event(secret="storage-key", version=cloud.keyvault.current_secret(VAULT, "storage-key").version)
    helpers.deliver(evt)  # the event trigger hears the same, and answers without rotating
    assert helpers.regenerations(cloud) == 1

    cloud.appservice.advance(3600)  # the slow app's refresh lands; the denied one still fails
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "consumer rg-apps/app-denied holds it (failing" in body["error"]["message"], body
    assert "Key Vault Secrets User" in body["error"]["message"]

    denied = cloud.appservice.apps["app-denied"]
    denied.vault_access = True  # the operator grants the role and saves a setting: the app restarts
    cloud.appservice.change_settings(denied, {"TOUCHED": "1"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert "confirmed" in body["reason"] and body["newCredential"] == "key1"
    assert helpers.regenerations(cloud) == 2
    helpers.holds_live_key(cloud, "storage-key")


def test_the_confirmed_floor_is_a_setting(cloud, monkeypatch):
    monkeypatch.setenv("ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", "60")
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=30))
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 409
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=61))
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200


def test_a_consumer_that_cannot_be_read_keeps_the_cool_down(cloud):
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    cloud.inject("appservice.list_references", status=503, count=20)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "rg-apps/app-fast holds it (unreachable" in body["error"]["message"], body
    assert helpers.regenerations(cloud) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "ROTATION_APPCONFIG_SENTINEL"),
        ("%", "ROTATION_APPCONFIG_SENTINEL"),
        ("..", "ROTATION_APPCONFIG_SENTINEL"),
    ],
)
def test_a_bad_sentinel_setting_is_refused(raw, message):
    from rotators.core.errors import ConfigurationError
    from rotators.core.settings import Settings

    environ = {"ROTATION_APPCONFIG_SENTINEL": raw}
    if raw == "0":
        environ = {"ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES": "-1"}
        message = "ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES"
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_environ(environ)


# the sweep and status ----------------------------------------------------------------------


def sweep() -> None:
    helpers.FUNCTIONS["SweepVaults"](None)


def test_the_sweep_retries_a_refresh_that_failed(cloud):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.inject("appservice.refresh", status=503, count=20)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["consumers"][0]["state"] == "unreachable", body
    cloud.faults.clear()
    new_version = cloud.keyvault.current_secret(VAULT, "storage-key").version
    assert cloud.appservice.apps["app-fast"].active["appsettings/STORAGE"] != new_version
    sweep()
    assert cloud.appservice.apps["app-fast"].active["appsettings/STORAGE"] == new_version
    refreshes = helpers.calls(cloud, "appservice.refresh")
    sweep()  # it runs the current version now: read, not refreshed again
    assert helpers.calls(cloud, "appservice.refresh") == refreshes


def test_status_shows_each_consumer_and_the_version_it_runs(cloud, capsys):
    _three_consumers(cloud)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    new_version = cloud.keyvault.current_secret(VAULT, "storage-key").version
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK, out
    assert f"consumer rg-apps/app-fast: moved: runs version {new_version}" in out
    assert "consumer rg-apps/app-slow/staging: behind: setting STORAGE still runs version" in out
    assert "consumer rg-apps/app-denied: failing" in out


# discovery and the registry ----------------------------------------------------------------

SCOPE = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg-apps"


def test_discovery_finds_the_apps_that_reference_the_secret_and_apply_records_them(cloud, capsys):
    version = helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE, "PLAIN": "x"})
    cloud.appservice.create_app("app-b", {})
    cloud.appservice.create_app("app-b", {}, slot="staging", connection_strings={"Blob": REFERENCE})
    cloud.appservice.create_app("app-c", {"OTHER": REFERENCE.replace("storage-key", "other-secret")})
    cloud.appservice.create_app("app-d", {"STORAGE": REFERENCE}, resource_group="rg-elsewhere")
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--secret", "storage-key", "--scope", SCOPE)
    assert code == OK, out
    lines = [line.split() for line in out.splitlines()[1:]]
    assert [line[:4] for line in lines] == [
        ["storage-key", "rg-apps/app-a", "STORAGE", "Resolved"],
        ["storage-key", "rg-apps/app-b/staging", "connection", "string"],
    ]
    assert all(line[-1] == version for line in lines)
    helpers.assert_nothing_written(cloud)

    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--secret", "storage-key", "--scope", SCOPE, "--apply")
    assert code == OK and f"recorded 2 consumers in tag Consumers of version {version}" in out, out
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    assert current.version == version  # a tag update, never a new version
    assert current.tags["Consumers"] == "rg-apps/app-a,rg-apps/app-b/staging"
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--apply")  # default scope: the whole subscription
    assert code == OK and f"recorded 3 consumers in tag Consumers of version {version}" in out, out
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"].endswith(",rg-elsewhere/app-d")
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--apply")
    assert "already records every consumer found (3)" in out


def test_discovery_records_no_app_whose_name_the_tag_would_refuse(cloud, capsys):
    """Azure lets an app name hold "Unicode characters that can be mapped to Punycode"; the tag takes ASCII only."""
    version = helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    cloud.appservice.create_app("\u0430pp-b", {"STORAGE": REFERENCE})  # a Cyrillic a
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--apply")
    assert code == OK and "not recorded rg-apps/\u0430pp-b: an app or slot name beyond ASCII" in out, out
    assert f"recorded 1 consumers in tag Consumers of version {version}" in out
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"] == "rg-apps/app-a"
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200


def test_fifty_consumers_go_to_the_registry_and_each_is_refreshed(cloud, capsys):
    helpers.enroll_storage(cloud)
    for index in range(50):
        cloud.appservice.create_app(f"app-{index:02}", {"STORAGE": REFERENCE})
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--secret", "storage-key", "--apply")
    assert code == OK and "recorded 50 consumers in the registry" in out, out
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"] == "@registry"
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert len(body["consumers"]) == 50 and {report["state"] for report in body["consumers"]} == {"moved"}


def test_a_registry_tag_without_an_entry_never_fails_the_rotation(cloud):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated" and body["consumers"] == [], body
    helpers.age_current_version(cloud, "storage-key", timedelta(hours=1))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "registry has no entry" in body["error"]["message"], body


@pytest.mark.parametrize("route", ["appservice.list_sites", "appservice.list_slots", "appservice.list_references"])
def test_discovery_that_meets_a_fault_says_so_and_records_nothing(cloud, capsys, route):
    helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    cloud.inject(route, status=500, count=20)
    code, _, err = run(capsys, "consumers", "--vault", VAULT, "--apply")
    assert code == FAILED and err.startswith("error: ") and len(err.splitlines()) == 1, err
    helpers.assert_nothing_written(cloud)


def test_discovery_refuses_a_bad_scope(cloud, capsys):
    helpers.enroll_storage(cloud)
    code, _, err = run(capsys, "consumers", "--vault", VAULT, "--scope", "/subscriptions/x/../y")
    assert code == REFUSED and "Scope" in err


def test_an_unreadable_registry_is_a_note_in_status(cloud, capsys):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and "consumers not read: Tag 'Consumers' of secret 'storage-key' says @registry" in out, out


@pytest.mark.parametrize("route", ["appconfigdata.get_key_value", "appservice.list_references"])
def test_a_fault_in_the_sweep_s_follow_up_stays_that_secret_s(cloud, route):
    _store(cloud)
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "appconfig:rg-apps/cfg-app,rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    helpers.enroll_storage(cloud, secret="due-key", account="stdue", age=timedelta(days=80), validity="90")
    cloud.inject(route, status=500, count=50)
    sweep()
    cloud.faults.clear()
    assert helpers.regenerations(cloud) == 2  # the due secret still rotated
    helpers.holds_live_key(cloud, "due-key")


def test_apply_that_cannot_write_the_tag_says_so(cloud, capsys):
    helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    cloud.inject("keyvault.update_secret", status=500, count=20)
    code, _, err = run(capsys, "consumers", "--vault", VAULT, "--apply")
    assert code == FAILED and "Update the tags of secret storage-key" in err and len(err.splitlines()) == 1, err
    assert "Consumers" not in cloud.keyvault.current_secret(VAULT, "storage-key").tags


def test_the_stand_in_serves_one_reference_as_the_sdk_reads_it(cloud):
    """WebApps_GetAppSettingKeyVaultReference, slots alike, through azure-mgmt-web."""
    from rotators.adapters import appservice
    from rotators.core.clouds import PUBLIC

    version = helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE}, slot="staging")
    client = appservice._client(DEFAULT_SUBSCRIPTION, PUBLIC)
    one = client.web_apps.get_app_setting_key_vault_reference_slot("rg-apps", "app-a", "STORAGE", "staging")
    assert (one.properties.secret_name, one.properties.active_version) == ("storage-key", version)
    assert one.properties.status == "Resolved"


def test_an_empty_registry_entry_confirms_nothing(cloud):
    from rotators.adapters import registry

    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    registry.save(helpers.vault_address(VAULT), "storage-key", ())
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "lists no consumer" in body["error"]["message"], body
    assert helpers.regenerations(cloud) == 1


def test_apply_that_cannot_read_the_registry_writes_nothing(cloud, capsys):
    from rotators.adapters import registry
    from rotators.core.consumers import ConsumerKind

    helpers.enroll_storage(cloud, extra_tags={"Consumers": "@registry"})
    declared = (
        Consumer("rg-apps", "app-manual"),
        Consumer("rg-apps", "cfg-store", kind=ConsumerKind.APP_CONFIGURATION),
    )
    registry.save(helpers.vault_address(VAULT), "storage-key", declared)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    cloud.inject("blob.get", status=503, count=50)
    code, _, err = run(capsys, "consumers", "--vault", VAULT, "--apply")
    cloud.faults.clear()
    assert code == FAILED and "consumer registry" in err, err
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"] == "@registry"
    assert registry.load(helpers.vault_address(VAULT), "storage-key") == declared


@pytest.mark.parametrize(("covers", "state"), [(False, "behind"), (True, "moved")])
def test_a_connection_string_reference_is_judged_whether_or_not_the_refresh_covers_it(cloud, covers, state):
    """Microsoft documents the refresh for app settings only: either way the app is judged by what it runs."""
    cloud.appservice.refresh_covers_connection_strings = covers
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-cs"})
    cloud.appservice.create_app("app-cs", {}, connection_strings={"Storage": REFERENCE})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["consumers"][0]["state"] == state, body
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == (409 if state == "behind" else 200), body
