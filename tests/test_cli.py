"""``python -m rotators``: rotate, status, enroll; exit codes; one-line errors; and the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from rotators.triggers.cli import FAILED, OK, REFUSED, main
from tests import helpers
from tests.helpers import VAULT

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    helpers.PRODUCED.extend([out, err])
    return code, out, err


def test_rotate_dry_run_then_rotate(cloud, capsys):
    helpers.enroll_storage(cloud)
    code, out, _ = run(capsys, "rotate", "--vault", VAULT, "--secret", "storage-key", "--dry-run")
    assert code == OK and "status: planned" in out and "newCredential: key2" in out
    helpers.assert_nothing_written(cloud)
    code, out, _ = run(capsys, "rotate", "--vault", VAULT, "--secret", "storage-key")
    assert code == OK and "status: rotated" in out
    helpers.holds_live_key(cloud, "storage-key")


def test_rotate_refusals_and_failures_have_distinct_exit_codes(cloud, capsys):
    helpers.enroll_storage(cloud, age=timedelta(hours=1))
    code, out, err = run(capsys, "rotate", "--vault", VAULT, "--secret", "storage-key")
    assert code == REFUSED and out == "" and err.count("\n") == 1 and err.startswith("error: CoolingDown: ")
    code, _, err = run(capsys, "rotate", "--vault", "kv-else", "--secret", "storage-key")
    assert code == REFUSED and "VaultNotAllowed" in err
    cloud.inject("storage.regenerate_key", status=500, count=10)
    code, _, err = run(capsys, "rotate", "--vault", VAULT, "--secret", "storage-key", "--force")
    assert code == FAILED and err.startswith("error: UpstreamUnavailable: ") and err.count("\n") == 1
    code, _, err = run(capsys, "rotate", "--vault", VAULT)
    assert code == 2 and "--secret" in err


def test_status_table(cloud, capsys):
    helpers.enroll_storage(cloud, secret="fresh", age=timedelta(hours=2))
    helpers.enroll_storage(cloud, secret="due", account="stdue")
    for twin, credential in (("twin-a", "key1"), ("twin-b", "key2")):
        helpers.enroll_storage(cloud, secret=twin, account="sttwins", credential=credential)
    expired = cloud.storage.create_account("stexpired")
    cloud.keyvault.seed_secret(
        VAULT,
        "expired",
        expired.keys["key2"],
        created=helpers.now() - timedelta(days=100),
        expires=helpers.now() - timedelta(days=1),
        tags={"CredentialId": "key2", "ValidityPeriodDays": "90", "ProviderAddress": expired.id},
    )
    healthy = cloud.storage.create_account("sthealthy")
    for name, value in (("healthy", healthy.keys["key1"]), ("drifted", "key2"), ("dead", "not-a-key")):
        account = healthy if name == "healthy" else cloud.storage.create_account(f"st{name}")
        cloud.keyvault.seed_secret(
            VAULT,
            name,
            account.keys.get(value, value),
            created=helpers.now() - timedelta(days=10),
            expires=helpers.now() + timedelta(days=80),
            tags={"CredentialId": "key1", "ValidityPeriodDays": "90", "ProviderAddress": account.id},
        )
    cloud.keyvault.seed_secret(VAULT, "broken", "x", tags={"CredentialId": "key1", "ProviderAddress": "nope"})
    cloud.keyvault.seed_secret(VAULT, "unrelated", "x")
    code, out, _ = run(capsys, "status", "--vault", VAULT, "--quick")
    assert code == OK and {line.split()[-1] for line in out.splitlines() if line.startswith(("drifted", "dead"))} == {
        "ok"
    }
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == {"fresh", "due", "expired", "healthy", "drifted", "dead", "broken", "twin-a", "twin-b"}
    assert "drift: the value is key2 though CredentialId says key1; set CredentialId to key2" in rows["drifted"]
    assert "broken: the value is neither key of the key1/key2 pair of stdead" in rows["dead"]
    assert out.splitlines()[0].split() == [
        "SECRET",
        "RESOURCE",
        "ACTIVE",
        "KEY",
        "CREATED",
        "EXPIRES",
        "DAYS",
        "LEFT",
        "STATE",
    ]
    assert rows["fresh"].endswith("cooling down") and "storageAccounts/stapp" in rows["fresh"]
    assert rows["due"].endswith("near expiry") and " 19 " in rows["due"]
    assert rows["expired"].endswith("expired") and " key2 " in rows["expired"]
    assert rows["healthy"].endswith("ok")
    assert "misconfigured: Tag 'ProviderAddress' is 'nope'" in rows["broken"]
    assert "misconfigured: Secrets 'twin-b' and 'twin-a' both rotate the key1/key2 pair of sttwins" in rows["twin-b"]
    helpers.assert_nothing_written(cloud)


def test_enroll_writes_the_first_version_from_the_live_key(cloud, capsys):
    account = cloud.storage.create_account("stnew")
    code, out, _ = run(
        capsys,
        "enroll",
        "--vault",
        VAULT,
        "--secret",
        "new-key",
        "--resource-id",
        account.id,
        "--credential",
        "KEY2",
        "--validity-days",
        "60",
    )
    assert code == OK and "CredentialId key2" in out
    written = cloud.keyvault.current_secret(VAULT, "new-key")
    helpers.same(written.value, account.keys["key2"], "the enrolled version to hold the live key2")
    assert written.tags["CredentialId"] == "key2"
    assert written.tags["ValidityPeriodDays"] == "60" and written.expires is not None
    assert helpers.regenerations(cloud) == 0

    cosmos = cloud.cosmosdb.create_account("cosmos-new")
    code, _, _ = run(
        capsys,
        "enroll",
        "--vault",
        VAULT,
        "--secret",
        "cosmos-new",
        "--resource-id",
        cosmos.id,
        "--credential",
        "primaryReadonly",
        "--value-format",
        "ConnectionString",
    )
    assert code == OK
    helpers.holds_live_key(cloud, "cosmos-new")
    assert cloud.keyvault.current_secret(VAULT, "cosmos-new").value.startswith("AccountEndpoint=https://cosmos-new.")


def test_enroll_refuses_bad_input_without_writing(cloud, capsys):
    account = cloud.storage.create_account("stnew")
    code, _, err = run(
        capsys, "enroll", "--vault", VAULT, "--secret", "n", "--resource-id", account.id, "--credential", "primary"
    )
    assert code == REFUSED and "Tag 'CredentialId' is 'primary'" in err
    code, _, err = run(
        capsys, "enroll", "--vault", VAULT, "--secret", "n", "--resource-id", account.id, "--validity-days", "0"
    )
    assert code == REFUSED and "from 1 to 3650" in err
    helpers.assert_nothing_written(cloud)


@pytest.mark.slow
def test_module_entry_point_and_demo_in_a_subprocess():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATION_")}
    result = subprocess.run(
        [sys.executable, "-m", "localazure.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=180,
    )
    helpers.PRODUCED.extend([result.stdout, result.stderr])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "value is the live key2: yes" in result.stdout
    assert "regenerations: 3 for the first delivery, 0 for the duplicate" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "rotators", "rotate", "--vault", "x!", "--secret", "s"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert bad.returncode == REFUSED and bad.stderr.startswith("error: BadRequest:")


@pytest.mark.parametrize("argv", [[], ["bogus"]])
def test_usage_errors(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "usage:" in err
