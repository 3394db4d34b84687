"""The stand-in answers the real SDK clients, built as production builds them, as Azure would."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from localazure.services.cosmosdb.models import KEY_FIELDS as COSMOS_KEY_FIELDS
from rotators.adapters import clients
from rotators.core.clouds import PUBLIC
from tests import helpers


def test_key_vault_secret_operations_through_the_real_client(cloud):
    client = clients.secret_client(helpers.VAULT_URL)
    expires = helpers.now() + timedelta(days=90)
    first = client.set_secret(
        "app-key", "v1", tags={"CredentialId": "key1"}, content_type="text/plain", expires_on=expires, enabled=True
    )
    second = client.set_secret("app-key", "v2")

    latest = client.get_secret("app-key")
    assert latest.value == "v2" and latest.properties.version == second.properties.version
    assert latest.id.startswith("https://kv-app.vault.azure.net/secrets/app-key/")
    old = client.get_secret("app-key", first.properties.version)
    assert old.value == "v1" and old.properties.tags == {"CredentialId": "key1"}
    assert old.properties.content_type == "text/plain" and old.properties.enabled
    assert abs(old.properties.expires_on.timestamp() - expires.timestamp()) < 1
    assert old.properties.created_on is not None and old.properties.updated_on is not None

    updated = client.update_secret_properties("app-key", first.properties.version, enabled=False, tags={"a": "b"})
    assert updated.enabled is False and updated.tags == {"a": "b"}
    versions = [p.version for p in client.list_properties_of_secret_versions("app-key")]
    assert versions == [first.properties.version, second.properties.version]


def test_key_vault_lists_page_with_next_link(cloud):
    cloud.keyvault.page_size = 2
    for index in range(5):
        cloud.keyvault.seed_secret(helpers.VAULT, f"secret-{index}", "x", tags={"n": str(index)})
    names = [p.name for p in clients.secret_client(helpers.VAULT_URL).list_properties_of_secrets()]
    assert names == [f"secret-{index}" for index in range(5)]
    assert helpers.calls(cloud, "keyvault.list_secrets") == 3


def test_key_vault_errors_have_the_service_shape(cloud):
    client = clients.secret_client(helpers.VAULT_URL)
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_secret("nope")
    assert missing.value.error.code == "SecretNotFound"


def test_key_vault_challenges_unauthenticated_requests(cloud):
    response = requests.get(f"{helpers.VAULT_URL}/secrets/x?api-version=7.5", timeout=5)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer authorization="https://login.microsoftonline.com/')
    assert 'resource="https://vault.azure.net"' in challenge
    assert response.json()["error"]["code"] == "Unauthorized"


def _token(cloud, resource: str, header: str | None = None) -> requests.Response:
    return requests.get(
        os.environ["IDENTITY_ENDPOINT"],
        params={"resource": resource, "api-version": "2019-08-01"},
        headers={"X-IDENTITY-HEADER": header or os.environ["IDENTITY_HEADER"]},
        timeout=5,
    )


def test_identity_endpoint_issues_tokens_and_rejects_a_wrong_header(cloud):
    answer = _token(cloud, "https://vault.azure.net").json()
    assert answer["token_type"] == "Bearer" and answer["resource"] == "https://vault.azure.net"
    assert int(answer["expires_on"]) > time.time()
    assert _token(cloud, "https://vault.azure.net", header="wrong").status_code == 401


def test_each_service_rejects_the_other_services_audience(cloud):
    arm_token = _token(cloud, "https://management.azure.com").json()["access_token"]
    vault_token = _token(cloud, "https://vault.azure.net").json()["access_token"]
    at_vault = requests.get(
        f"{helpers.VAULT_URL}/secrets/x?api-version=7.5", headers={"Authorization": f"Bearer {arm_token}"}, timeout=5
    )
    assert at_vault.status_code == 401 and "AKV10022" in at_vault.json()["error"]["message"]
    account = cloud.storage.create_account("staudience")
    at_arm = requests.post(
        f"https://management.azure.com{account.id}/listKeys?api-version=2023-01-01",
        headers={"Authorization": f"Bearer {vault_token}"},
        timeout=5,
    )
    assert at_arm.status_code == 401
    assert at_arm.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert [r.audience for r in cloud.calls("storage.list_keys")] == ["https://vault.azure.net"]


def test_storage_list_and_regenerate_keys(cloud):
    account = cloud.storage.create_account("stkeys")
    accounts = clients.storage_client(account.subscription, PUBLIC).storage_accounts
    # azure-mgmt-storage 25.x sends $expand=kerb by default: keys must be picked by name.
    listed = accounts.list_keys(account.resource_group, account.name)
    assert [k.key_name for k in listed.keys_property] == ["key1", "key2", "kerb1", "kerb2"]
    helpers.same({k.key_name: k.value for k in listed.keys_property}["key2"], account.keys["key2"], "key2 listed")
    assert all(k.permissions.lower() == "full" and k.creation_time for k in listed.keys_property)
    assert cloud.calls("storage.list_keys")[-1].path.endswith("/listKeys")

    from azure.mgmt.storage.models import StorageAccountRegenerateKeyParameters

    before = dict(account.keys)
    for name in ("key1", "key2", "kerb1", "kerb2"):
        result = accounts.regenerate_key(
            account.resource_group, account.name, StorageAccountRegenerateKeyParameters(key_name=name)
        )
        assert name in [k.key_name for k in result.keys_property]
    for name, old in before.items():
        helpers.differ(account.keys[name], old, f"{name} regenerated")


def test_cosmos_keys_and_long_running_regeneration(cloud):
    from azure.mgmt.cosmosdb.models import DatabaseAccountRegenerateKeyParameters

    cloud.cosmosdb.status_readable = True  # the SDK's poller reads the subscription-scoped status URL
    account = cloud.cosmosdb.create_account("cosmos-keys")
    accounts = clients.cosmos_client(account.subscription, PUBLIC).database_accounts
    keys = accounts.list_keys(account.resource_group, account.name)
    helpers.same(keys.primary_master_key, account.keys["primary"], "the primary key listed")
    helpers.same(keys.secondary_readonly_master_key, account.keys["secondaryReadonly"], "the read-only key listed")
    read_only = accounts.list_read_only_keys(account.resource_group, account.name)
    helpers.same(read_only.primary_readonly_master_key, account.keys["primaryReadonly"], "the read-only key listed")
    strings = accounts.list_connection_strings(account.resource_group, account.name).connection_strings
    assert strings[0].connection_string.startswith("AccountEndpoint=https://cosmos-keys.documents.azure.com:443/;")

    for kind in COSMOS_KEY_FIELDS:
        before = account.keys[kind]
        poller = accounts.begin_regenerate_key(
            account.resource_group, account.name, DatabaseAccountRegenerateKeyParameters(key_kind=kind)
        )
        helpers.same(account.keys[kind], before, "the key unchanged until the operation completes")
        poller.result()
        helpers.differ(account.keys[kind], before, f"{kind} regenerated")
    statuses = [r.status for r in cloud.calls("cosmos.operation_status")]
    assert statuses and all(status == 200 for status in statuses)
    initial = cloud.calls("cosmos.regenerate_key")
    assert {r.status for r in initial} == {202}


def test_cosmos_operation_can_fail_and_resume_from_a_continuation_token(cloud):
    from azure.mgmt.cosmosdb.models import DatabaseAccountRegenerateKeyParameters

    cloud.cosmosdb.status_readable = True
    account = cloud.cosmosdb.create_account("cosmos-fail")
    accounts = clients.cosmos_client(account.subscription, PUBLIC).database_accounts
    cloud.cosmosdb.fail_operations(1)
    with pytest.raises(HttpResponseError):
        accounts.begin_regenerate_key(
            account.resource_group, account.name, DatabaseAccountRegenerateKeyParameters(key_kind="primary")
        ).result()
    cloud.cosmosdb.operation_delay = 0.5
    before = account.keys["secondary"]
    token = accounts.begin_regenerate_key(
        account.resource_group, account.name, DatabaseAccountRegenerateKeyParameters(key_kind="secondary")
    ).continuation_token()
    accounts.begin_regenerate_key(account.resource_group, account.name, None, continuation_token=token).result()
    helpers.differ(account.keys["secondary"], before, "secondary regenerated")


@pytest.mark.parametrize("state", ["Succeeded", "Updating"])
def test_cosmos_account_state_while_a_regeneration_runs_is_an_option(cloud, state):
    from azure.mgmt.cosmosdb.models import DatabaseAccountRegenerateKeyParameters

    cloud.cosmosdb.provisioning_state_while_regenerating = state
    account = cloud.cosmosdb.create_account("cosmos-state")
    accounts = clients.cosmos_client(account.subscription, PUBLIC).database_accounts
    found = accounts.get(account.resource_group, account.name)
    assert (found.id, found.provisioning_state, found.kind) == (account.id, "Succeeded", "GlobalDocumentDB")
    cloud.cosmosdb.operation_delay = 10
    accounts.begin_regenerate_key(
        account.resource_group,
        account.name,
        DatabaseAccountRegenerateKeyParameters(key_kind="secondary"),
        polling=False,
    )
    assert accounts.get(account.resource_group, account.name).provisioning_state == state
    cloud.cosmosdb.advance(10)
    assert accounts.get(account.resource_group, account.name).provisioning_state == "Succeeded"


def test_cosmos_regeneration_answers_as_recorded_and_its_status_url_is_outside_the_account(cloud):
    """202 {"status":"Enqueued"}, status on the subscription's locations (403 to an account-scoped role),
    result on the account (azure-cli recordings test_keys_database_account.yaml, 2020 and 2023)."""
    cloud.cosmosdb.operation_delay = 10
    account = cloud.cosmosdb.create_account("cosmos-wire")
    token = _token(cloud, "https://management.azure.com").json()["access_token"]
    url = f"https://management.azure.com{account.id}/regenerateKey?api-version=2023-11-15"
    answer = _arm(cloud, "POST", url, token, {"keyKind": "primary"})
    assert (answer.status_code, answer.json()) == (202, {"status": "Enqueued"})
    status, result = answer.headers["Azure-AsyncOperation"], answer.headers["Location"]
    assert "/providers/Microsoft.DocumentDB/locations/eastus/operationsStatus/" in status
    assert result.startswith(f"https://management.azure.com{account.id}/regenerateKey/operationResults/")
    denied = _arm(cloud, "GET", status, token)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "AuthorizationFailed")
    cloud.cosmosdb.status_readable = True
    assert _arm(cloud, "GET", status, token).json()["status"] == "Enqueued"
    cloud.cosmosdb.advance(6)
    assert _arm(cloud, "GET", status, token).json()["status"] == "Dequeued"
    cloud.cosmosdb.advance(4)
    assert _arm(cloud, "GET", status, token).json() == {"status": "Succeeded"}
    assert _arm(cloud, "GET", result, token).json() == {"status": "Succeeded"}


def test_arm_refuses_a_call_no_assignment_covers_as_recorded(cloud):
    """ARM's AuthorizationFailed (Azure/ARO-RP#66, Azure/azure-cli#29644): the action ARM's naming of the URL
    gives, over the path (a POST's without its action), and only assignments that cover both let a call through."""
    account = cloud.storage.create_account("stroles")
    token = _token(cloud, "https://management.azure.com").json()["access_token"]
    url = f"https://management.azure.com{account.id}/listKeys?api-version={clients.STORAGE_API_VERSION}"
    cloud.arm.assign(account.id, ["Microsoft.Storage/storageAccounts/read"])
    denied = _arm(cloud, "POST", url, token)
    principal = cloud.identity.principal_id
    assert (denied.status_code, denied.json()) == (
        403,
        {
            "error": {
                "code": "AuthorizationFailed",
                "message": f"The client '{principal}' with object id '{principal}' does not have authorization to "
                f"perform action 'Microsoft.Storage/storageAccounts/listKeys/action' over scope '{account.id}' or "
                "the scope is invalid. If access was recently granted, please refresh your credentials.",
            }
        },
    )
    group = "/".join(account.id.split("/")[:5])
    cloud.arm.assign(group.lower(), ["microsoft.storage/*/listkeys/ACTION"])  # a group's, ignoring case, a wildcard
    assert _arm(cloud, "POST", url, token).status_code == 200
    other = cloud.storage.create_account("stother", resource_group="rg-other")
    outside = f"https://management.azure.com{other.id}/listKeys?api-version={clients.STORAGE_API_VERSION}"
    assert _arm(cloud, "POST", outside, token).status_code == 403


def test_listed_keys_may_lag_the_operation_as_an_option(cloud):
    cloud.cosmosdb.operation_delay = 10
    cloud.cosmosdb.list_keys_lag = 60
    account = cloud.cosmosdb.create_account("cosmos-lag")
    before = account.keys["primary"]
    token = _token(cloud, "https://management.azure.com").json()["access_token"]
    base = f"https://management.azure.com{account.id}"
    _arm(cloud, "POST", f"{base}/regenerateKey?api-version=2023-11-15", token, {"keyKind": "primary"})
    cloud.cosmosdb.advance(10)
    listed = _arm(cloud, "POST", f"{base}/listKeys?api-version=2023-11-15", token).json()["primaryMasterKey"]
    helpers.same(listed, before, "the old key listed during the lag")
    cloud.cosmosdb.advance(60)
    listed = _arm(cloud, "POST", f"{base}/listKeys?api-version=2023-11-15", token).json()["primaryMasterKey"]
    helpers.differ(listed, before, "the new key listed after the lag")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://management.azure.com{id}/listKeys?api-version=2026-03-15", "NoRegisteredProviderFound"),
        ("https://kv-app.vault.azure.net/secrets/x?api-version=2026-04-01", "BadParameter"),
    ],
)
def test_the_stand_in_refuses_api_versions_it_does_not_know(cloud, url, code):
    """A dependency bump cannot silently change what is sent: unknown versions get the service's 400."""
    account = cloud.cosmosdb.create_account("cosmos-versions")
    audience = "https://vault.azure.net" if "vault" in url else "https://management.azure.com"
    answer = _arm(
        cloud,
        "POST" if "listKeys" in url else "GET",
        url.format(id=account.id),
        _token(cloud, audience).json()["access_token"],
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, code)


