"""Container Apps whose secrets reference Key Vault: restarted only when the declaration asks for it, never
confirming a new version (nothing says which value their running replicas hold), found by discovery."""

from __future__ import annotations

import pytest

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION
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


@pytest.mark.parametrize("restart", [False, True])
def test_a_container_app_is_restarted_only_when_declared_and_never_confirms_even_when_its_identity_read_the_version(
    cloud, floor_zero, restart
):
    """The platform's fetch (a SecretGet by the app's identity) does not show the running replicas hold the new value:
    "An updated or deleted secret doesn't automatically affect existing revisions" (Manage secrets in Azure Container
    Apps); an accepted restart does not either."""
    entry = "containerapp:rg-apps/ca-one" + ("/restart" if restart else "")
    helpers.enroll_storage(cloud, extra_tags={"Consumers": entry})
    app = cloud.containerapps.create("ca-one", {"storage": URL})
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body
    restarts = helpers.calls(cloud, "containerapps.restart_revision")
    assert restarts == (1 if restart else 0) and app.restarts == restarts  # the active revision only
    cloud.containerapps.advance(30 * 60)  # the platform has fetched the new version by now
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and f"consumer {entry} holds it (unreported" in body["error"]["message"], body
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
