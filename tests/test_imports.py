"""Cold start: what importing function_app and running one kind of rotation pulls in; and
that the deployable code never imports the test world."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.test_kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent
MANAGEMENT = tuple(sorted({row.sdk for row in KINDS.values() if row.sdk}))
# The data-plane SDKs that test new keys (verify before publish); azure-storage-blob also holds the locks.
DATA_PLANES = tuple(sorted({row.data_plane for row in KINDS.values() if row.data_plane}))
HEAVY = (*MANAGEMENT, *DATA_PLANES, "azure.storage.blob")


def imported_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, env=env, timeout=120
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def heavy(modules: set[str], prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in modules)


def test_importing_function_app_imports_no_heavy_sdk():
    modules = imported_after("import function_app")
    assert [p for p in (*HEAVY, "azure.identity", "azure.keyvault", "azure.core") if heavy(modules, p)] == []


def test_kinds_import_only_their_own_sdk(cloud):
    import os

    from tests import helpers

    for kind, row in KINDS.items():
        row.enroll(cloud, secret=f"only-{kind}")
    env = dict(os.environ)
    for kind, row in KINDS.items():
        secret, mine = f"only-{kind}", [sdk for sdk in (row.sdk, row.data_plane) if sdk]
        code = (
            "from rotators.triggers.cli import main\n"
            f"assert main(['rotate', '--vault', '{helpers.VAULT}', '--secret', '{secret}']) == 0\n"
        )
        modules = imported_after(code, env)
        others = [sdk for sdk in (*MANAGEMENT, *DATA_PLANES) if sdk not in mine and heavy(modules, sdk)]
        assert all(heavy(modules, sdk) for sdk in mine) and others == [], secret


def test_the_product_imports_nothing_from_the_stand_in_or_the_tests():
    """``rotators/`` and ``function_app.py`` are what the host deploys (``.funcignore`` leaves the rest out)."""
    deployed = [ROOT / "function_app.py", *sorted((ROOT / "rotators").rglob("*.py"))]
    offending = []
    for path in deployed:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offending += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("localazure", "tests")]
    assert offending == []


OUTSIDE_THE_CORE = ("rotators.kinds", "rotators.adapters", "rotators.workflows", "rotators.triggers")


def test_the_core_imports_no_kind_adapter_or_workflow():
    """``rotators/core`` is pure: no module of it names a layer that calls Azure, even lazily, and importing
    every one of them loads none of those layers (nor an Azure SDK)."""
    core = sorted((ROOT / "rotators" / "core").glob("*.py"))
    named = []
    for path in core:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):  # "from rotators import kinds" names rotators.kinds
                package = ["rotators", "core"][: 3 - node.level] if node.level else []
                module = ".".join([*package, *([node.module] if node.module else [])])
                names = [module, *(f"{module}.{a.name}" for a in node.names)]
            named += [f"{path.name}: {n}" for n in names if n.startswith(OUTSIDE_THE_CORE)]
    assert named == []
    modules = imported_after("\n".join(f"import rotators.core.{path.stem}" for path in core if path.stem != "__init__"))
    assert [m for m in sorted(modules) if m.startswith((*OUTSIDE_THE_CORE, "azure"))] == []
