"""Verify before publish: a regenerated key is tested on the resource's data plane (the stand-in
accepts only live keys, signed as the service documents) before any app is given it."""

from __future__ import annotations

import pytest

from rotators.core.errors import ConfigurationError
from rotators.core.settings import Settings
from tests import helpers
from tests.helpers import VAULT


def _rotate() -> tuple[int, dict]:
    return helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})


def _tested(cloud) -> int:
    return helpers.calls(cloud, "storagedata.get_service_properties")


def test_the_new_key_is_tested_with_the_service_s_own_sdk_before_it_is_published(cloud, verify):
    verify(None)  # the default: best-effort
    helpers.enroll_storage(cloud)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert _tested(cloud) == 1
    helpers.holds_live_key(cloud, "storage-key")


def test_a_key_still_propagating_is_not_published_until_it_works(cloud, verify):
    verify("best-effort")
    cloud.storagedata.propagation_seconds = 3600
    helpers.enroll_storage(cloud)
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    status, body = _rotate()
    assert status == 202 and body["status"] == "pending" and "not accepted" in body["reason"], body
    assert cloud.keyvault.current_secret(VAULT, "storage-key").version == before  # never published while refused
    assert _tested(cloud) >= 2  # retried with backoff inside the trigger's time
    cloud.advance(3600)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.regenerations(cloud) == 1  # tested again, never regenerated again
    helpers.holds_live_key(cloud, "storage-key")


@pytest.mark.parametrize("silence", ["stall", "drop"])
def test_a_refused_key_is_not_published_when_its_next_test_gets_no_answer(cloud, verify, silence):
    """Best-effort publishes a key it could not test, never one the service has already refused."""
    verify("best-effort")
    cloud.storagedata.propagation_seconds = 3600
    helpers.enroll_storage(cloud)
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    fault = {"delay": 30.0} if silence == "stall" else {"drop": True}
    cloud.inject("storagedata.get_service_properties", skip=1, count=20, **fault)
    status, body = _rotate()
    assert status == 202 and body["status"] == "pending" and "not accepted" in body["reason"], body
    assert cloud.keyvault.current_secret(VAULT, "storage-key").version == before


@pytest.mark.parametrize(
    ("mode", "published", "tested_later"),
    [("best-effort", True, False), ("required", False, True), ("off", True, False)],
)
def test_an_unreachable_data_plane_under_each_mode(cloud, verify, mode, published, tested_later):
    verify(mode)
    cloud.storagedata.reachable = False  # behind a firewall the function is outside of
    helpers.enroll_storage(cloud)
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    status, body = _rotate()
    assert (status == 200) is published and (body["status"] == "rotated") is published, body
    if not published:
        assert status == 202 and "cannot be reached" in body["reason"]
        assert cloud.keyvault.current_secret(VAULT, "storage-key").version == before
        cloud.storagedata.reachable = True
        status, body = _rotate()
        assert status == 200 and body["status"] == "rotated", body
    assert helpers.regenerations(cloud) == 1
    assert (_tested(cloud) > 0) is tested_later  # a refused CONNECT logs no call
    helpers.holds_live_key(cloud, "storage-key")


@pytest.mark.parametrize("fault", [{"status": 503, "count": 10}, {"drop": True, "count": 10}])
def test_a_fault_on_the_test_waits_when_required_and_never_publishes_an_untested_key(cloud, verify, fault):
    verify("required")
    helpers.enroll_storage(cloud)
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    cloud.inject("storagedata.get_service_properties", **fault)
    status, body = _rotate()
    assert status == 202 and body["status"] == "pending", body
    assert cloud.keyvault.current_secret(VAULT, "storage-key").version == before
    cloud.faults.clear()
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.regenerations(cloud) == 1


def test_a_kind_without_a_data_plane_test_is_published_untested_even_when_required(cloud, verify):
    verify("required")
    helpers.enroll_servicebus(cloud, secret="storage-key")
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    helpers.holds_live_key(cloud, "storage-key")


def test_the_stand_in_refuses_a_key_that_is_not_live(cloud):
    """The data plane accepts only the account's live keys: what makes the test above a test."""
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobServiceClient

    account = cloud.storage.create_account("stcheck")
    url = "https://stcheck.blob.core.windows.net"
    BlobServiceClient(
        url, credential={"account_name": "stcheck", "account_key": account.keys["key2"]}
    ).get_service_properties()
    stale = account.keys["key1"]
    account.regenerate("key1")
    with pytest.raises(HttpResponseError) as refused:
        BlobServiceClient(url, credential={"account_name": "stcheck", "account_key": stale}).get_service_properties()
    assert refused.value.status_code == 403 and refused.value.error_code == "AuthenticationFailed"


@pytest.mark.parametrize("raw", ["sometimes", "REQUIRED!", "1"])
def test_rotation_verify_has_three_values(raw):
    with pytest.raises(ConfigurationError, match="ROTATION_VERIFY"):
        Settings.from_environ({"ROTATION_VERIFY": raw})
    assert Settings.from_environ({"ROTATION_VERIFY": "Required"}).verify == "required"


def test_a_cosmos_key_is_tested_with_azure_cosmos_and_waits_out_its_propagation(cloud, verify):
    verify("best-effort")
    cloud.cosmosdata.propagation_seconds = 3600  # minutes in every region, per Microsoft's rotation doc
    helpers.enroll_cosmos(cloud)
    before = cloud.keyvault.current_secret(VAULT, "cosmos-key").version
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 202 and body["status"] == "pending", body
    assert cloud.keyvault.current_secret(VAULT, "cosmos-key").version == before
    cloud.advance(3600)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.calls(cloud, "cosmos.regenerate_key") == 1
    assert helpers.calls(cloud, "cosmosdata.list_databases") == 1
    helpers.holds_live_key(cloud, "cosmos-key")


@pytest.mark.parametrize("route", ["cosmosdata.get_account", "cosmosdata.list_databases"])
def test_a_cosmos_data_plane_error_is_untested_not_a_crash(cloud, verify, route):
    """A 500 from the data plane says nothing about the key: best-effort publishes, with a warning."""
    verify("best-effort")
    helpers.enroll_cosmos(cloud)
    cloud.inject(route, status=500, count=20)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 200 and body["status"] == "rotated", body
    helpers.holds_live_key(cloud, "cosmos-key")
