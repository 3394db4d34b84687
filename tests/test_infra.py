"""infra/ checked the way a deployment would see it, without a Bicep compiler or Azure:

- the two vendored checkers (tools/bicep-types: Azure's resource types and Bicep's deploy-time
  constants; tools/rbac-actions: every custom role action against Microsoft's operations catalog)
  find nothing in infra/, and find what they guard against in a deliberately broken copy;
- what infra/ and the code must agree on (the settings the code reads, the event function, the roles
  its 403 messages name, the azd tag and parameters) and rules every deployment must keep (roles on
  resources, named by their principal; no shared keys; only the listed built-in roles);
- the preprovision hook's refusals, run against a stand-in `az`.

What each role lets the product do is tested against the stand-in's ARM (tests/test_roles.py), and
the alert's query against what the product logs (tests/test_alerts.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser

from rotators.adapters import outcomes
from rotators.core.events import ROTATING_EVENT_TYPES
from tests import helpers

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
HOOKS = INFRA / "hooks"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The only built-in roles the deployment may grant, each at the narrowest scope.
ALLOWED_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner (own storage: host, locks)",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor (own storage: host)",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor (own storage: host)",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor (topic identity, dead-letter container)",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer (each vault, vaultRole=KeyVaultSecretsOfficer)",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User (the example consumer)",
    "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender (the outcome topic)",
    "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b": "App Configuration Data Owner (each consumer store: its sentinel)",
    "73c42c96-874c-492b-b04d-ab87d138a893": "Log Analytics Reader (the audit workspace)",
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


def walk(node: Any):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


# --- the checkers ---------------------------------------------------------------------------------


def check(tool: str, folder: Path) -> subprocess.CompletedProcess[str]:
    script = ROOT / "tools" / tool / "check.py"
    return subprocess.run(
        [sys.executable, str(script), str(folder)], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("tool", ["bicep-types", "rbac-actions"])
def test_the_checkers_find_nothing_in_infra(tool):
    result = check(tool, INFRA)
    assert result.returncode == 0, result.stdout + result.stderr


# Each mutation is an error that reached a real `azd up` before (issue 23) or one of its kind.
REFRESH = "Microsoft.Web/sites/config/configreferences/appsettings/refresh/action"
BREAKS = [
    pytest.param(
        "bicep-types",
        "modules/vault.bicep",
        ("location: vaultLocation", "location: vault.location"),
        "BCP120 topic: location: This expression (vault.location)",
        id="a-resource-property-where-a-deploy-time-constant-is-needed",
    ),
    pytest.param(
        "bicep-types",
        "modules/host-storage-access.bicep",
        ("name: guid(storage.id, principalId, role)", "name: guid(storage.properties.primaryEndpoints.blob, role)"),
        "BCP120 hostRoles: name",
        id="a-runtime-value-in-a-resource-name",
    ),
    pytest.param(
        "bicep-types",
        "main.bicep",
        ("scope: resourceGroup(topicGroups[i])", "scope: resourceGroup(vaults[i].outputs.topicName)"),
        "BCP120 events: scope",
        id="a-module-output-in-a-module-scope",
    ),
    pytest.param(
        "rbac-actions",
        "modules/consumer-refresher.json",
        ('"Microsoft.Web/sites/config/Read",', f'"Microsoft.Web/sites/config/Read", "{REFRESH}",'),
        f"RBAC001 unknown action '{REFRESH}'",
        id="an-action-microsoft-does-not-publish",
    ),
    pytest.param(
        "rbac-actions",
        "modules/key-rotators.json",
        ('"Microsoft.Cache/redis/listKeys/action"', '"Microsoft.Cache/redis/listKey/action"'),
        "RBAC001 unknown action 'Microsoft.Cache/redis/listKey/action'",
        id="a-misspelt-action",
    ),
]


@pytest.mark.parametrize(("tool", "path", "change", "finding"), BREAKS)
def test_the_checkers_see_the_error_in_a_broken_copy(tmp_path, tool, path, change, finding):
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    target = copy / path
    text = target.read_text()
    assert change[0] in text, f"{path} no longer holds {change[0]!r}: update this mutation"
    target.write_text(text.replace(change[0], change[1], 1))
    result = check(tool, copy)
    assert result.returncode == 1 and finding in result.stdout, result.stdout + result.stderr


# --- what infra/ and the code agree on ------------------------------------------------------------


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


def test_the_failure_webhook_gets_the_failures_the_product_sends(bicep):
    failures = config(bicep["modules/outcome-topic.bicep"], "failures")["properties"]
    assert set(failures["filter"]["includedEventTypes"]) == {outcomes.ROTATION_FAILED, outcomes.SECRET_MISCONFIGURED}


def test_dead_letters_need_no_shared_key(bicep):
    """The app's storage refuses shared keys, so Event Grid's key-based dead-lettering could not write there."""
    storage = config(bicep["modules/functionapp.bicep"], "storage")["properties"]
    assert storage["allowSharedKeyAccess"] is False
    subscription = config(bicep["modules/events.bicep"], "subscription")["properties"]
    assert "deadLetterDestination" not in subscription
    assert subscription["deadLetterWithResourceIdentity"]["identity"] == {"type": "SystemAssigned"}


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


def test_the_vaults_group_has_no_default(bicep):
    vault_group = bicep["main.bicep"]["parameters"]["vaultResourceGroupName"]
    assert vault_group["default"] is None, "the vaults' group must be named: azd down deletes the deployment group"


def test_only_flex_consumption(bicep):
    assert "plan" not in bicep["main.bicep"]["parameters"]
    literals = {node.lower() for parsed in bicep.values() for node in walk(parsed) if isinstance(node, str)}
    assert not {"elasticpremium", "elastic", "ep1", "premium"} & literals
    plan = config(bicep["modules/functionapp.bicep"], "hostingPlan")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}


def test_zone_redundant_storage_is_never_asked_where_azure_has_none(bicep):
    """The seven Flex Consumption regions without ZRS (issue 23, from Microsoft's ZRS region list) get LRS."""
    allowed = {d["type"]: d["argument"] for d in bicep["main.bicep"]["parameters"]["location"]["decorators"]}["allowed"]
    zrs = set(json.loads((INFRA / "regions.json").read_text())["zoneRedundantStorage"])
    without = {"australiasoutheast", "northcentralus", "southindia", "ukwest", "westcentralus", "westus", "eastus2euap"}
    assert without <= set(allowed) and not without & zrs
    assert set(allowed) - without <= zrs, set(allowed) - without - zrs


def test_every_setting_the_app_reads_is_set(bicep):
    parsed = bicep["modules/functionapp.bicep"]
    deployed = {item["name"] for item in parsed["variables"]["commonSettings"]["value"]}
    source = "\n".join(path.read_text() for path in (ROOT / "rotators").rglob("*.py"))
    read_by_code = set(re.findall(r'"(ROTATION_[A-Z_]+)"', source))
    sample = set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])
    assert read_by_code <= deployed, read_by_code - deployed
    assert sample - {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"} <= deployed
    assert "ROTATION_SWEEP_SCHEDULE" in deployed  # the timer binding reads %ROTATION_SWEEP_SCHEDULE%
    # Identity-based host storage by service URI (any cloud), which the rotation locks and the sweep queues read too.
    for uri in ("AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri"):
        assert uri in deployed and f'"{uri}"' in source, uri
    assert not {"AzureWebJobsStorage", "AzureWebJobsStorage__accountName"} & deployed


def test_an_account_name_alone_is_refused_for_vaults_of_another_cloud(monkeypatch):
    """What the Functions host reads as public Azure's account is not used against a sovereign cloud's."""
    from rotators.adapters import clients
    from rotators.core import settings
    from rotators.core.errors import ConfigurationError

    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.delenv("AzureWebJobsStorage__blobServiceUri", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "stfunc")
    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", "https://kv-gov.vault.usgovcloudapi.net")
    settings.get_settings.cache_clear()
    clients.lock_container.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="AzureWebJobsStorage__blobServiceUri"):
            clients.lock_container()
    finally:
        settings.get_settings.cache_clear()
        clients.lock_container.cache_clear()


