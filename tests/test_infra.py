"""infra/ parsed with a real Bicep parser (pycep) and checked against the code it deploys and azd."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser

from rotators.core.events import ROTATING_EVENT_TYPES
from tests import helpers

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
HOOK = INFRA / "hooks" / "preprovision.sh"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The only built-in roles the deployment may grant, each at the narrowest scope.
ALLOWED_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner (own storage: host, locks)",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor (own storage: host)",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor (own storage: host)",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor (topic identity, dead-letter container)",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer (each vault)",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User (the example consumer)",
    "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender (the outcome topic)",
    "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b": "App Configuration Data Owner (each consumer store: its sentinel)",
}
# The custom roles, with exactly what the product calls on each account (and nothing else: no
# readonlykeys, no operation status, no listConnectionStrings).
CUSTOM_ROLES = {
    "modules/cosmos-role.bicep": (
        "Cosmos DB Account Key Rotator",
        "cosmos-key-rotator",
        {
            "Microsoft.DocumentDB/databaseAccounts/read",
            "Microsoft.DocumentDB/databaseAccounts/listKeys/action",
            "Microsoft.DocumentDB/databaseAccounts/regenerateKey/action",
        },
    ),
    "modules/storage-role.bicep": (
        "Storage Account Key Rotator",
        "storage-key-rotator",
        {
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Storage/storageAccounts/listkeys/action",
            "Microsoft.Storage/storageAccounts/regeneratekey/action",
        },
    ),
}


def parse_bicep(text: str) -> dict[str, Any]:
    # pycep reads a filtered loop `[for x in xs: if (c) {` only without the space after `if`
    # (the same rewrite as tools/bicep-types/check.py).
    return BicepParser().parse(text=re.sub(r"(:\s*if)[ \t]+\(", r"\1(", text))


@pytest.fixture(scope="module")
def bicep() -> dict[str, dict[str, Any]]:
    return {path.relative_to(INFRA).as_posix(): parse_bicep(path.read_text()) for path in INFRA.rglob("*.bicep")}


@pytest.fixture(scope="module")
def azure_yaml() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "azure.yaml").read_text())


def unwrap(body: Any) -> Any:
    """The object literal of a declaration, without its `[for ...]` or `if (...)`."""
    while isinstance(body, dict) and "config" in body and set(body) <= {"config", "condition", "loop_type"}:
        body = body["config"]
    return body


def config(parsed: dict, name: str) -> dict:
    """A resource's body, whether or not it carries a condition or a loop."""
    return unwrap(parsed["resources"][name]["config"])


def module(parsed: dict, name: str) -> dict:
    return unwrap(parsed["modules"][name]["config"])


RESOURCE_GROUP = {
    "function": {"type": "resource_group", "parameters": {"resource_group_name": None, "subscription_id": None}}
}
RESOURCE_GROUP_ID = {
    "operator": {"type": "property_accessor", "operands": {"operand_1": RESOURCE_GROUP, "operand_2": "id"}}
}


def walk(node: Any):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def accessor(*names: str) -> dict:
    """pycep's form of `a.b.c`."""
    if len(names) == 2:
        operand_2: Any = names[1]
    else:
        operand_2 = accessor(*names[1:])
    return {"operator": {"type": "property_accessor", "operands": {"operand_1": names[0], "operand_2": operand_2}}}


def test_every_module_parses_and_every_referenced_module_exists(bicep):
    assert {"main.bicep", "modules/functionapp.bicep", "modules/vault.bicep", "modules/events.bicep"} <= set(bicep)
    for name, parsed in bicep.items():
        for declared in parsed.get("modules", {}).values():
            target = (INFRA / name).parent / declared["detail"]["path"]
            assert target.exists(), f"{name} uses missing module {target}"


def test_event_subscription_targets_the_event_function_for_the_rotating_types(bicep):
    subscription = config(bicep["modules/events.bicep"], "subscription")["properties"]
    endpoint = subscription["destination"]["properties"]["resourceId"]
    function_name = endpoint.rsplit("/functions/", 1)[1]
    assert function_name in helpers.FUNCTIONS
    assert helpers.TRIGGERS[function_name] == "eventGridTrigger"
    assert set(subscription["filter"]["includedEventTypes"]) == ROTATING_EVENT_TYPES
    assert subscription["retryPolicy"]["maxDeliveryAttempts"] >= 10


