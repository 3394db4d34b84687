"""Trust the keys, not only the tags: drift, dead keys and resources that refuse keys are never rotated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import helpers
from tests.helpers import VAULT


def seed(cloud, resource, *, credential: str, value: str, fmt: str = "Key") -> str:
    tags = {"CredentialId": credential, "ProviderAddress": resource.id, "ValidityPeriodDays": "90"}
    if fmt != "Key":
        tags["ValueFormat"] = fmt
    return cloud.keyvault.seed_secret(VAULT, "s", value, tags=tags, created=helpers.now() - timedelta(days=3))


def storage(cloud):
    return cloud.storage.create_account("stapp")


def cosmos(cloud):
    return cloud.cosmosdb.create_account("cosmos-app")


DRIFTS = [
    # (account, CredentialId, the key the value really is, value format)
    (storage, "key1", "key2", "Key"),
    (storage, "key2", "key1", "ConnectionString"),
    (cosmos, "primary", "secondary", "Key"),
    (cosmos, "secondaryReadonly", "primaryReadonly", "ConnectionString"),
]


@pytest.mark.parametrize(("make", "credential", "really", "fmt"), DRIFTS)
def test_a_value_that_is_the_alternate_key_is_drift_and_nothing_is_regenerated(cloud, make, credential, really, fmt):
    resource = make(cloud)
    value = helpers.secret_value(resource, resource.keys[really], connection_string=fmt == "ConnectionString")
    version = seed(cloud, resource, credential=credential, value=value, fmt=fmt)
    for force in (False, True):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "s", "force": force})
        assert status == 422 and body["error"]["code"] == "CredentialDrift", body
        assert f"Set the tag CredentialId to {really}" in body["error"]["message"]
    helpers.deliver(helpers.event(secret="s", version=version))
    assert helpers.regenerations(cloud) == 0
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize("make", [storage, cosmos])
@pytest.mark.parametrize("value", ["not-a-key", "", "AccountKey=;", "DefaultEndpointsProtocol=https"])
def test_a_dead_key_is_refused_and_force_writes_the_live_one_without_regenerating(cloud, caplog, make, value):
    resource = make(cloud)
    credential = "key1" if make is storage else "primary"
    seed(cloud, resource, credential=credential, value=value)
    live = dict(resource.keys)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "s"})
    assert status == 422 and body["error"]["code"] == "SecretBroken" and "force" in body["error"]["message"]
    assert any(r.levelname == "ERROR" and "dead key" in r.getMessage() for r in caplog.records)
    helpers.assert_nothing_written(cloud)

    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "s", "force": True})
    assert status == 200 and body["status"] == "repaired" and body["newCredential"] == credential, body
    current = cloud.keyvault.current_secret(VAULT, "s")
    helpers.same(current.value, live[credential], f"the live {credential} written back")
    assert current.tags["CredentialId"] == credential
    assert helpers.regenerations(cloud) == 0 and resource.keys == live


@pytest.mark.parametrize(
    ("make", "switch_off", "reason"),
    [
        (storage, lambda account: setattr(account, "allow_shared_key_access", False), "allowSharedKeyAccess is false"),
        (cosmos, lambda account: setattr(account, "disable_local_auth", True), "disableLocalAuth is true"),
    ],
)
def test_a_resource_that_refuses_keys_is_never_rotated_nor_enrolled(cloud, capsys, make, switch_off, reason):
    resource = make(cloud)
    credential = "key1" if make is storage else "primary"
    version = seed(cloud, resource, credential=credential, value=resource.keys[credential])
    switch_off(resource)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "s", "force": True})
    assert status == 422 and body["error"]["code"] == "KeyAuthDisabled", body
    assert reason in body["error"]["message"] and "managed identity" in body["error"]["message"]
    helpers.deliver(helpers.event(secret="s", version=version))
    from rotators.triggers.cli import REFUSED, main

    assert main(["enroll", "--vault", VAULT, "--secret", "new", "--resource-id", resource.id]) == REFUSED
    helpers.PRODUCED.extend(capsys.readouterr())
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert f"key auth disabled: the {'storage account' if make is storage else 'Cosmos DB account'}" in out
    assert helpers.regenerations(cloud) == 0
    helpers.assert_nothing_written(cloud)


def test_a_dry_run_reports_drift_without_writing(cloud):
    resource = storage(cloud)
    seed(cloud, resource, credential="key1", value=resource.keys["key2"])
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "s", "dryRun": True})
    assert status == 422 and body["error"]["code"] == "CredentialDrift"
    helpers.assert_nothing_written(cloud)