def test_every_role_assignment_is_on_a_resource_and_named_by_its_principal(bicep):
    """Never a group or subscription; and a new identity gets a new assignment instead of colliding with an
    old one's name ("principal ID ... not allowed to be updated", RoleAssignmentUpdateNotPermitted)."""
    for name, parsed in bicep.items():
        for resource_name, resource in parsed.get("resources", {}).items():
            if resource["type"] != "Microsoft.Authorization/roleAssignments":
                continue
            body = config(parsed, resource_name)
            where = f"{name}:{resource_name}"
            assert body.get("scope") not in (None, "resourceGroup", "subscription"), where
            assert body["properties"]["principalType"] == "ServicePrincipal", where
            principal = json.dumps(body["properties"]["principalId"])
            assert principal in json.dumps(body["name"]), f"{where}: the name does not carry {principal}"


def test_only_the_listed_built_in_roles_are_granted(bicep):
    every_literal = {node for parsed in bicep.values() for node in walk(parsed) if isinstance(node, str)}
    assert {g for g in every_literal if GUID.match(g)} == set(ALLOWED_ROLES), set(ALLOWED_ROLES) ^ {
        g for g in every_literal if GUID.match(g)
    }


def test_every_kind_the_product_rotates_has_a_role_and_names_it():
    """The registry and the infra agree: each kind's top-level type has a role, and the 403 message names it."""
    from rotators.kinds import SUPPORTED_TYPES, kind_for

    table = {k: v for k, v in json.loads((INFRA / "modules" / "key-rotators.json").read_text()).items() if k[0] != "_"}
    for resource_type in SUPPORTED_TYPES:
        top = "/".join(resource_type.split("/")[:2]).lower()
        assert top in table, resource_type
        assert table[top]["roleName"] in str(kind_for(resource_type).role), resource_type


