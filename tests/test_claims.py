"""One secret per key pair, checked in the record a rotation reads anyway: race-free, and free again
when the owner is deleted or untagged; a rotation's requests do not grow with the vault."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from rotators.core.errors import KeyPairClaimed, RotationInProgress
from rotators.core.settings import get_settings
from tests import helpers
from tests.helpers import VAULT


def enroll(name: str, account) -> object:
    from rotators.core.clouds import VaultAddress
    from rotators.workflows.enrollment import Enrolment
    from rotators.workflows.enrollment import enroll as enroll_secret

    return enroll_secret(VaultAddress.from_name(VAULT), name, Enrolment(account.id, credential="key1"))


def test_two_secrets_enrolled_on_one_pair_at_the_same_moment_one_is_refused(cloud):
    account = cloud.storage.create_account("stapp")
    results = helpers.trigger_all([lambda: enroll("first", account), lambda: enroll("second", account)])
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], KeyPairClaimed | RotationInProgress), results
    loser = "second" if isinstance(results[1], Exception) else "first"
    with pytest.raises(KeyPairClaimed):  # asked again once the winner let go: refused for good
        enroll(loser, account)
    assert helpers.calls(cloud, "keyvault.set_secret") == 1


def test_a_deleted_owner_frees_its_pair(cloud):
    helpers.enroll_storage(cloud, secret="old-name")
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "old-name"})[0] == 200
    # renamed: the new secret holds the current key, the old one is deleted
    current = cloud.keyvault.current_secret(VAULT, "old-name")
    cloud.keyvault.seed_secret(
        VAULT, "new-name", current.value, tags=current.tags, created=helpers.now() - timedelta(days=4)
    )
    cloud.keyvault.vaults[VAULT].secrets.pop("old-name")
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "new-name"})
    assert status == 200 and body["status"] == "rotated", body
    helpers.holds_live_key(cloud, "new-name")


def test_an_owner_no_longer_enrolled_frees_its_pair(cloud):
    helpers.enroll_storage(cloud, secret="first")
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "first"})[0] == 200
    cloud.keyvault.seed_secret(VAULT, "first", "retired")  # a new version without the rotation tags
    helpers.enroll_storage(cloud, secret="second", credential="key2")
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "second"})[0] == 200


def test_a_second_secret_on_an_owned_pair_is_refused_and_stops_the_owner_until_fixed(cloud, monkeypatch):
    """Two vaults: the vault listing could never have seen the other secret; the claim does."""
    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", f"{VAULT},kv-other")
    get_settings.cache_clear()
    cloud.keyvault.create_vault("kv-other")
    account = cloud.storage.create_account("stapp")
    helpers.enroll_storage(cloud, secret="owner")
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "owner"})[0] == 200
    helpers.age_current_version(cloud, "owner", timedelta(days=4))
    live = cloud.keyvault.current_secret(VAULT, "owner")
    tags = {"CredentialId": live.tags["CredentialId"], "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
    cloud.keyvault.seed_secret("kv-other", "copy", live.value, tags=tags, created=helpers.now() - timedelta(days=4))

    status, body = helpers.post_rotate({"vaultName": "kv-other", "secretName": "copy"})
    assert status == 422 and body["error"]["code"] == "KeyPairClaimed"
    assert "secret 'owner' in kv-app" in body["error"]["message"]
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "owner"})
    assert status == 422 and "secret 'copy' in kv-other" in body["error"]["message"], body
    assert helpers.regenerations(cloud) == 1

    cloud.keyvault.seed_secret("kv-other", "copy", "retired")  # the copy is no longer enrolled
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "owner"})
    assert status == 200 and body["status"] == "rotated", body


def test_the_sweep_marks_a_pair_shared_later_as_contested(cloud):
    helpers.enroll_storage(cloud, secret="owner")
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "owner"})[0] == 200
    helpers.age_current_version(cloud, "owner", timedelta(days=4))
    helpers.enroll_storage(cloud, secret="late", credential="key1")  # tagged on the owner's pair afterwards
    from rotators.workflows.sweep import sweep

    assert sweep()["contested"] == 1
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "owner"})
    assert status == 422 and "'late'" in body["error"]["message"]
    assert helpers.regenerations(cloud) == 1


def count(cloud) -> Counter[str]:
    return Counter(call.route for call in cloud.calls() if call.status != 401)


@pytest.mark.parametrize("vault_size", [10, 120])
def test_a_rotation_costs_the_same_in_any_vault_once_its_pair_is_claimed(cloud, vault_size):
    cloud.keyvault.page_size = 25
    for index in range(vault_size):
        helpers.enroll_storage(cloud, secret=f"other-{index}", account=f"stother{index}")
    helpers.enroll_storage(cloud)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    assert count(cloud)["keyvault.list_secrets"] == -(-(vault_size + 1) // 25)  # the first claim lists once
    helpers.age_current_version(cloud, "storage-key", timedelta(days=4))
    cloud.requests.clear()

    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 200
    assert count(cloud) == {
        # Key Vault: read before the lock, read again under it, write
        "keyvault.get_secret": 2,
        "keyvault.set_secret": 1,
        # ARM: the account (key auth, key times), its keys (drift, fingerprint), one regeneration
        "storage.get_account": 1,
        "storage.list_keys": 1,
        "storage.regenerate_key": 1,
        # the new key tested on the account's data plane before it is published
        "storagedata.get_service_properties": 1,
        # the lock at its floor: acquire, read, one save before the request, release
        "blob.lease.acquire": 1,
        "blob.get": 1,
        "blob.put": 1,
        "blob.lease.release": 1,
    }
    assert {call.status for call in cloud.calls() if call.route.startswith("blob.")} <= {200, 201, 206}


def test_a_cosmos_rotation_lists_keys_twice_and_never_reads_the_operation(cloud):
    helpers.enroll_cosmos(cloud)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})[0] == 200
    helpers.age_current_version(cloud, "cosmos-key", timedelta(days=4))
    cloud.requests.clear()
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})[0] == 200
    calls = count(cloud)
    calls.pop("blob.lease.renew", None)  # only when the rotation outlasts half the lease: a loaded machine
    assert calls.pop("cosmosdata.get_account") >= 1  # azure-cosmos reads the account before it lists
    polls = calls.pop("cosmos.get_account")
    assert polls >= 2  # one read before the request, then one per poll until Azure reports the key generated
    assert calls == {
        "keyvault.get_secret": 2,
        "keyvault.set_secret": 1,
        "cosmos.list_keys": 2,  # before (drift check, fingerprint) and once the new key is reported
        "cosmos.regenerate_key": 1,
        # the new key tested before it is published (List Databases)
        "cosmosdata.list_databases": 1,
        "blob.lease.acquire": 1,
        "blob.get": 1,
        "blob.put": 2,  # before the request, and once Azure accepted it
        "blob.lease.release": 1,
    }