def test_dead_letters_go_through_the_topic_identity(bicep):
    subscription = config(bicep["modules/events.bicep"], "subscription")["properties"]
    # Event Grid's own key-based dead-lettering cannot write to a storage account without shared keys.
    assert "deadLetterDestination" not in subscription
    dead_letter = subscription["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"] == {"type": "SystemAssigned"}
    destination = dead_letter["deadLetterDestination"]
    assert destination["endpointType"] == "StorageBlob"
    assert destination["properties"]["blobContainerName"] == "deadLetterContainerName"
    main = bicep["main.bicep"]
    container = main["variables"]["deadLetterContainerName"]["value"]
    assert module(main, "app")["params"]["deadLetterContainerName"] == "deadLetterContainerName"
    assert module(main, "events")["params"]["deadLetterContainerName"] == "deadLetterContainerName"
    assert module(main, "deadLetterAccess")["params"]["containerName"] == "deadLetterContainerName"
    assert container == "event-dead-letters"
    assert config(bicep["modules/functionapp.bicep"], "deadLetters")["name"] == "deadLetterContainerName"


def test_system_topic_is_in_the_vault_region_with_an_identity_unless_one_exists(bicep):
    parsed = bicep["modules/vault.bicep"]
    vault = parsed["resources"]["vault"]
    assert vault["existing"] is True and vault["type"] == "Microsoft.KeyVault/vaults"
    topic = parsed["resources"]["topic"]
    assert topic["config"]["condition"] == "createTopic"
    assert parsed["variables"]["createTopic"]["value"] == {
        "function": {"type": "empty", "parameters": {"item_to_test": "existingTopicName"}}
    }
    body = unwrap(topic["config"])
    assert body["location"] == accessor("vault", "location"), "a system topic must be in its source's region"
    assert body["properties"]["source"] == accessor("vault", "id")
    assert body["properties"]["topicType"] == "Microsoft.KeyVault.vaults"
    assert body["identity"] == {"type": "SystemAssigned"}
    # main.bicep passes the existing topic named for each vault, if any.
    params = module(bicep["main.bicep"], "vaults")["params"]
    assert "existingSystemTopicNames" in json.dumps(params["existingTopicName"])
    assert "existingSystemTopicNames" in bicep["main.bicep"]["parameters"]


