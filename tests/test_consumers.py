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
REPORTS_VERSION, NULL = "activeVersion", "null"


@pytest.fixture(params=[REPORTS_VERSION, NULL])
def reporting(request, cloud) -> str:
    """App Service as it may answer: each reference names the version it runs, or (the one published
    real answer) ``"activeVersion": null``; the product must be right under both."""
    cloud.appservice.reports_active_version = request.param == REPORTS_VERSION
    return request.param


def moved(reporting: str) -> str:
    """What an app on the new version is reported as: it cannot confirm it when App Service does not say."""
    return "moved" if reporting == REPORTS_VERSION else "unreported"


def behind(reporting: str) -> str:
    return "behind" if reporting == REPORTS_VERSION else "unreported"


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
    unreported = judge(consumer, [ref(active=None)], "kv", "s", "v2")
    assert unreported.state is Standing.UNREPORTED and "full cool-down" in unreported.detail
    assert judge(consumer, [ref(status="", active="v2")], "kv", "s", "v2").state is Standing.UNREPORTED
    # one reference known behind outweighs another that cannot say
    assert judge(consumer, [ref(active=None), ref(active="v1")], "kv", "s", "v2").state is Standing.BEHIND


def test_the_refresh_memory_counts_attempts_waits_out_its_backoff_and_reads_back_what_it_wrote():
    from datetime import datetime, timezone

    from rotators.core.refreshes import Refreshes

    app, other, t0 = Consumer("rg", "app"), Consumer("rg", "other"), datetime(2026, 1, 1, tzinfo=timezone.utc)
    memory = Refreshes("v2").attempting([app], t0)
    assert not memory.due(app, t0 + timedelta(minutes=9)) and memory.due(app, t0 + timedelta(minutes=10))
    assert memory.due(other, t0)  # never asked
    memory = memory.attempting([app], t0 + timedelta(minutes=10))
    assert not memory.due(app, t0 + timedelta(minutes=69)) and memory.due(app, t0 + timedelta(minutes=70))
    memory = memory.attempting([app], t0 + timedelta(minutes=70))
    assert not memory.due(app, t0 + timedelta(days=30))  # three attempts in all
    settled = Refreshes("v2").attempting([other], t0).settling([other])
    assert not settled.due(other, t0 + timedelta(days=1))
    assert Refreshes.from_json(memory.to_json()) == memory
    assert memory.of("V2") is memory and memory.of("v3") == Refreshes("v3")


def _three_consumers(cloud) -> None:
    helpers.enroll_storage(
        cloud, extra_tags={"Consumers": "rg-apps/app-fast,rg-apps/app-slow/staging,rg-apps/app-denied"}
    )
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    slow = cloud.appservice.create_app("app-slow", {"STORAGE": REFERENCE}, slot="staging")
    slow.refresh_delay = 3600  # the refresh lands an hour later
    denied = cloud.appservice.create_app("app-denied", {"STORAGE": REFERENCE})
    denied.vault_access = False  # its identity lacks Key Vault Secrets User


