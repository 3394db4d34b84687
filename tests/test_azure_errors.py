"""Errors as Azure means them: what each answer does to an event, an HTTP call and the CLI."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from rotators.core.errors import RotationError
from rotators.triggers.cli import FAILED, REFUSED, main
from tests import helpers
from tests.helpers import VAULT

LOCK_MESSAGE = (
    "The scope '{id}' cannot perform write operation because following scope(s) are locked: "
    "'/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-demo/providers/"
    "Microsoft.Authorization/locks/keep-it'. Please remove the lock and try again."
)


def post(body: dict) -> func.HttpResponse:
    request = func.HttpRequest("POST", "/api/rotate", body=json.dumps(body).encode(), params={})
    response = helpers.FUNCTIONS["RotateSecret"](request)
    helpers.PRODUCED.append(response.get_body().decode())
    return response


def rotate_everywhere(cloud, capsys, version: str) -> tuple[object, func.HttpResponse, int]:
    """The same rotation through an event, HTTP and the CLI; each meets the same injected answer."""
    try:
        helpers.deliver(helpers.event(secret="storage-key", version=version))
        event: object = None
    except RotationError as exc:
        event = exc
    response = post({"vaultName": VAULT, "secretName": "storage-key"})
    code = main(["rotate", "--vault", VAULT, "--secret", "storage-key"])
    helpers.PRODUCED.extend(capsys.readouterr())
    return event, response, code


@pytest.mark.parametrize(
    ("route", "inner", "role"),
    [
        ("storage.regenerate_key", None, "'Storage Account Key Rotator' role (storageAccounts/read"),
        ("storage.get_account", None, "'Storage Account Key Rotator' role (storageAccounts/read"),
        ("keyvault.get_secret", "ForbiddenByRbac", "Rotator role (or Key Vault Secrets Officer) on vault kv-app"),
    ],
)
def test_403_is_redelivered_for_events_and_502_naming_the_role_over_http(cloud, capsys, route, inner, role):
    version = helpers.enroll_storage(cloud)
    code = "Forbidden" if route.startswith("keyvault") else "AuthorizationFailed"
    cloud.inject(route, status=403, code=code, inner=inner, count=3)
    event, response, exit_code = rotate_everywhere(cloud, capsys, version)
    assert isinstance(event, RotationError) and event.retryable  # role assignments take minutes to apply
    body = json.loads(response.get_body())
    assert response.status_code == 502 and body["error"]["code"] == "AccessDenied"
    assert role in body["error"]["message"] and "allow about 10 minutes" in body["error"]["message"]
    assert exit_code == FAILED
    assert helpers.regenerations(cloud) == 0 and helpers.calls(cloud, "keyvault.set_secret") == 0


def test_an_access_policy_vault_is_named_as_such_and_not_redelivered(cloud, capsys, caplog):
    version = helpers.enroll_storage(cloud)
    cloud.inject("keyvault.*", status=403, code="Forbidden", inner="AccessDenied", count=4)
    event, response, exit_code = rotate_everywhere(cloud, capsys, version)
    assert event is None and any("access policies" in r.getMessage() for r in caplog.records)
    body = json.loads(response.get_body())
    assert response.status_code == 502 and body["error"]["code"] == "VaultAccessPolicies"
    assert "enableRbacAuthorization" in body["error"]["message"] and exit_code == FAILED
    assert main(["status", "--vault", VAULT]) == FAILED
    assert "access policies" in capsys.readouterr().err


def test_a_management_lock_is_permanent_and_named(cloud, capsys):
    version = helpers.enroll_storage(cloud)
    account = cloud.storage.accounts["stapp"]
    message = LOCK_MESSAGE.format(id=account.id)
    cloud.inject("storage.regenerate_key", status=409, code="ScopeLocked", message=message, count=3)
    event, response, exit_code = rotate_everywhere(cloud, capsys, version)
    assert event is None  # logged, not redelivered: retrying cannot remove a lock
    body = json.loads(response.get_body())
    assert response.status_code == 409 and body["error"]["code"] == "ScopeLocked"
    assert "'keep-it'" in body["error"]["message"] and "Remove the lock" in body["error"]["message"]
    assert exit_code == REFUSED
    assert helpers.calls(cloud, "storage.regenerate_key") == 3 and helpers.regenerations(cloud) == 0
    # a refusal changed nothing: once the lock is gone, the next trigger asks at once
    assert post({"vaultName": VAULT, "secretName": "storage-key"}).status_code == 200
    assert helpers.regenerations(cloud) == 1


def test_throttling_passes_azures_retry_after_on(cloud):
    helpers.enroll_storage(cloud)
    cloud.inject("storage.get_account", status=429, retry_after=1, count=10)  # the SDK waits it out 3 times
    response = post({"vaultName": VAULT, "secretName": "storage-key"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "Azure asks to wait 1 s" in json.loads(response.get_body())["error"]["message"]


def test_412_on_a_regeneration_is_busy_not_a_refusal(cloud, azurite):
    version = helpers.enroll_cosmos(cloud)
    cloud.inject(
        "cosmos.regenerate_key",
        status=412,
        code="PreconditionFailed",
        message="There is already an operation in progress which requires exclusive lock on this service.",
    )
    response = post({"vaultName": VAULT, "secretName": "cosmos-key"})
    body = json.loads(response.get_body())
    assert response.status_code == 202 and body["status"] == "pending" and "412" in body["reason"], body
    with pytest.raises(RotationError):  # not in the stand-in's log: nothing of ours runs; asked again at once
        cloud.inject("cosmos.regenerate_key", status=412, code="PreconditionFailed")
        helpers.deliver(helpers.event(secret="cosmos-key", version=version))
    assert helpers.regenerations(cloud) == 0
    helpers.deliver(helpers.event(secret="cosmos-key", version=version))
    assert helpers.regenerations(cloud) == 1 and cloud.keyvault.current_secret(VAULT, "cosmos-key").version != version


def test_a_disabled_current_version_is_permanent_and_clear(cloud, caplog):
    version = helpers.enroll_storage(cloud)
    cloud.keyvault.current_secret(VAULT, "storage-key").enabled = False
    response = post({"vaultName": VAULT, "secretName": "storage-key"})
    body = json.loads(response.get_body())
    assert response.status_code == 422 and body["error"]["code"] == "SecretDisabled"
    assert "disabled; enable it or write a new version" in body["error"]["message"]
    helpers.deliver(helpers.event(secret="storage-key", version=version))  # not redelivered
    assert any("SecretDisabled" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    helpers.assert_nothing_written(cloud)