def test_the_committed_role_table_is_the_one_the_kinds_generate():
    """infra/modules/key-rotators.json is generated from the kinds (each states its role once): a hand edit,
    or a kind whose role changed without the file, is drift. Regenerate it with the command this prints."""
    result = subprocess.run(
        [sys.executable, "-m", "rotators.kinds.roles"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    command = "python -m rotators.kinds.roles > infra/modules/key-rotators.json"
    assert (INFRA / "modules" / "key-rotators.json").read_text() == result.stdout, command


def test_the_readme_names_each_kinds_role_in_its_row():
    """README's table of supported resources names, in each type's row, the role the kind states."""
    from rotators.kinds import SUPPORTED_TYPES, kind_for

    rows = [line.split(" | ") for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| ")]
    for resource_type in SUPPORTED_TYPES:
        namespace, _, rest = resource_type.partition("/")  # a row writes later types of a namespace as `…/rest`
        row = next((r for r in rows if len(r) > 2 and namespace in r[1] and f"/{rest}`" in r[1]), None)
        assert row is not None and kind_for(resource_type).role.name in row[-1], resource_type


def test_the_consumer_role_only_reads_and_is_the_one_its_403_names():
    from rotators.adapters import appconfig, appservice

    table = json.loads((INFRA / "modules" / "consumer-refresher.json").read_text())
    assert table["roleName"] in appservice.ROLE
    assert all(action.lower().endswith("/read") for action in table["actions"]), table["actions"]
    assert "App Configuration Data Owner" in appconfig.ROLE


def test_the_other_consumer_roles_read_no_value_and_are_the_ones_their_403s_name():
    """API Management's listValue and Container Apps' listSecrets return secret values: never granted."""
    from rotators.adapters import apim, containerapps
    from rotators.core.audit import ROLE

    for module, name in ((apim, "consumer-apim.json"), (containerapps, "consumer-containerapp.json")):
        table = json.loads((INFRA / "modules" / name).read_text())
        assert table["roleName"] in module.ROLE, name
        assert not [a for a in table["actions"] if "listvalue" in a.lower() or "listsecrets" in a.lower()], name
    assert "Log Analytics Reader" in ROLE


def test_azd_project(azure_yaml):
    assert azure_yaml["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    hooks = azure_yaml["hooks"]
    assert "ROTATION_WIRE_EVENTS true" in hooks["postdeploy"]["posix"]["run"]
    assert "ROTATION_WIRE_EVENTS false" in hooks["postdown"]["posix"]["run"]
    for platform in ("posix", "windows"):
        assert (ROOT / hooks["preprovision"][platform]["run"]).is_file()


# --- the preprovision hook, run with a stand-in `az` -------------------------------------------------

SUB = "00000000-0000-0000-0000-0000000000aa"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-vaults/providers/Microsoft.KeyVault/vaults/{{}}"
KEY_VAULT_EVENTS = ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]

# A stand-in `az`: answers the hook's commands from a JSON file (AZ_STUB), refuses anything else.
STUB = r"""
import json, os, sys

world = json.load(open(os.environ["AZ_STUB"]))
args = sys.argv[1:]


def option(name):
    return args[args.index(name) + 1] if name in args else None


line = " ".join(args)
if line.startswith("keyvault show ") and option("--name") in world["vaults"]:
    print(world["vault_id"].format(option("--name")) + "|" + world["vaults"][option("--name")])
elif line.startswith("eventgrid system-topic list "):
    listed = [[t["name"], world["vault_id"].format(t["vault"]), t["group"]] for t in world["topics"]]
    if option("--output") == "json":
        print(json.dumps([dict(zip(("name", "source", "resourceGroup"), topic)) for topic in listed]))
    for topic in listed if option("--output") != "json" else []:
        print("\t".join(topic))
elif line.startswith("eventgrid system-topic show "):
    print(next((t["identity"] for t in world["topics"] if t["name"] == option("--name")), ""))
elif line.startswith("eventgrid topic-type list-event-types ") and world["event_types"] is not None:
    print("\n".join(world["event_types"]))
elif line.startswith("cloud show "):
    print(world["cloud"])
elif line.startswith("network vnet subnet show "):
    print("\n".join(world["delegations"]))
else:
    sys.exit(2)
"""


def _shells() -> list[Any]:
    pwsh = shutil.which("pwsh")
    return [
        pytest.param(["sh", str(HOOKS / "preprovision.sh")], id="sh"),
        pytest.param(
            [pwsh or "pwsh", "-NoProfile", "-File", str(HOOKS / "preprovision.ps1")],
            id="pwsh",
            marks=pytest.mark.skipif(pwsh is None, reason="PowerShell (pwsh) is not installed here"),
        ),
    ]


@pytest.fixture(params=_shells())
def hook(request, tmp_path):
    """Run the hook with `env` and an `az` that knows the vaults, topics, event types and subnets given."""

    def run(
        env: dict[str, str],
        *,
        vaults: dict[str, str] | None = None,
        topics: list[dict[str, str]] | None = None,
        event_types: list[str] | None = KEY_VAULT_EVENTS,
        delegations: tuple[str, ...] = ("Microsoft.App/environments",),
    ) -> subprocess.CompletedProcess[str]:
        world = {
            "vault_id": VAULT_ID,
            "vaults": vaults if vaults is not None else {"kv-prod": "true", "kv-two": "true"},
            "topics": topics or [],
            "event_types": event_types,
            "cloud": "AzureChinaCloud",
            "delegations": list(delegations),
        }
        (tmp_path / "world.json").write_text(json.dumps(world))
        stub = tmp_path / "az"
        stub.write_text(f"#!{sys.executable}\n{STUB}")
        stub.chmod(0o755)
        full_env = {
            "PATH": f"{tmp_path}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "AZ_STUB": str(tmp_path / "world.json"),
            **env,
        }
        return subprocess.run(request.param, env=full_env, capture_output=True, text=True, timeout=120, check=False)

    return run


GOOD = {
    "AZURE_SUBSCRIPTION_ID": SUB,
    "AZURE_RESOURCE_GROUP": "rg-rotation",
    "AZURE_LOCATION": "westus",
    "ROTATION_VAULT_RESOURCE_GROUP": "rg-vaults",
    "ROTATION_VAULT_NAMES": '["kv-prod", "kv-two"]',
    "ROTATION_STORAGE_ACCOUNT_IDS": json.dumps(
        [f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stprod"]
    ),
}


def test_hook_passes_rbac_vaults_in_their_own_group(hook):
    topics = [{"name": "kv-two-events", "vault": "kv-two", "group": "rg-vaults", "identity": "pid"}]  # an earlier run's
    result = hook(GOOD, topics=topics)
    assert result.returncode == 0, result.stderr


def test_hook_stops_on_an_access_policy_vault_with_the_way_out(hook):
    result = hook(GOOD, vaults={"kv-prod": "true", "kv-two": "false"})
    assert result.returncode == 1
    assert "Key Vault 'kv-two' uses access policies" in result.stderr
    assert "403" in result.stderr and "--enable-rbac-authorization true" in result.stderr
    assert "kv-prod" not in result.stderr


def test_hook_refuses_the_vaults_group_as_the_deployment_group(hook):
    result = hook({**GOOD, "AZURE_RESOURCE_GROUP": "RG-Vaults"})
    assert result.returncode == 1 and "azd down deletes AZURE_RESOURCE_GROUP" in result.stderr
    assert "azd env set AZURE_RESOURCE_GROUP" in result.stderr


@pytest.mark.parametrize(
    ("variable", "resource"),
    [
        ("ROTATION_STORAGE_ACCOUNT_IDS", "Microsoft.Storage/storageAccounts/stprod"),
        ("ROTATION_KEY_RESOURCE_IDS", "Microsoft.Cache/redis/cache-prod"),
        ("ROTATION_CONSUMER_APP_IDS", "Microsoft.Web/sites/app-web"),
        ("ROTATION_CONSUMER_APPCONFIG_IDS", "Microsoft.AppConfiguration/configurationStores/cfg-shared"),
    ],
)
def test_hook_refuses_a_deployment_group_that_holds_a_rotated_resource_or_a_consumer(hook, variable, resource):
    inside = f"/subscriptions/{SUB}/resourceGroups/RG-Rotation/providers/{resource}"
    result = hook({**GOOD, variable: json.dumps([inside])})
    assert result.returncode == 1, result.stderr
    assert f"{variable} names {inside}, which is in AZURE_RESOURCE_GROUP" in result.stderr
    assert "azd env set AZURE_RESOURCE_GROUP" in result.stderr
    # The same group name in another subscription is another group.
    elsewhere = inside.replace(SUB, "00000000-0000-0000-0000-0000000000bb")
    assert hook({**GOOD, variable: json.dumps([elsewhere])}).returncode == 0


def test_hook_stops_on_a_region_the_template_does_not_know(hook):
    result = hook({**GOOD, "AZURE_LOCATION": "usgovvirginia"})
    assert result.returncode == 1
    assert "AZURE_LOCATION 'usgovvirginia' is not a Flex Consumption region" in result.stderr
    assert "azd env set AZURE_LOCATION" in result.stderr


def test_hook_stops_in_a_cloud_without_key_vault_events(hook):
    result = hook(GOOD, event_types=None)
    assert result.returncode == 1
    assert "(AzureChinaCloud) does not deliver Key Vault's SecretNearExpiry events" in result.stderr
    assert "az cloud set --name AzureCloud" in result.stderr
    assert hook(GOOD, event_types=["Microsoft.KeyVault.SecretNewVersionCreated"]).returncode == 1


def test_hook_finds_an_existing_topic_in_any_group_and_checks_its_identity(hook):
    topics = [{"name": "kv-prod-3f2a", "vault": "kv-prod", "group": "rg-events", "identity": ""}]
    result = hook(GOOD, topics=topics)
    assert result.returncode == 1
    assert "in resource group 'rg-events'" in result.stderr
    assert 'ROTATION_EXISTING_SYSTEM_TOPICS \'{"kv-prod": "rg-events/kv-prod-3f2a"}\'' in result.stderr
    env = {**GOOD, "ROTATION_EXISTING_SYSTEM_TOPICS": '{"kv-prod": "rg-events/kv-prod-3f2a"}'}
    result = hook(env, topics=topics)
    assert result.returncode == 1
    assert "--resource-group rg-events --name kv-prod-3f2a --identity systemassigned" in result.stderr
    topics[0]["identity"] = "pid"
    result = hook(env, topics=topics)
    assert result.returncode == 0, result.stderr


def test_hook_takes_a_topic_in_the_vaults_group_by_its_name(hook):
    topics = [{"name": "kv-prod-3f2a", "vault": "kv-prod", "group": "rg-vaults", "identity": "pid"}]
    result = hook(GOOD, topics=topics)
    assert 'ROTATION_EXISTING_SYSTEM_TOPICS \'{"kv-prod": "kv-prod-3f2a"}\'' in result.stderr
    env = {**GOOD, "ROTATION_EXISTING_SYSTEM_TOPICS": '{"kv-prod": "kv-prod-3f2a"}'}
    assert hook(env, topics=topics).returncode == 0


def test_hook_refuses_a_malformed_topic_map(hook):
    env = {**GOOD, "ROTATION_EXISTING_SYSTEM_TOPICS": '["kv-prod-events"]'}
    result = hook(env)
    assert result.returncode == 1 and "must be a JSON object" in result.stderr


def test_hook_needs_the_groups_and_the_vaults(hook):
    result = hook({})
    assert result.returncode == 1
    for variable in ("AZURE_RESOURCE_GROUP", "ROTATION_VAULT_RESOURCE_GROUP", "ROTATION_VAULT_NAMES"):
        assert variable in result.stderr


def test_hook_checks_the_subnet_delegation(hook):
    subnet = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    result = hook({**GOOD, "ROTATION_SUBNET_ID": subnet}, delegations=("Microsoft.Web/serverFarms",))
    assert result.returncode == 1 and f"--ids {subnet} --delegations Microsoft.App/environments" in result.stderr
    assert hook({**GOOD, "ROTATION_SUBNET_ID": subnet}).returncode == 0
