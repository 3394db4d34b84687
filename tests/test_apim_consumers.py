"""API Management named values as consumers: refreshed once after each write (``refreshSecret``), confirming a
version once ``lastStatus`` says a fetch succeeded after it was written; found by discovery."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION
from rotators.core.consumers import (
    Consumer,
    ConsumerKind,
    NamedValue,
    Standing,
    judge_named_value,
    parse_consumers,
)
from rotators.core.errors import NotRotatable
from rotators.triggers.cli import OK
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run

IDENTIFIER = "https://kv-app.vault.azure.net/secrets/storage-key"
ROTATE = {"vaultName": VAULT, "secretName": "storage-key"}
NAMED = "apim:rg-apps/apim-one/storage-key-nv"


def test_a_named_value_entry_names_group_service_and_named_value():
    (consumer,) = parse_consumers(NAMED).consumers
    assert consumer == Consumer("rg-apps", "apim-one", "storage-key-nv", kind=ConsumerKind.API_MANAGEMENT)
    assert str(consumer) == NAMED
    for bad in ("apim:rg/svc", "apim:rg/1svc/nv", "apim:rg/svc/..", "apim:rg/svc/a?b", "apim:rg/svc/nv/x"):
        with pytest.raises(NotRotatable, match="entry 1"):
            parse_consumers(bad)


def test_judging_a_named_value_s_last_status():
    consumer = Consumer("rg", "svc", "nv", kind=ConsumerKind.API_MANAGEMENT)
    written = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later, earlier = written + timedelta(minutes=6), written - timedelta(minutes=1)

    def state(identifier: str = IDENTIFIER, code: str | None = "Success", at: datetime | None = later) -> Standing:
        named = NamedValue("nv", identifier, code, at)
        return judge_named_value(consumer, named, ("kv-app", "storage-key"), "v2", written).state

    assert state() is Standing.MOVED
    assert state(at=earlier) is Standing.BEHIND
    assert state(at=written + timedelta(minutes=1)) is Standing.BEHIND  # its clock may run ahead of Key Vault's
    assert state(code="Forbidden") is Standing.FAILING
    assert state(identifier=IDENTIFIER + "/0123") is Standing.FAILING  # pinned
    assert state(identifier="https://kv-app.vault.azure.net/secrets/other") is Standing.UNREFERENCED
    assert state(code=None, at=None) is Standing.UNREPORTED


def test_a_rotation_refreshes_the_named_value_once_and_the_next_one_waits_for_its_fetch(cloud, monkeypatch):
    monkeypatch.setenv("ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", "0")
    helpers.enroll_storage(cloud, extra_tags={"Consumers": NAMED})
    cloud.apimanagement.advance(-60)  # its first fetch, a minute before the rotation
    service = cloud.apimanagement.create("apim-one", {"storage-key-nv": IDENTIFIER})
    cloud.apimanagement.advance(60)
    service.named_values["storage-key-nv"].refresh_delay = 600  # the refresh's fetch lands ten minutes later
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body
    (report,) = body["consumers"]
    assert report["state"] == "behind" and "not surely after version" in report["detail"], report
    assert helpers.calls(cloud, "apimanagement.refresh_secret") == 1
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and f"consumer {NAMED} holds it (behind" in body["error"]["message"], body
    cloud.apimanagement.advance(600)
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body
    assert helpers.calls(cloud, "apimanagement.refresh_secret") == 2  # one per written version
    helpers.holds_live_key(cloud, "storage-key")


def test_a_named_value_that_cannot_fetch_holds_the_cool_down_naming_itself(cloud):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": NAMED})
    service = cloud.apimanagement.create("apim-one", {"storage-key-nv": IDENTIFIER})
    service.named_values["storage-key-nv"].vault_access = False
    assert helpers.post_rotate(ROTATE)[0] == 200
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and f"consumer {NAMED} holds it (failing" in body["error"]["message"], body
    assert helpers.regenerations(cloud) == 1


@pytest.mark.parametrize("route", ["apimanagement.refresh_secret", "apimanagement.get_named_value"])
def test_a_named_value_that_fails_never_fails_the_rotation(cloud, route):
    helpers.enroll_storage(cloud, extra_tags={"Consumers": NAMED})
    cloud.apimanagement.create("apim-one", {"storage-key-nv": IDENTIFIER})
    cloud.inject(route, status=503, count=10)
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body
    assert body["consumers"][0]["state"] == "unreachable"
    helpers.holds_live_key(cloud, "storage-key")


def test_discovery_finds_named_values_that_reference_the_secret(cloud, capsys):
    version = helpers.enroll_storage(cloud)
    cloud.apimanagement.create("apim-one", {"storage-key-nv": IDENTIFIER, "other": IDENTIFIER.replace("storage", "x")})
    scope = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg-apps"
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--scope", scope, "--apply")
    assert code == OK and NAMED in out and "other" not in out.split("recorded")[0], out
    assert f"recorded 1 consumers in tag Consumers of version {version}" in out, out
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["Consumers"] == NAMED
