"""Container Apps whose secrets reference Key Vault: restarted only when the declaration asks for it, confirming a
new version only when the audit trail shows each identity its secrets name read it before every replica of the
active revisions was created (else the full cool-down), found by discovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION
from localazure.services.containerapps import Replica
from rotators.core.consumers import (
    Consumer,
    ConsumerKind,
    ContainerSecret,
    Standing,
    judge_container_app,
    parse_consumers,
)
from rotators.core.errors import NotRotatable
from rotators.triggers.cli import OK
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run

URL = "https://kv-app.vault.azure.net/secrets/storage-key"
ROTATE = {"vaultName": VAULT, "secretName": "storage-key"}


@pytest.fixture
def floor_zero(monkeypatch) -> None:
    """The next rotation asks the consumers at once (no confirmed floor), and the audit trail is read."""
    monkeypatch.setenv("ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", "0")
    monkeypatch.setenv("ROTATION_AUDIT_WORKSPACE_ID", "5c3d1e1f-0a9b-4c8d-8e7f-6a5b4c3d2e1f")


def test_a_container_app_entry_may_ask_for_a_restart():
    plain, restarting = parse_consumers("containerapp:rg-a/ca-one,containerapp:rg-a/ca-two/restart").consumers
    assert plain == Consumer("rg-a", "ca-one", kind=ConsumerKind.CONTAINER_APP)
    assert restarting == Consumer("rg-a", "ca-two", "restart", kind=ConsumerKind.CONTAINER_APP)
    assert str(restarting) == "containerapp:rg-a/ca-two/restart"
    for bad in ("containerapp:rg/Ca-One", "containerapp:rg/ca/reboot", "containerapp:rg/c", "containerapp:rg/ca--x"):
        with pytest.raises(NotRotatable, match="entry 1"):
            parse_consumers(bad)


def test_judging_a_container_app_s_secrets():
    consumer = Consumer("rg", "ca", kind=ConsumerKind.CONTAINER_APP)

    def judged(url: str) -> Standing:
        return judge_container_app(consumer, [ContainerSecret("s", url)], "kv-app", "storage-key").state

    assert judged(URL) is Standing.UNREPORTED  # nothing says which value its replicas run
    assert judged(URL + "/0123") is Standing.FAILING
    assert judged("https://kv-app.vault.azure.net/secrets/other") is Standing.UNREFERENCED


USER_ASSIGNED = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg-apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ca"  # noqa: E501


def held(body: dict) -> bool:
    return "consumer containerapp:rg-apps/ca-one/restart holds it (unreported" in body["error"]["message"]


@pytest.mark.parametrize("read_before_replicas", [True, False])
def test_a_restart_after_the_identity_read_the_version_confirms_it(cloud, floor_zero, read_before_replicas):
    """Replicas created after the app's identity read the current version started with it; Microsoft does not say
    whether a restart's read precedes its new replicas: when it does not, nothing is confirmed."""
    cloud.containerapps.read_before_replicas = read_before_replicas
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "containerapp:rg-apps/ca-one/restart"})
    app = cloud.containerapps.create("ca-one", {"storage": URL})
    assert helpers.post_rotate(ROTATE)[0] == 200
    assert helpers.calls(cloud, "containerapps.restart_revision") == 1 and app.restarts == 1  # the active revision
    status, body = helpers.post_rotate(ROTATE)
    if read_before_replicas:
        assert status == 200 and body["status"] == "rotated", body
        assert helpers.regenerations(cloud) == 2
    else:
        assert status == 409 and held(body) and "runs since before" in body["error"]["message"], body
        assert helpers.regenerations(cloud) == 1


def test_the_platform_s_fetch_without_a_restart_confirms_nothing(cloud, floor_zero):
    """The platform's fetch (a SecretGet by the app's identity) does not show the running replicas hold the new value:
    "An updated or deleted secret doesn't automatically affect existing revisions" (Manage secrets in Azure Container
    Apps)."""
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "containerapp:rg-apps/ca-one"})
    app = cloud.containerapps.create("ca-one", {"storage": URL})
    assert helpers.post_rotate(ROTATE)[0] == 200
    assert helpers.calls(cloud, "containerapps.restart_revision") == 0 and app.restarts == 0
    cloud.advance(30 * 60)  # the platform has fetched the new version by now
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "consumer containerapp:rg-apps/ca-one holds it (unreported" in body["error"]["message"]
    assert helpers.regenerations(cloud) == 1


@pytest.mark.parametrize("created", ["before the read", "unknown"])
def test_a_replica_not_surely_created_after_the_read_confirms_nothing(cloud, floor_zero, created):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "containerapp:rg-apps/ca-one/restart"})
    app = cloud.containerapps.create("ca-one", {"storage": URL})
    assert helpers.post_rotate(ROTATE)[0] == 200
    old = cloud.containerapps.now() - timedelta(hours=1) if created == "before the read" else None
    app.replicas["ca-one--cur2"].append(Replica("ca-one--cur2-5d9774cff-5wnd8", old))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and held(body), body
    assert helpers.regenerations(cloud) == 1


@pytest.mark.parametrize("both_read", [True, False])
def test_every_identity_of_every_secret_referencing_it_must_have_read_it(cloud, floor_zero, both_read):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "containerapp:rg-apps/ca-one/restart"})
    app = cloud.containerapps.create(
        "ca-one", {"storage": URL, "storage-ua": URL}, identities={"storage-ua": USER_ASSIGNED}
    )
    assert helpers.post_rotate(ROTATE)[0] == 200
    if not both_read:
        unread = app.user_assigned[USER_ASSIGNED].lower()
        cloud.loganalytics.records[:] = [r for r in cloud.loganalytics.records if r.principal != unread]
    status, body = helpers.post_rotate(ROTATE)
    if both_read:
        assert status == 200 and body["status"] == "rotated", body
    else:
        assert status == 409 and held(body) and unread in body["error"]["message"], body
        assert helpers.regenerations(cloud) == 1


def test_without_the_audit_trail_a_container_app_keeps_the_full_cool_down(cloud, monkeypatch):
    monkeypatch.setenv("ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", "0")
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "containerapp:rg-apps/ca-one/restart"})
    cloud.containerapps.create("ca-one", {"storage": URL})
    assert helpers.post_rotate(ROTATE)[0] == 200
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "holds it (unreported" in body["error"]["message"], body
    assert helpers.regenerations(cloud) == 1


def test_discovery_finds_container_apps_named_values_and_apps_alike(cloud, capsys):
    version = helpers.enroll_storage(cloud)
    cloud.containerapps.create("ca-one", {"storage": URL, "unrelated": URL.replace("storage", "x")})
    cloud.apimanagement.create("apim-one", {"nv": URL})
    cloud.appservice.create_app("app-a", {"STORAGE": f"@Microsoft.KeyVault(SecretUri={URL}/)"})
    scope = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg-apps"
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--scope", scope, "--apply")
    assert code == OK and f"recorded 3 consumers in tag Consumers of version {version}" in out, out
    declared = cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"].split(",")
    assert sorted(declared) == ["apim:rg-apps/apim-one/nv", "containerapp:rg-apps/ca-one", "rg-apps/app-a"]


def test_a_refused_audit_query_leaves_a_container_app_unreported(cloud, floor_zero):
    cloud.loganalytics.denied = True
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "containerapp:rg-apps/ca-one/restart"})
    cloud.containerapps.create("ca-one", {"storage": URL})
    assert helpers.post_rotate(ROTATE)[0] == 200
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and held(body), body
    assert helpers.regenerations(cloud) == 1
