"""History (every version, who wrote it, how long it was current) and rollback (the previous key
again, only while it is live), through the CLI and ``POST /api/rollback``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rotators.core.history import history, previous_version
from rotators.core.records import SecretVersionInfo
from rotators.triggers.cli import OK, REFUSED
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _version(name: str, hours: int, **tags: str) -> SecretVersionInfo:
    created = T0 + timedelta(hours=hours)
    return SecretVersionInfo(name="s", version=name, created_on=created, expires_on=None, tags=tags, content_type=None)


def test_history_orders_versions_and_times_each_one_current():
    versions = [
        (_version("b", 24, CredentialId="key2", RotatedBy="event abc"), True),
        (_version("a", 0, credentialid="key1"), True),
        (_version("c", 30, CredentialId="key1", RotatedBy="rollback b"), False),
    ]
    entries = history(versions, now=T0 + timedelta(hours=40))
    assert [e.version for e in entries] == ["a", "b", "c"]
    assert [e.current_for for e in entries] == [timedelta(hours=24), timedelta(hours=6), timedelta(hours=10)]
    assert [e.written_by for e in entries] == ["-", "event abc", "rollback b"]
    assert entries[0].credential == "key1" and entries[-1].is_current and not entries[-1].enabled


def test_the_previous_version_is_the_last_enabled_one_before_the_current():
    versions = [(_version("a", 0), True), (_version("b", 1), False), (_version("c", 2), True)]
    assert previous_version(versions, "c").version == "a"
    assert previous_version(versions, "a") is None
    assert previous_version(versions, "missing") is None


def _rotated_once(cloud) -> str:
    """A Storage secret enrolled on key1 (version v0), rotated by an event to key2; returns v0."""
    v0 = helpers.enroll_storage(cloud)
    helpers.deliver(helpers.event(secret="storage-key", version=v0))
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["CredentialId"] == "key2"
    return v0


def test_history_names_the_trigger_of_each_version_and_no_value(cloud, capsys):
    _rotated_once(cloud)
    code, out, _ = run(capsys, "history", "--vault", VAULT, "--secret", "storage-key")
    assert code == OK
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["VERSION", "CREATED"] and len(lines) == 3
    assert "key1" in lines[1] and lines[1].rstrip().endswith("-")  # seeded outside the product
    assert "key2" in lines[2] and " * " in lines[2] and "event " in lines[2]
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    assert current.tags["RotatedBy"].startswith("event ")


def test_a_rollback_publishes_the_previous_key_again_and_regenerates_nothing(cloud, capsys):
    v0 = _rotated_once(cloud)
    account = cloud.storage.accounts["stapp"]
    key1 = account.keys["key1"]
    code, out, _ = run(capsys, "rollback", "--vault", VAULT, "--secret", "storage-key", "--dry-run")
    assert code == OK and "status: planned" in out and f"restoredVersion: {v0}" in out
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["CredentialId"] == "key2"

    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rolledBack" and body["credential"] == "key1", body
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    helpers.same(current.value, key1, "the previous version's key1")
    assert current.tags["CredentialId"] == "key1" and current.tags["RotatedBy"].startswith("rollback ")
    assert helpers.regenerations(cloud) == 1  # the rotation's; the rollback regenerated nothing
    helpers.holds_live_key(cloud, "storage-key")
    code, out, _ = run(capsys, "history", "--vault", VAULT, "--secret", "storage-key")
    assert "rollback " in out.splitlines()[-1]


def test_a_rollback_to_a_key_regenerated_since_is_refused(cloud, capsys):
    _rotated_once(cloud)
    cloud.storage.accounts["stapp"].regenerate("key1")  # what the next rotation (or someone) did meanwhile
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and body["error"]["code"] == "RollbackRefused", body
    assert "regenerated since" in body["error"]["message"]
    assert cloud.keyvault.current_secret(VAULT, "storage-key").version == before
    code, _, err = run(capsys, "rollback", "--vault", VAULT, "--secret", "storage-key")
    assert code == REFUSED and "RollbackRefused" in err


def test_a_rollback_waits_for_a_rotation_under_way(cloud):
    v0 = _rotated_once(cloud)
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    cloud.inject("storage.regenerate_key", status=503)  # the second rotation's request may still land
    status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "force": True})
    assert status >= 500
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 409 and "under way" in body["error"]["message"], body
    assert cloud.keyvault.current_secret(VAULT, "storage-key").version == current.version != v0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"vaultName": VAULT, "secretName": "only-one"}, 409, "RollbackRefused"),
        ({"vaultName": VAULT, "secretName": "missing"}, 404, "SecretNotFound"),
        ({"vaultName": "kv-elsewhere", "secretName": "storage-key"}, 403, "VaultNotAllowed"),
        ({"vaultName": VAULT, "secretName": "storage-key", "force": True}, 400, "BadRequest"),
        ({"vaultName": VAULT}, 400, "BadRequest"),
    ],
)
def test_bad_rollbacks_are_refused_and_write_nothing(cloud, body, status, code):
    helpers.enroll_storage(cloud, secret="only-one", account="stone")
    _rotated_once(cloud)
    writes = len(cloud.writes())
    answer_status, answer = helpers.post_rollback(body)
    assert (answer_status, answer["error"]["code"]) == (status, code), answer
    assert len(cloud.writes()) == writes


@pytest.mark.parametrize(
    "route", ["keyvault.list_versions", "keyvault.get_secret", "storage.list_keys", "keyvault.set_secret"]
)
def test_a_fault_on_any_rollback_call_changes_nothing_and_a_retry_finishes(cloud, route):
    _rotated_once(cloud)
    cloud.inject(route, status=503, count=4)
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": "storage-key"})
    assert status in (502, 503), body
    assert cloud.keyvault.current_secret(VAULT, "storage-key").tags["CredentialId"] == "key2"
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["credential"] == "key1", body
    helpers.holds_live_key(cloud, "storage-key")


def test_history_of_a_secret_that_does_not_exist_or_a_vault_not_allowed_is_refused(cloud, capsys):
    code, out, err = run(capsys, "history", "--vault", VAULT, "--secret", "missing")
    assert code == REFUSED and "SecretNotFound" in err and out == ""
    code, out, err = run(capsys, "history", "--vault", "kv-elsewhere", "--secret", "storage-key")
    assert code == REFUSED and "VaultNotAllowed" in err and out == ""
    assert not any(call.host.startswith("kv-elsewhere") for call in cloud.calls())  # refused before any call