@pytest.mark.parametrize("refresh_status", [200, 204])  # Microsoft's doc does not say which
def test_a_rotation_refreshes_each_consumer_and_reports_where_it_stands(cloud, reporting, refresh_status):
    cloud.appservice.refresh_status = refresh_status
    _three_consumers(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    states = {report["consumer"]: report for report in body["consumers"]}
    assert states["rg-apps/app-fast"]["state"] == moved(reporting)
    assert states["rg-apps/app-slow/staging"]["state"] == behind(reporting)
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


def test_a_store_gets_its_sentinel_set_after_the_write(cloud, reporting):
    _store(cloud)
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast,appconfig:rg-apps/cfg-app"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    states = {report["consumer"]: report["state"] for report in body["consumers"]}
    assert states == {"rg-apps/app-fast": moved(reporting), "appconfig:rg-apps/cfg-app": "signalled"}
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
    sweep(timedelta(minutes=11))
    assert cloud.appconfigdata.get("cfg-app", "Settings:Sentinel").value.endswith(body["newVersion"])
    sweep(timedelta(hours=2))  # already signalled: not written again
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


def test_the_next_rotation_starts_early_only_once_every_consumer_confirms(cloud, reporting):
    _three_consumers(cloud)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    reads = helpers.calls(cloud, "appservice.list_references")

    # Under the confirmed floor (15 minutes): the cool-down, without asking anyone.
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and body["error"]["code"] == "CoolingDown", body
    assert helpers.calls(cloud, "appservice.list_references") == reads

    # Past the floor: the consumers are asked. Reporting its version, the slow app still runs the old
    # one; not reporting it, even the fast app cannot confirm anything.
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    holder = "app-slow/staging" if reporting == REPORTS_VERSION else "app-fast"
    assert status == 409 and f"consumer rg-apps/{holder} holds it ({behind(reporting)}" in body["error"]["message"]
    evt = helpers.event(secret="storage-key", version=cloud.keyvault.current_secret(VAULT, "storage-key").version)
    helpers.deliver(evt)  # the event trigger hears the same, and answers without rotating
    assert helpers.regenerations(cloud) == 1

    cloud.appservice.advance(3600)  # the slow app's refresh lands; the denied one still fails
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    if reporting == REPORTS_VERSION:
        assert status == 409 and "consumer rg-apps/app-denied holds it (failing" in body["error"]["message"], body
        assert "Key Vault Secrets User" in body["error"]["message"]

    denied = cloud.appservice.apps["app-denied"]
    denied.vault_access = True  # the operator grants the role and saves a setting: the app restarts
    cloud.appservice.change_settings(denied, {"TOUCHED": "1"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    if reporting == NULL:  # every app runs the new version, but none can say so: the full cool-down
        assert (
            status == 409 and "unreported" in body["error"]["message"] and "full cool-down" in body["error"]["message"]
        )
        assert helpers.regenerations(cloud) == 1
        helpers.age_current_version(cloud, "storage-key", timedelta(hours=73))  # past the 72 h cool-down
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
        assert status == 200 and "confirmed" not in body["reason"], body
    else:
        assert status == 200 and body["status"] == "rotated", body
        assert "confirmed" in body["reason"] and body["newCredential"] == "key1"
    assert helpers.regenerations(cloud) == 2
    helpers.holds_live_key(cloud, "storage-key")


def test_the_confirmed_floor_is_a_setting(cloud, monkeypatch, reporting):
    monkeypatch.setenv("ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", "60")
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=30))
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 409
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=61))
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == (200 if reporting == REPORTS_VERSION else 409)


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


def sweep(after: timedelta = timedelta()) -> dict[str, int]:
    """The timer's sweep, run ``after`` from now (the refresh memory's backoff is measured on this clock)."""
    from rotators.workflows.sweep import sweep as sweep_at

    return dict(sweep_at(now=helpers.now() + after))


def _refreshes(cloud) -> int:
    return helpers.calls(cloud, "appservice.refresh")


def test_the_sweep_retries_a_refresh_that_failed_once_its_backoff_is_over(cloud, reporting):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.inject("appservice.refresh", status=503, count=20)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["consumers"][0]["state"] == "unreachable", body
    cloud.faults.clear()
    new_version = cloud.keyvault.current_secret(VAULT, "storage-key").version
    assert cloud.appservice.apps["app-fast"].active["appsettings/STORAGE"] != new_version
    refreshes = _refreshes(cloud)
    sweep(timedelta(minutes=5))  # inside the backoff: nobody is asked
    assert _refreshes(cloud) == refreshes
    sweep(timedelta(minutes=11))
    assert cloud.appservice.apps["app-fast"].active["appsettings/STORAGE"] == new_version
    assert _refreshes(cloud) == refreshes + 1
    sweep(timedelta(hours=3))  # accepted: never asked again for this version
    assert _refreshes(cloud) == refreshes + 1


@pytest.mark.parametrize("failure", ["refused", "reference broken"])
def test_a_failing_refresh_is_tried_three_times_in_all_with_backoff(cloud, reporting, failure):
    """A 403 (no refresh role) is never retried by the SDK; a broken reference is a refresh App Service took."""
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    app = cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    if failure == "refused":
        cloud.inject("appservice.refresh", status=403, count=100)
    else:
        app.vault_access = False
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    attempts = []
    for minutes in (1, 11, 30, 72, 180, 600, 1400):  # the cool-down is 24 h
        sweep(timedelta(minutes=minutes))
        attempts.append(_refreshes(cloud))
    assert attempts == [1, 2, 2, 3, 3, 3, 3], attempts