def _arm(cloud, method: str, url: str, token: str, body: object = None) -> requests.Response:
    return requests.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_unknown_resources_get_arm_errors(cloud):
    accounts = clients.storage_client("00000000-0000-0000-0000-000000000001", PUBLIC).storage_accounts
    cloud.storage.create_account("stexists", resource_group="rg-known")
    with pytest.raises(ResourceNotFoundError) as no_account:
        accounts.list_keys("rg-known", "stmissing")
    assert no_account.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as no_group:
        accounts.list_keys("rg-missing", "stmissing")
    assert no_group.value.error.code == "ResourceGroupNotFound"


def test_injected_503_is_retried_by_the_sdk(cloud):
    cloud.keyvault.seed_secret(helpers.VAULT, "flaky", "v")
    client = clients.secret_client(helpers.VAULT_URL)
    client.get_secret("flaky")  # past the authentication challenge
    cloud.inject("keyvault.get_secret", status=503, retry_after=0)
    assert client.get_secret("flaky").properties.name == "flaky"
    statuses = [r.status for r in cloud.calls("keyvault.get_secret")]
    assert statuses[-2:] == [503, 200]


def test_injected_429_dropped_connection_and_latency(cloud):
    cloud.keyvault.seed_secret(helpers.VAULT, "flaky", "v")
    client = clients.secret_client(helpers.VAULT_URL)
    client.get_secret("flaky")
    cloud.inject("keyvault.get_secret", status=429, retry_after=1)
    cloud.inject("keyvault.get_secret", drop=True)
    started = time.monotonic()
    client.get_secret("flaky")
    assert time.monotonic() - started >= 1, "the SDK waited for Retry-After"
    assert [r.status for r in cloud.calls("keyvault.get_secret")][-3:] == [429, 0, 200]
    cloud.inject("keyvault.get_secret", delay=0.3)
    started = time.monotonic()
    client.get_secret("flaky")
    assert time.monotonic() - started >= 0.3


