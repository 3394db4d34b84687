"""azure.yaml validated offline against azd's own published schema (tools/azd/azure.yaml.json)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry
from referencing.exceptions import NoSuchResource

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tools" / "azd" / "azure.yaml.json").read_text())


def refuse(uri: str) -> None:
    """The schema's extension $refs point at the web: the test never follows one."""
    raise NoSuchResource(ref=uri)


def validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA, registry=Registry(retrieve=refuse))


def test_the_vendored_schema_is_azds_v1():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2019-09/schema"
    assert {"name", "infra", "services", "hooks", "requiredVersions"} <= set(SCHEMA["properties"])


def test_azure_yaml_is_valid():
    document = yaml.safe_load((ROOT / "azure.yaml").read_text())
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    "broken",
    [
        {"requiredVersions": {"azd": ">= 1.23.4", "bicep": "1"}},  # unknown key
        {"hooks": {"preprovision": {"posix": {"shell": "bash", "run": "x.sh"}}}},  # sh or pwsh only
        {"hooks": {"postprovison": {"run": "x.sh"}}},  # no such azd command
        {"hooks": {"postdeploy": {"shell": "sh"}}},  # a shell without a script
    ],
)
def test_the_schema_catches_mistakes(broken):
    document = yaml.safe_load((ROOT / "azure.yaml").read_text()) | broken
    assert list(validator().iter_errors(document))
