"""Container Apps whose secrets reference Key Vault: restarted only when the declaration asks for it, confirmed
only by the audit trail (the reads of the identity their secret names), found by discovery."""

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

    def judged(url: str) -> tuple[Standing, str | None]:
        report, identity = judge_container_app(consumer, [ContainerSecret("s", url, "System")], "kv-app", "storage-key")
        return report.state, identity

    assert judged(URL) == (Standing.UNREPORTED, "System")  # only the audit trail can say more
    assert judged(URL + "/0123")[0] is Standing.FAILING
    assert judged("https://kv-app.vault.azure.net/secrets/other")[0] is Standing.UNREFERENCED


@pytest.mark.parametrize("restart", [False, True])
def test_a_container_app_is_restarted_only_when_declared_and_confirmed_by_its_identity_s_reads(
    cloud, floor_zero, restart
):
    entry = "containerapp:rg-apps/ca-one" + ("/restart" if restart else "")
    helpers.enroll_storage(cloud, extra_tags={"Consumers": entry})
    app = cloud.containerapps.create("ca-one", {"storage": URL})
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body
    restarts = helpers.calls(cloud, "containerapps.restart_revision")
    assert restarts == (1 if restart else 0) and app.restarts == restarts  # the active revision only
    status, body = helpers.post_rotate(ROTATE)
    if not restart:  # not fetched yet: the platform takes up to 30 minutes
        assert status == 409 and f"consumer {entry} holds it (behind: audit record" in body["error"]["message"], body
        cloud.containerapps.advance(30 * 60)
        status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body
    helpers.holds_live_key(cloud, "storage-key")


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
