"""infra/ parsed with a real Bicep parser (pycep) and checked against the code it deploys."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from rotators.core.events import ROTATING_EVENT_TYPES
from tests import helpers

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The only built-in roles the deployment may grant, each at the narrowest scope.
ALLOWED_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner (own storage: host, locks)",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor (own storage: host)",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor (own storage: host)",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer (each vault)",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User (the example consumer)",
    "81a9662b-bebf-436f-a333-f67b29880f12": "Storage Account Key Operator Service Role (each target)",
}
COSMOS_ACTIONS = {
    "Microsoft.DocumentDB/databaseAccounts/read",
    "Microsoft.DocumentDB/databaseAccounts/listKeys/action",
    "Microsoft.DocumentDB/databaseAccounts/readonlykeys/action",
    "Microsoft.DocumentDB/databaseAccounts/regenerateKey/action",
}


@pytest.fixture(scope="module")
def bicep() -> dict[str, dict[str, Any]]:
    parser = BicepParser()
    return {path.relative_to(INFRA).as_posix(): parser.parse(text=path.read_text()) for path in INFRA.rglob("*.bicep")}


def config(parsed: dict, name: str) -> dict:
    """A resource's body, whether or not it carries a condition."""
    body = parsed["resources"][name]["config"]
    return body["config"] if "condition" in body and "config" in body else body


def walk(node: Any):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_module_parses_and_every_referenced_module_exists(bicep):
    assert {"main.bicep", "modules/functionapp.bicep", "modules/vault.bicep"} <= set(bicep)
    for name, parsed in bicep.items():
        for module in parsed.get("modules", {}).values():
            target = (INFRA / name).parent / module["detail"]["path"]
            assert target.exists(), f"{name} uses missing module {target}"


def test_event_subscription_targets_the_event_function_for_the_rotating_types(bicep):
    subscription = config(bicep["modules/vault.bicep"], "subscription")["properties"]
    endpoint = subscription["destination"]["properties"]["resourceId"]
    function_name = endpoint.rsplit("/functions/", 1)[1]
    assert function_name in helpers.FUNCTIONS
    assert helpers.TRIGGERS[function_name] == "eventGridTrigger"
    assert set(subscription["filter"]["includedEventTypes"]) == ROTATING_EVENT_TYPES
    assert subscription["retryPolicy"]["maxDeliveryAttempts"] >= 10
    assert subscription["deadLetterDestination"]["properties"]["blobContainerName"] == "event-dead-letters"


def test_every_setting_the_app_reads_is_set(bicep):
    parsed = bicep["modules/functionapp.bicep"]
    deployed = {item["name"] for item in parsed["variables"]["commonSettings"]["value"]}
    source = "\n".join(path.read_text() for path in (ROOT / "rotators").rglob("*.py"))
    read_by_code = set(re.findall(r'"(ROTATION_[A-Z_]+)"', source)) | {"AzureWebJobsStorage__accountName"}
    sample = set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])
    assert read_by_code <= deployed, read_by_code - deployed
    assert sample - {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"} <= deployed
    assert "ROTATION_SWEEP_SCHEDULE" in deployed  # the timer binding reads %ROTATION_SWEEP_SCHEDULE%
    assert "AzureWebJobsStorage" not in deployed, "AzureWebJobsStorage must be identity-based, not a key"
    main = bicep["main.bicep"]["modules"]["app"]["config"]["params"]
    assert main["allowedVaults"]["function"]["type"] == "join"


def test_hardening(bicep):
    parsed = bicep["modules/functionapp.bicep"]
    storage = config(parsed, "storage")["properties"]
    assert storage["allowSharedKeyAccess"] is False and storage["minimumTlsVersion"] == "TLS1_2"
    site = config(parsed, "functionApp")["properties"]
    assert site["httpsOnly"] is True
    assert site["siteConfig"]["minTlsVersion"] == "1.2" and site["siteConfig"]["ftpsState"] == "Disabled"
    for policy in ("ftpPublishing", "scmPublishing"):
        assert config(parsed, policy)["properties"]["allow"] is False
    runtime = site["functionAppConfig"]["operator"]["operands"]["true_value"]["runtime"]
    assert runtime == {"name": "python", "version": "3.11"}


def test_roles_are_the_listed_ones_at_resource_scope(bicep):
    granted: set[str] = set()
    for name, parsed in bicep.items():
        guids = {k: v["value"] for k, v in parsed.get("variables", {}).items() if GUID.match(str(v.get("value")))}
        granted |= set(guids.values())
        for resource_name, resource in parsed.get("resources", {}).items():
            if resource["type"] != "Microsoft.Authorization/roleAssignments":
                continue
            body = config(parsed, resource_name)
            assert body.get("scope") not in (None, "resourceGroup", "subscription"), f"{name}:{resource_name}"
            assert body["properties"]["principalType"] == "ServicePrincipal"
    assert granted == set(ALLOWED_ROLES), granted ^ set(ALLOWED_ROLES)
    every_literal = {node for parsed in bicep.values() for node in walk(parsed) if isinstance(node, str)}
    assert not {g for g in every_literal if GUID.match(g)} - set(ALLOWED_ROLES)


def test_cosmos_gets_a_custom_role_with_only_the_key_actions(bicep):
    role = config(bicep["modules/cosmos-target.bicep"], "keyRotator")["properties"]
    assert role["type"] == "CustomRole"
    (permission,) = role["permissions"]
    assert set(permission["actions"]) == COSMOS_ACTIONS and not permission.get("dataActions")


def test_the_example_consumer_uses_a_versionless_key_vault_reference(bicep):
    site = config(bicep["modules/consumer.bicep"], "consumerApp")["properties"]
    (setting,) = site["siteConfig"]["appSettings"]
    assert setting["value"].startswith("@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})")
    assert bicep["modules/consumer.bicep"]["modules"]["reader"]["config"]["params"]["roleId"] == "secretsUser"


def test_azd_project_points_at_the_bicep_and_wires_events_after_deploy():
    text = (ROOT / "azure.yaml").read_text()
    assert "path: infra" in text and "host: function" in text and "ROTATION_WIRE_EVENTS true" in text
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(parameters) <= set(BicepParser().parse(text=(INFRA / "main.bicep").read_text())["parameters"])
