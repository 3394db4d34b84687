"""The sweep: the safety net for lost events and interrupted rotations. Through the timer it runs on the
queues (the timer plans, the queue functions work: tests/queue_worker.py stands in for the host);
``sweep_with`` is the same sweep in one process, as ``python -m rotators sweep`` runs it."""

from __future__ import annotations

import logging
from datetime import timedelta

from tests import helpers
from tests.helpers import VAULT, run_until


def sweep() -> None:
    helpers.sweep()


def test_sweep_rotates_due_secrets_and_leaves_the_rest(cloud, caplog):
    cloud.keyvault.page_size = 3  # several pages
    now = helpers.now()

    def seed(name, created, expires, **tags):
        account = cloud.storage.create_account(f"st{name}")
        tags = {"CredentialId": "key1", "ProviderAddress": account.id, "ValidityPeriodDays": "90", **tags}
        cloud.keyvault.seed_secret(
            VAULT, name, account.keys["key1"], tags=tags, created=now - created, expires=now + expires
        )

    seed("near", timedelta(days=70), timedelta(days=5))
    seed("expired", timedelta(days=95), -timedelta(days=1))
    seed("healthy", timedelta(days=5), timedelta(days=85))
    seed("cooling", timedelta(hours=2), timedelta(days=7), ValidityPeriodDays="7")
    seed("broken", timedelta(days=70), timedelta(days=5), CredentialId="key9")
    for index in range(4):
        cloud.keyvault.seed_secret(VAULT, f"plain-{index}", "not enrolled")

    sweep()

    assert cloud.keyvault.current_secret(VAULT, "near").tags["CredentialId"] == "key2"
    helpers.holds_live_key(cloud, "near")
    helpers.holds_live_key(cloud, "expired")
    for untouched in ("healthy", "cooling", "broken"):
        assert len(cloud.keyvault.secret_versions(VAULT, untouched)) == 1, untouched
    assert helpers.regenerations(cloud) == 2 and helpers.calls(cloud, "keyvault.set_secret") == 2
    # One listing of three pages (after Key Vault's auth challenge, if this process has not met it yet).
    assert [c.status for c in cloud.calls("keyvault.list_secrets") if c.status != 401] == [200, 200, 200]
    assert any(
        "broken" in r.getMessage() and "key9" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR
    )


def test_sweep_finishes_an_interrupted_rotation(cloud, azurite):
    version = helpers.enroll_cosmos(cloud, secret="interrupted")
    cloud.keyvault.current_secret(VAULT, "interrupted").expires = int((helpers.now() + timedelta(days=60)).timestamp())
    fault = cloud.inject("cosmos.get_account", delay=60, skip=1)  # while it waits on the operation
    run_until(fault, "interrupted")
    cloud.faults.clear()
    helpers.expire_lock(cloud, azurite.connection_string, "interrupted")
    cloud.cosmosdb.advance(1)  # the operation itself ends long before the next hourly sweep
    sweep()
    current = cloud.keyvault.current_secret(VAULT, "interrupted")
    assert current.version != version and current.tags["CredentialId"] == "secondary"
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, "interrupted")


def test_sweep_respects_the_lock_and_keeps_going_after_a_failure(cloud, caplog):
    from rotators.adapters import clients
    from rotators.workflows.sweep import sweep as sweep_with

    now = helpers.now()
    for name in ("a-locked", "b-failing", "c-fine"):
        account = cloud.storage.create_account(f"st{name}")
        tags = {"CredentialId": "key1", "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
        cloud.keyvault.seed_secret(
            VAULT,
            name,
            account.keys["key1"],
            tags=tags,
            created=now - timedelta(days=70),
            expires=now + timedelta(days=3),
        )
    blob = clients.lock_container().get_blob_client(helpers.pair_blob_name(cloud, "a-locked"))
    blob.upload_blob(b"", overwrite=True)
    blob.acquire_lease(lease_duration=15)
    del cloud.storage.accounts["stb-failing"]  # b-failing's rotation fails: its account is gone
    tally = sweep_with()
    assert tally == {"RotationInProgress": 1, "ResourceNotFound": 1, "rotated": 1}
    assert (
        len(cloud.keyvault.secret_versions(VAULT, "a-locked")) == 1
        and len(cloud.keyvault.secret_versions(VAULT, "b-failing")) == 1
    )
    assert cloud.keyvault.current_secret(VAULT, "c-fine").tags["CredentialId"] == "key2"
    assert any("b-failing" in r.getMessage() and "does not exist" in r.getMessage() for r in caplog.records)


def test_sweep_refuses_to_run_without_an_allowlist(cloud, monkeypatch):
    import pytest

    from rotators.core.errors import ConfigurationError
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", "")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError):
        sweep()
    assert cloud.calls() == []


def test_sweep_refuses_secrets_sharing_a_key_pair_and_defers_what_its_budget_leaves(cloud, caplog):
    from rotators.workflows.sweep import sweep as sweep_with

    now = helpers.now()
    account = cloud.storage.create_account("stshared")
    for name, credential in (("one", "key1"), ("two", "key2")):
        tags = {"CredentialId": credential, "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
        cloud.keyvault.seed_secret(
            VAULT, name, account.keys[credential], tags=tags, created=now - timedelta(days=70), expires=now
        )
    helpers.enroll_storage(cloud, secret="due", account="stdue")
    cloud.keyvault.current_secret(VAULT, "due").expires = int(now.timestamp())

    tally = sweep_with(budget_seconds=0)
    assert tally == {"misconfigured": 2, "deferred": 1}
    assert cloud.writes() == []
    shared = [r.getMessage() for r in caplog.records if "both rotate the key1/key2 pair of stshared" in r.getMessage()]
    assert len(shared) == 2 and any("budget" in r.getMessage() for r in caplog.records)

    assert sweep_with()["rotated"] == 1
    assert [r.path.split("/")[-2] for r in cloud.writes() if r.route == "storage.regenerate_key"] == ["stdue"]