def test_a_refresh_app_service_took_is_never_repeated_for_the_version(cloud, reporting):
    """However long the app stays behind (or cannot say): App Service re-reads within 24 hours anyway."""
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-slow"})
    cloud.appservice.create_app("app-slow", {"STORAGE": REFERENCE}).refresh_delay = 6 * 3600
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["consumers"][0]["state"] == behind(reporting), body
    for hours in (1, 2, 5, 12, 23):
        sweep(timedelta(hours=hours))
    assert _refreshes(cloud) == 1


def test_an_app_that_cannot_say_its_version_is_one_note_per_version_and_keeps_the_full_cool_down(
    cloud, capsys, caplog, monkeypatch
):
    """App Service answering ``"activeVersion": null``: refreshed once, no event, no hourly refresh; status says why."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_EVENTS_TOPIC_ENDPOINT", "https://rotations.eastus-1.eventgrid.azure.net/api/events")
    get_settings.cache_clear()
    cloud.appservice.reports_active_version = False
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["consumers"][0]["state"] == "unreported", body
    assert cloud.eventgriddata.of_type("KeyRotation.ConsumerNotRefreshed") == []
    for hours in (1, 2, 3, 12):
        sweep(timedelta(hours=hours))
    assert _refreshes(cloud) == 1
    notes = [r for r in caplog.records if "app-fast" in r.getMessage() and "activeVersion" in r.getMessage()]
    assert [r.levelname for r in notes] == ["INFO"], [r.getMessage() for r in notes]

    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and "consumer rg-apps/app-fast: unreported:" in out and "full cool-down holds" in out, out
    helpers.age_current_version(cloud, "storage-key", timedelta(hours=2))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "no activeVersion" in body["error"]["message"], body
    helpers.age_current_version(cloud, "storage-key", timedelta(hours=73))  # past the 72 h cool-down
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    assert _refreshes(cloud) == 2  # the new version's one refresh


def test_sweeps_at_once_ask_a_consumer_once(cloud, reporting):
    """What was asked is written (with the ETag of what was read) before anyone is asked."""
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.inject("appservice.refresh", status=403, count=1)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    cloud.inject("appservice.list_references", delay=1.0, count=6)  # every sweep reads the app behind first
    results = helpers.trigger_all([lambda: sweep(timedelta(minutes=11)) for _ in range(3)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert _refreshes(cloud) == 2


@pytest.mark.parametrize(
    "memory",
    [b"{not json", b"[" * 100_000, b"x" * 300_000, b"\xff\xfe", b'{"version": 1, "consumers": []}', b""],
)
def test_a_garbled_refresh_memory_never_fails_a_rotation_and_the_sweep_asks_nobody_on_its_word(cloud, azurite, memory):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    blob = _memory_blob(cloud, azurite)
    blob.upload_blob(memory, overwrite=True)
    cloud.inject("appservice.refresh", status=403, count=1)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated" and body["consumers"][0]["state"] == "unreachable", body
    assert blob.download_blob().readall() != memory  # written anew, for the new version

    blob.upload_blob(memory, overwrite=True)  # garbled again: the sweep cannot know who was asked
    sweep(timedelta(minutes=11))
    assert _refreshes(cloud) == 1
    helpers.enroll_storage(cloud, secret="due-key", account="stdue", age=timedelta(days=80), validity="90")
    tally = sweep(timedelta(minutes=11))
    assert tally.get("rotated") == 1 and _refreshes(cloud) == 1  # the rest of the vault still rotates


def test_an_unreachable_refresh_memory_means_nobody_is_asked_by_the_sweep(cloud):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast"})
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.inject("appservice.refresh", status=403, count=1)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    cloud.inject("blob.get", status=503, count=50)
    sweep(timedelta(minutes=11))
    cloud.faults.clear()
    assert _refreshes(cloud) == 1
    sweep(timedelta(minutes=12))  # readable again: the retry it was owed
    assert _refreshes(cloud) == 2


def _memory_blob(cloud, azurite):
    from azure.storage.blob import BlobClient

    from rotators.adapters import clients, registry

    clients.lock_container()  # the container exists
    name = registry.blob_name(helpers.vault_address(VAULT), "storage-key", registry.REFRESHES_PREFIX)
    return BlobClient.from_connection_string(azurite.connection_string, "secret-rotation", name)


def test_status_shows_each_consumer_and_the_version_it_runs(cloud, capsys, reporting):
    _three_consumers(cloud)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    new_version = cloud.keyvault.current_secret(VAULT, "storage-key").version
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK, out
    if reporting == REPORTS_VERSION:
        assert f"consumer rg-apps/app-fast: moved: runs version {new_version}" in out
        assert "consumer rg-apps/app-slow/staging: behind: setting STORAGE still runs version" in out
    else:
        assert "consumer rg-apps/app-fast: unreported: setting STORAGE: App Service reports Resolved but not" in out
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


def test_fifty_consumers_go_to_the_registry_and_each_is_refreshed(cloud, capsys, reporting):
    helpers.enroll_storage(cloud)
    for index in range(50):
        cloud.appservice.create_app(f"app-{index:02}", {"STORAGE": REFERENCE})
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--secret", "storage-key", "--apply")
    assert code == OK and "recorded 50 consumers in the registry" in out, out
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"] == "@registry"
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert len(body["consumers"]) == 50 and {report["state"] for report in body["consumers"]} == {moved(reporting)}
    assert _refreshes(cloud) == 50


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
    cloud.appconfigdata.denied.add("cfg-app")  # both fail after the write, so the sweep follows up on both
    cloud.inject("appservice.refresh", status=403, count=1)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    cloud.appconfigdata.denied.clear()
    helpers.enroll_storage(cloud, secret="due-key", account="stdue", age=timedelta(days=80), validity="90")
    cloud.inject(route, status=500, count=50)
    sweep(timedelta(minutes=11))
    cloud.faults.clear()
    assert helpers.calls(cloud, route) > 0  # the follow-up met the fault
    assert helpers.regenerations(cloud) == 2  # the due secret still rotated
    helpers.holds_live_key(cloud, "due-key")


def test_apply_that_cannot_write_the_tag_says_so(cloud, capsys):
    helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    cloud.inject("keyvault.update_secret", status=500, count=20)
    code, _, err = run(capsys, "consumers", "--vault", VAULT, "--apply")
    assert code == FAILED and "Update the tags of secret storage-key" in err and len(err.splitlines()) == 1, err
    assert "Consumers" not in cloud.keyvault.current_secret(VAULT, "storage-key").tags


def test_the_stand_in_serves_one_reference_as_the_sdk_reads_it(cloud, reporting):
    """WebApps_GetAppSettingKeyVaultReference, slots alike, through azure-mgmt-web."""
    from rotators.adapters import appservice
    from rotators.core.clouds import PUBLIC

    version = helpers.enroll_storage(cloud)
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE}, slot="staging")
    client = appservice._client(DEFAULT_SUBSCRIPTION, PUBLIC)
    one = client.web_apps.get_app_setting_key_vault_reference_slot("rg-apps", "app-a", "STORAGE", "staging")
    active = version if reporting == REPORTS_VERSION else None
    assert (one.properties.secret_name, one.properties.active_version) == ("storage-key", active)
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


@pytest.mark.parametrize("covers", [False, True])
def test_a_connection_string_reference_is_judged_whether_or_not_the_refresh_covers_it(cloud, reporting, covers):
    """Microsoft documents the refresh for app settings only: either way the app is judged by what it runs."""
    cloud.appservice.refresh_covers_connection_strings = covers
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-cs"})
    cloud.appservice.create_app("app-cs", {}, connection_strings={"Storage": REFERENCE})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    state = moved(reporting) if covers else behind(reporting)
    assert status == 200 and body["consumers"][0]["state"] == state, body
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == (200 if state == "moved" else 409), body
