"""Consumers: after a rotation, every app the Consumers tag declares is asked to refresh its
Key Vault references and reports the version it runs; none of it can undo or fail the rotation."""

from __future__ import annotations

import pytest

from rotators.core.consumers import Consumer, Moved, Reference, judge, parse_consumers
from rotators.core.errors import NotRotatable
from tests import helpers
from tests.helpers import VAULT

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/storage-key/)"


def test_the_consumers_tag_reads_groups_apps_and_slots():
    assert parse_consumers(" rg-a/app-one, rg-b/app-two/staging ") == (
        Consumer("rg-a", "app-one"),
        Consumer("rg-b", "app-two", "staging"),
    )
    assert parse_consumers("") == () and parse_consumers(None) == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("app-only", "entry 1"),
        ("rg/app,rg/-bad", "entry 2"),
        ("rg/app/slot/extra", "entry 1"),
        ("rg/app,rg/app", "twice"),
        ("rg/a", "entry 1"),  # App Service names have two characters at least
        (",".join(f"rg/app{i:02}" for i in range(21)), "at most 20"),
    ],
)
def test_a_bad_consumers_tag_is_refused_naming_the_entry(raw, message):
    with pytest.raises(NotRotatable, match=message):
        parse_consumers(raw)


def test_judging_a_consumer_s_references():
    consumer = Consumer("rg", "app")

    def ref(status: str = "Resolved", active: str | None = "v2", secret: str = "s") -> Reference:
        return Reference("SETTING", status, "kv", secret, None, active)

    assert judge(consumer, [ref()], "KV", "S", "v2").state is Moved.MOVED
    assert judge(consumer, [ref(active="v1")], "kv", "s", "v2").state is Moved.BEHIND
    failing = judge(consumer, [ref(status="AccessToKeyVaultDenied")], "kv", "s", "v2")
    assert failing.state is Moved.FAILING and "Key Vault Secrets User" in failing.detail
    assert judge(consumer, [ref(secret="other")], "kv", "s", "v2").state is Moved.UNREFERENCED


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
    assert cloud.appservice.apps["app-fast"].active["STORAGE"] == new_version
    cloud.appservice.advance(3600)  # the slow app's refresh lands
    helpers.holds_live_key(cloud, "storage-key")


def test_the_old_version_stays_active_until_a_refresh_or_a_day(cloud):
    """The stand-in's App Service as Microsoft documents it: no refresh, no move for 24 hours."""
    helpers.enroll_storage(cloud)  # no Consumers tag: nobody is refreshed
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    app = cloud.appservice.create_app("app-idle", {"STORAGE": REFERENCE})
    assert app.active["STORAGE"] == before
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    assert helpers.calls(cloud, "appservice.refresh") == 0
    cloud.appservice.settle(app)
    assert app.active["STORAGE"] == before
    cloud.appservice.advance(86400)
    cloud.appservice.settle(app)
    assert app.active["STORAGE"] == cloud.keyvault.current_secret(VAULT, "storage-key").version


@pytest.mark.parametrize("route", ["appservice.refresh", "appservice.list_references"])
def test_a_consumer_that_fails_never_fails_the_rotation(cloud, route):
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-fast,rg-apps/app-gone"})
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