def _regenerate_hub_rule(cloud, body: object) -> tuple[requests.Response, object]:
    rule = cloud.notificationhubs.create_rule("nh-keys", "send", entity=("notificationHubs", "mobile"))
    url = f"https://management.azure.com{rule.id}/regenerateKeys?api-version=2023-09-01"
    return _arm(cloud, "POST", url, _token(cloud, "https://management.azure.com").json()["access_token"], body), rule


@pytest.mark.parametrize("policy_key", ["SecondaryKey", "Secondary Key", "secondarykey"])
def test_notification_hubs_reads_the_policy_key_as_an_open_string(cloud, policy_key):
    """PolicyKeyType is modelAsString (2023-09-01) and Azure/aaz's 2017-04-01 examples send "Secondary Key";
    PolicyKeyResource has no ``key``: a value sent in one is not the new key."""
    answer, rule = _regenerate_hub_rule(cloud, {"policyKey": policy_key, "key": "chosen"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["secondaryKey"] == rule.keys["SecondaryKey"] != "chosen"


def test_notification_hubs_refuses_a_policy_key_naming_neither_key(cloud):
    answer, _ = _regenerate_hub_rule(cloud, {"policyKey": "TertiaryKey"})
    assert answer.status_code == 400, answer.text
    assert helpers.calls(cloud, "notificationhubs.regenerate_keys") == 1 and not helpers.regenerations(cloud)


def test_an_injected_status_after_the_write_reaches_the_client_once_the_write_is_done(cloud):
    cloud.inject("notificationhubs.regenerate_keys", status=503, after=True)
    answer, _ = _regenerate_hub_rule(cloud, {"policyKey": "PrimaryKey"})
    assert answer.status_code == 503, answer.text
    assert helpers.regenerations(cloud) == 1, "the write was done before the answer failed"


def test_unknown_vault_host_fails_like_dns(cloud):
    from azure.core.exceptions import ServiceRequestError

    from rotators.core.settings import get_settings

    assert get_settings().http_timeout_seconds == 5
    client = clients.secret_client("https://kv-nowhere.vault.azure.net")
    with pytest.raises((ServiceRequestError, ClientAuthenticationError)):
        client.get_secret("x", retry_total=0)


def test_blob_lease_on_azurite(cloud, azurite):
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client("lease-test")
    if not container.exists():
        container.create_container()
    blob = container.get_blob_client("lock")
    blob.upload_blob(b"", overwrite=True)
    lease = blob.acquire_lease(lease_duration=15)
    with pytest.raises(HttpResponseError) as conflict:
        blob.acquire_lease(lease_duration=15)
    assert conflict.value.status_code == 409
    lease.renew()
    lease.release()
    blob.acquire_lease(lease_duration=15).release()