def test_the_topic_identity_may_write_only_to_the_dead_letter_container(bicep):
    parsed = bicep["modules/dead-letter-access.bicep"]
    resources = parsed["resources"]
    assert resources["container"]["existing"] is True
    assert resources["container"]["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert config(parsed, "container")["parent"] == "blobService"
    assert config(parsed, "blobService")["parent"] == "storage"
    assert resources["topic"]["type"] == "Microsoft.EventGrid/systemTopics" and resources["topic"]["existing"]
    role = config(parsed, "deadLetterWriter")
    assert role["scope"] == "container"
    assert role["properties"]["principalId"] == accessor("topic", "identity", "principalId")
    assert parsed["variables"]["blobDataContributor"]["value"] == "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    # Order per vault: topic (vault.bicep), then this role, then the subscription (events.bicep).
    main = bicep["main.bicep"]
    assert "vaults" in json.dumps(module(main, "deadLetterAccess")["params"]["topicName"])
    assert "deadLetterAccess" in json.dumps(module(main, "events")["params"]["topicName"])


def test_azd_finds_the_function_app_by_its_service_tag(bicep, azure_yaml):
    (service,) = azure_yaml["services"]
    assert azure_yaml["services"][service]["host"] == "function"
    tags = config(bicep["modules/functionapp.bicep"], "functionApp")["tags"]
    assert tags == {"'azd-service-name'": service}


def test_every_parameter_is_reachable_from_azd(bicep):
    declared = bicep["main.bicep"]["parameters"]
    mapped = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(mapped) == set(declared), set(mapped) ^ set(declared)
    variables = {}
    for name, entry in mapped.items():
        match = re.fullmatch(r"\$\{([A-Z_]+)(=[^}]*)?\}", entry["value"])
        assert match, f"{name}: {entry['value']}"
        variables[name] = match.group(1)
    assert variables.pop("location") == "AZURE_LOCATION"  # azd's own, prompted for
    assert all(v.startswith("ROTATION_") for v in variables.values()), variables
    assert len(set(variables.values())) == len(variables)
    deploy = (ROOT / "README.md").read_text().split("\n## Deploy", 1)[1].split("\n## ", 1)[0]
    assert not {v for v in variables.values() if v not in deploy}, "README Deploy must name every variable"


def test_vaults_are_never_in_the_deployment_group_by_default(bicep):
    vault_group = bicep["main.bicep"]["parameters"]["vaultResourceGroupName"]
    assert vault_group["default"] is None, "the vaults' group must be named: azd down deletes the deployment group"
    hook = HOOK.read_text()
    assert "AZURE_RESOURCE_GROUP" in hook and "ROTATION_VAULT_RESOURCE_GROUP" in hook


def test_only_flex_consumption_with_optional_vnet_integration(bicep):
    assert "plan" not in bicep["main.bicep"]["parameters"]
    literals = {node.lower() for parsed in bicep.values() for node in walk(parsed) if isinstance(node, str)}
    assert not {"elasticpremium", "elastic", "ep1", "premium"} & literals
    parsed = bicep["modules/functionapp.bicep"]
    plan = config(parsed, "hostingPlan")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    site = config(parsed, "functionApp")["properties"]
    assert "virtualNetworkSubnetId" in json.dumps(site["virtualNetworkSubnetId"])
    assert module(bicep["main.bicep"], "app")["params"]["virtualNetworkSubnetId"] == "virtualNetworkSubnetId"
    assert "linuxFxVersion" not in site["siteConfig"]  # Flex Consumption sets the runtime in functionAppConfig


def test_location_is_a_flex_consumption_region(bicep):
    decorators = {d["type"]: d["argument"] for d in bicep["main.bicep"]["parameters"]["location"]["decorators"]}
    assert {"eastus", "westeurope", "swedencentral"} <= set(decorators["allowed"])
    assert decorators["metadata"] == {"azd": {"type": "location"}}


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
    assert site["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}


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


@pytest.mark.parametrize("path", sorted(CUSTOM_ROLES))
def test_custom_key_roles_hold_exactly_the_actions_the_product_calls(bicep, path):
    role_name, seed, actions = CUSTOM_ROLES[path]
    role = config(bicep[path], "keyRotator")
    assert role["name"] == {
        "function": {
            "type": "guid",
            "parameters": {"base_string": RESOURCE_GROUP_ID, "extra_string_1": seed},
        }
    }
    properties = role["properties"]
    assert properties["type"] == "CustomRole"
    assert bicep[path]["variables"]["roleName"]["value"] == role_name
    assert properties["roleName"].startswith("${roleName} (")  # + the group: role names are unique per tenant
    assert properties["assignableScopes"] == [RESOURCE_GROUP_ID]
    (permission,) = properties["permissions"]
    assert set(permission["actions"]) == actions and len(permission["actions"]) == len(actions)
    assert not permission.get("dataActions") and not permission.get("notActions")


@pytest.mark.parametrize(("roles", "targets", "groups", "ids"), [
    ("storageRoles", "storageTargets", "storageGroups", "storageAccountIds"),
    ("cosmosRoles", "cosmosTargets", "cosmosGroups", "cosmosAccountIds"),
])  # fmt: skip
def test_each_custom_role_is_written_once_per_group_before_its_assignments(bicep, roles, targets, groups, ids):
    main = bicep["main.bicep"]
    declared = main["modules"][roles]["config"]
    assert declared["loop_type"]["detail"]["array_name"] == groups
    # Only the first account of each group deploys the role: no two parallel writes of one definition.
    first_index = {
        "function": {"type": "index_of", "parameters": {"string_to_search": groups, "string_to_find": "group"}}
    }
    assert declared["condition"] == {
        "operator": {"type": "equals", "operands": {"operand_1": first_index, "operand_2": "i"}}
    }
    assert main["variables"][groups]["value"]["loop_type"]["detail"]["array_name"] == ids
    assert module(main, targets)["dependsOn"] == [roles]
    role_file = "modules/" + main["modules"][roles]["detail"]["path"].rsplit("/", 1)[1]
    target_file = "modules/" + main["modules"][targets]["detail"]["path"].rsplit("/", 1)[1]
    _, seed, _ = CUSTOM_ROLES[role_file]
    assigned = bicep[target_file]["variables"]["keyRotator"]["value"]
    assert seed in json.dumps(assigned)
    assert config(bicep[target_file], "keyRotatorRole")["scope"] == "account"


def test_the_example_consumer_gets_its_role_before_the_app_exists(bicep):
    parsed = bicep["modules/consumer.bicep"]
    site = config(parsed, "consumerApp")
    (setting,) = site["properties"]["siteConfig"]["appSettings"]
    assert setting["value"].startswith("@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})")
    reader = module(parsed, "reader")["params"]
    assert reader["roleId"] == "secretsUser"
    assert reader["principalId"] == accessor("readerIdentity", "properties", "principalId")
    assert site["properties"]["keyVaultReferenceIdentity"] == accessor("readerIdentity", "id")
    assert site["dependsOn"] == ["reader"]


def test_azd_project(azure_yaml):
    assert azure_yaml["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert azure_yaml["requiredVersions"]["azd"] == ">= 1.23.4"
    hooks = azure_yaml["hooks"]
    assert "ROTATION_WIRE_EVENTS true" in hooks["postdeploy"]["posix"]["run"]
    assert "ROTATION_WIRE_EVENTS false" in hooks["postdown"]["posix"]["run"]
    for platform in ("posix", "windows"):
        assert (ROOT / hooks["preprovision"][platform]["run"]).is_file()


# --- the preprovision hook, run with a stand-in `az` -------------------------------------------------

VAULT_ID = "/subscriptions/s/resourceGroups/rg-vaults/providers/Microsoft.KeyVault/vaults/{}"


def run_hook(tmp_path: Path, env: dict[str, str], *, rbac: dict[str, str], topics: dict[str, str] | None = None):
    """preprovision.sh with `az` answering from `rbac` (vault -> enableRbacAuthorization) and
    `topics` (topic name -> vault name: its source; '+identity' after the vault gives it one)."""
    topics = topics or {}
    show = "\n".join(f"  *'--name {v} '*) echo '{VAULT_ID.format(v)}|{flag}';;" for v, flag in rbac.items())
    listed = "".join(f"{t}\\t{VAULT_ID.format(src.split('+')[0])}\\n" for t, src in topics.items())
    identity = "\n".join(f"  *'--name {t} '*) echo 'pid';;" for t, src in topics.items() if src.endswith("+identity"))
    stub = tmp_path / "az"
    stub.write_text(
        "#!/bin/sh\n"
        'args="$* "\n'
        'case "$1 $2 $3" in\n'
        '"keyvault show "*) case "$args" in\n' + show + "\n  *) exit 3;;\n  esac;;\n"
        f"\"eventgrid system-topic list\") printf '{listed}';;\n"
        '"eventgrid system-topic show") case "$args" in\n' + identity + "\n  *) echo '';;\n  esac;;\n"
        "*) exit 2;;\nesac\n"
    )
    stub.chmod(0o755)
    sh = shutil.which("sh") or "/bin/sh"
    full_env = {"PATH": f"{tmp_path}:{os.environ['PATH']}", **env}
    return subprocess.run([sh, str(HOOK)], env=full_env, capture_output=True, text=True, timeout=60, check=False)


GOOD = {
    "AZURE_RESOURCE_GROUP": "rg-rotation",
    "ROTATION_VAULT_RESOURCE_GROUP": "rg-vaults",
    "ROTATION_VAULT_NAMES": '["kv-prod", "kv-two"]',
}


def test_hook_passes_rbac_vaults_in_their_own_group(tmp_path):
    topics = {"kv-two-events": "kv-two+identity"}  # created by an earlier run: the deployment's own name
    result = run_hook(tmp_path, GOOD, rbac={"kv-prod": "true", "kv-two": "true"}, topics=topics)
    assert result.returncode == 0, result.stderr


def test_hook_stops_on_an_access_policy_vault_with_the_way_out(tmp_path):
    result = run_hook(tmp_path, GOOD, rbac={"kv-prod": "true", "kv-two": "false"})
    assert result.returncode == 1
    assert "Key Vault 'kv-two' uses access policies" in result.stderr
    assert "403" in result.stderr and "--enable-rbac-authorization true" in result.stderr
    assert "kv-prod" not in result.stderr


def test_hook_refuses_the_vaults_group_as_the_deployment_group(tmp_path):
    env = {**GOOD, "AZURE_RESOURCE_GROUP": "RG-Vaults"}
    result = run_hook(tmp_path, env, rbac={"kv-prod": "true", "kv-two": "true"})
    assert result.returncode == 1 and "azd down deletes AZURE_RESOURCE_GROUP" in result.stderr


def test_hook_names_an_existing_topic_to_reuse_and_checks_its_identity(tmp_path):
    topics = {"kv-prod-3f2a": "kv-prod"}
    result = run_hook(tmp_path, GOOD, rbac={"kv-prod": "true", "kv-two": "true"}, topics=topics)
    assert result.returncode == 1
    assert 'ROTATION_EXISTING_SYSTEM_TOPICS \'{"kv-prod": "kv-prod-3f2a"}\'' in result.stderr
    env = {**GOOD, "ROTATION_EXISTING_SYSTEM_TOPICS": '{"kv-prod": "kv-prod-3f2a"}'}
    result = run_hook(tmp_path, env, rbac={"kv-prod": "true", "kv-two": "true"}, topics=topics)
    assert result.returncode == 1 and "--identity systemassigned" in result.stderr
    topics = {"kv-prod-3f2a": "kv-prod+identity"}
    result = run_hook(tmp_path, env, rbac={"kv-prod": "true", "kv-two": "true"}, topics=topics)
    assert result.returncode == 0, result.stderr


def test_hook_needs_the_groups_and_the_vaults(tmp_path):
    result = run_hook(tmp_path, {}, rbac={})
    assert result.returncode == 1
    for variable in ("AZURE_RESOURCE_GROUP", "ROTATION_VAULT_RESOURCE_GROUP", "ROTATION_VAULT_NAMES"):
        assert variable in result.stderr


# What each kind calls on its resource's top-level type, as the product's kinds name it: the
# role the infra grants for that type must hold exactly these actions (RBAC action names are
# case-insensitive; Microsoft's permission pages spell them as listed).
KEY_ROTATOR_ACTIONS = {
    "microsoft.servicebus/namespaces": ["read"]
    + [
        f"{level}authorizationRules/{op}"
        for level in ("", "queues/", "topics/")
        for op in ("listkeys", "regenerateKeys")
    ],
    "microsoft.eventhub/namespaces": ["read"]
    + [f"{level}authorizationRules/{op}" for level in ("", "eventhubs/") for op in ("listkeys", "regenerateKeys")],
    "microsoft.cache/redis": ["read", "listKeys", "regenerateKey"],
    "microsoft.cognitiveservices/accounts": ["read", "listKeys", "regenerateKey"],
    "microsoft.search/searchservices": ["read", "listAdminKeys", "regenerateAdminKey"],
    "microsoft.maps/accounts": ["read", "listKeys", "regenerateKey"],
    "microsoft.communication/communicationservices": ["read", "listKeys", "regenerateKey"],
    "microsoft.batch/batchaccounts": ["read", "listkeys", "regeneratekeys"],
    "microsoft.eventgrid/domains": ["read", "listKeys", "regenerateKey"],
    "microsoft.eventgrid/topics": ["read", "listKeys", "regenerateKey"],
    "microsoft.signalrservice/signalr": ["read", "listkeys", "regeneratekey"],
    "microsoft.signalrservice/webpubsub": ["read", "listkeys", "regeneratekey"],
    "microsoft.appconfiguration/configurationstores": ["read", "ListKeys", "RegenerateKey"],
}


def _key_rotators() -> dict[str, Any]:
    table = json.loads((INFRA / "modules" / "key-rotators.json").read_text())
    return {name: value for name, value in table.items() if not name.startswith("_")}


@pytest.mark.parametrize("resource_type", sorted(KEY_ROTATOR_ACTIONS))
def test_each_kind_s_role_holds_exactly_what_it_calls(resource_type):
    rotator = _key_rotators()[resource_type]
    expected = {
        f"{resource_type}/{a}" if a == "read" else f"{resource_type}/{a}/action"
        for a in KEY_ROTATOR_ACTIONS[resource_type]
    }
    assert {action.lower() for action in rotator["actions"]} == {action.lower() for action in expected}
    assert len(rotator["actions"]) == len(expected)


def test_every_kind_the_product_rotates_has_a_role_and_names_it():
    """The registry and the infra agree: each kind's top-level type has a role, and the 403 message names it."""
    from rotators.kinds import SUPPORTED_TYPES, kind_for

    table = _key_rotators()
    assert set(table) == set(KEY_ROTATOR_ACTIONS)
    for resource_type in SUPPORTED_TYPES:
        top = "/".join(resource_type.split("/")[:2]).lower()
        if top in ("microsoft.storage/storageaccounts", "microsoft.documentdb/databaseaccounts"):
            continue  # storage-role.bicep and cosmos-role.bicep
        assert top in table, resource_type
        assert table[top]["roleName"] in kind_for(resource_type).role, resource_type


def test_other_key_resources_get_their_type_s_role_on_the_resource(bicep):
    main = bicep["main.bicep"]
    assert module(main, "keyTargets")["dependsOn"] == ["keyRoles"]
    target = bicep["modules/key-rotator-target.bicep"]
    role_types = {
        resource["config"]["condition"]["operator"]["operands"]["operand_2"]
        for name, resource in target["resources"].items()
        if resource["type"] == "Microsoft.Authorization/roleAssignments"
    }
    assert role_types == set(KEY_ROTATOR_ACTIONS)
    for name, resource in target["resources"].items():
        if resource["type"] == "Microsoft.Authorization/roleAssignments":
            assert config(target, name)["scope"] == name.removesuffix("Rotator")


def test_the_outcome_topic_takes_entra_id_only_and_the_app_may_only_send(bicep):
    parsed = bicep["modules/outcome-topic.bicep"]
    topic = config(parsed, "topic")["properties"]
    assert topic["disableLocalAuth"] is True and topic["inputSchema"] == "CloudEventSchemaV1_0"
    assert config(parsed, "sender")["scope"] == "topic"
    assert parsed["variables"]["dataSenderRoleId"]["value"] == "d5a91429-5739-47e2-a06b-3470a27159e7"
    failures = config(parsed, "failures")["properties"]
    assert failures["filter"]["includedEventTypes"] == ["KeyRotation.RotationFailed", "KeyRotation.SecretMisconfigured"]
    app = bicep["main.bicep"]["modules"]["app"]["config"]["params"]
    assert app["eventsTopicEndpoint"] == "outcomeTopicEndpoint"


def test_consumer_apps_get_only_the_reference_refresher_role_on_the_app(bicep):
    """Read Key Vault references and refresh them: no config write, no list (it reveals app setting values)."""
    from rotators.adapters import appservice

    table = json.loads((INFRA / "modules" / "consumer-refresher.json").read_text())
    assert table["roleName"] in appservice.ROLE  # a 403 names the role to grant
    assert set(table["actions"]) == {
        "Microsoft.Web/sites/config/Read",
        "Microsoft.Web/sites/slots/config/Read",
        "Microsoft.Web/sites/config/configreferences/appsettings/refresh/action",
        "Microsoft.Web/sites/slots/config/configreferences/appsettings/refresh/action",
    }
    assert not any(a.lower().endswith(("/write", "/list/action", "/*")) for a in table["actions"])
    role = config(bicep["modules/consumer-refresher-role.bicep"], "refresherRole")["properties"]
    assert role["assignableScopes"] == [RESOURCE_GROUP_ID] and role["type"] == "CustomRole"
    target = bicep["modules/consumer-refresher-target.bicep"]
    assert config(target, "refresherOnApp")["scope"] == "site"
    main = bicep["main.bicep"]
    assert module(main, "consumerApps")["dependsOn"] == ["consumerRoles"]
    assert main["variables"]["consumerGroups"]["value"]["loop_type"]["detail"]["array_name"] == "consumerAppIds"


def test_consumer_stores_get_app_configuration_data_owner_on_the_store_only(bicep):
    from rotators.adapters import appconfig

    parsed = bicep["modules/consumer-store.bicep"]
    assert parsed["variables"]["dataOwner"]["value"] == "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b"
    assert config(parsed, "sentinelWriter")["scope"] == "store"
    assert "App Configuration Data Owner" in appconfig.ROLE
    declared = bicep["main.bicep"]["modules"]["consumerStores"]["config"]
    assert declared["loop_type"]["detail"]["array_name"] == "consumerAppConfigurationIds"
