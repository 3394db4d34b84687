"""The roles infra/ grants, held the way ARM holds them: each call the product makes is authorized
against role assignments in the stand-in (localazure/services/arm: ARM's naming of a URL's action),
so a role that lacks an action the product calls fails here, and a refusal names what to grant."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION
from rotators.triggers.cli import OK
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run
from tests.test_kinds import KINDS

MODULES = Path(__file__).resolve().parent.parent / "infra" / "modules"
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/storage-key/)"
APP_ID = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg-apps/providers/Microsoft.Web/sites/app-web"


def _bicep_role_actions(module: str) -> list[str]:
    """The actions of the one role definition a Bicep module declares, as the deployment writes them: a
    literal list, or one reached through the module's variables and ``loadJsonContent``."""
    parsed = BicepParser().parse(text=(MODULES / module).read_text())
    (definition,) = (r for r in parsed["resources"].values() if r["type"] == "Microsoft.Authorization/roleDefinitions")
    (permission,) = definition["config"]["properties"]["permissions"]

    def value(node: Any) -> Any:
        if isinstance(node, str) and node in parsed.get("variables", {}):
            return value(parsed["variables"][node]["value"])
        if isinstance(node, dict) and "function" in node:
            assert node["function"]["type"] == "load_json_content", node
            return json.loads((MODULES / node["function"]["parameters"]["file_path"]).read_text())
        if isinstance(node, dict) and "operator" in node:
            operator = node["operator"]
            assert operator["type"] in ("index_accessor", "property_accessor"), node
            return value(operator["operands"]["operand_1"])[operator["operands"]["operand_2"]]
        return node

    return value(permission["actions"])


def _json_roles(name: str) -> dict[str, Any]:
    return json.loads((MODULES / name).read_text())


def role_for(resource_id: str) -> tuple[str, list[str]]:
    """The scope main.bicep assigns a resource's role on (the top-level resource: a rule's namespace) and
    the role's actions."""
    parts = resource_id.split("/")
    top = "/".join(parts[:9])
    resource_type = f"{parts[6]}/{parts[7]}".lower()
    if resource_type == "microsoft.storage/storageaccounts":
        return top, _bicep_role_actions("storage-role.bicep")
    if resource_type == "microsoft.documentdb/databaseaccounts":
        return top, _bicep_role_actions("cosmos-role.bicep")
    return top, _json_roles("key-rotators.json")[resource_type]["actions"]


def _provider_address(cloud, secret: str) -> str:
    return cloud.keyvault.current_secret(VAULT, secret).tags["ProviderAddress"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_rotates_holding_only_the_role_the_deployment_grants_it(cloud, kind):
    KINDS[kind].enroll(cloud, secret="least")
    scope, actions = role_for(_provider_address(cloud, "least"))
    cloud.arm.assign(scope, actions)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "least"})
    assert status == 200 and body["status"] == "rotated", body
    helpers.holds_live_key(cloud, "least")


def test_an_action_the_role_lacks_is_named_with_its_scope(cloud, caplog):
    helpers.enroll_storage(cloud)
    scope, actions = role_for(_provider_address(cloud, "storage-key"))
    cloud.arm.assign(scope, [a for a in actions if not a.lower().endswith("/listkeys/action")])
    with caplog.at_level(logging.WARNING, logger="rotators"):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    grant = f"grant Microsoft.Storage/storageAccounts/listKeys/action on {scope}"
    assert status == 502 and body["error"]["code"] == "AccessDenied", body
    assert grant in body["error"]["message"] and "Storage Account Key Rotator" in body["error"]["message"]
    assert any(grant in record.getMessage() for record in caplog.records)
    assert cloud.identity.principal_id not in body["error"]["message"]  # only the action and scope are taken
    assert helpers.regenerations(cloud) == 0


def _consumer(cloud) -> str:
    cloud.appservice.create_app("app-web", {"STORAGE": REFERENCE})
    helpers.enroll_storage(cloud, extra_tags={"Consumers": "rg-apps/app-web"})
    cloud.arm.assign(*role_for(_provider_address(cloud, "storage-key")))
    return _json_roles("consumer-refresher.json")


# What ARM checks for the refresh is not published (README, Consumers): the action ARM's naming of
# the URL gives, or another; the product reports whichever ARM names. Checked as a read, the role
# the deployment grants would be enough, and the app moves.
@pytest.mark.parametrize(
    "checked_as",
    [None, "Microsoft.Web/sites/config/write", "Microsoft.Web/sites/config/appsettings/read"],
)
def test_a_refused_refresh_names_the_action_and_scope_arm_checked(cloud, caplog, checked_as):
    role = _consumer(cloud)
    cloud.arm.assign(APP_ID, role["actions"])
    if checked_as:
        cloud.arm.checked_as["appservice.refresh"] = checked_as
    with caplog.at_level(logging.WARNING, logger="rotators"):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body  # a consumer never fails the rotation
    (report,) = body["consumers"]
    if checked_as == "Microsoft.Web/sites/config/appsettings/read":
        assert report["state"] == "moved", report
        return
    action = checked_as or "Microsoft.Web/sites/config/appsettings/refresh/action"
    grant = f"grant {action} on {APP_ID}/config/configreferences/appsettings"
    assert report["state"] == "unreachable" and grant in report["detail"], report
    assert any(grant in record.getMessage() for record in caplog.records)


def test_status_names_the_read_a_consumer_refuses(cloud, capsys):
    _consumer(cloud)  # the app holds no role: its references cannot be read
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK, out
    line = next(line for line in out.splitlines() if "consumer rg-apps/app-web" in line)
    assert re.search(
        r"unreachable: .*grant Microsoft\.Web/sites/config/appsettings/read on "
        + re.escape(f"{APP_ID}/config/configreferences/appsettings"),
        line,
    ), line
