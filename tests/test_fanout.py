"""The sweep fanned out on the queues: the timer plans, queue functions list vaults and rotate secrets.

The Functions host cannot run here, so tests/queue_worker.py does what it documents with Azurite's
queues (receive, call the function, delete on return, release on raise, poison after
maxDequeueCount), in this process or in several worker processes, as instances would.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from localazure.services.base import ISSUED_KEYS
from rotators.adapters import queues
from rotators.core.errors import BadRequest
from rotators.core.tasks import SecretTask, VaultTask, Work
from tests import helpers
from tests.helpers import ROOT, VAULT
from tests.queue_worker import HOST, Worker

OTHER_VAULT = "kv-two"


def seed(cloud, vault: str, name: str, *, due: bool, account: str | None = None, credential: str = "key1") -> None:
    """A Storage secret past the cool-down, near expiry (due) or not."""
    now = helpers.now()
    resource = cloud.storage.accounts.get(account or f"st{name}") or cloud.storage.create_account(
        account or f"st{name}"
    )
    tags = {"CredentialId": credential, "ProviderAddress": resource.id, "ValidityPeriodDays": "90"}
    cloud.keyvault.seed_secret(
        vault,
        name,
        resource.keys[credential],
        tags=tags,
        created=now - timedelta(days=10),
        expires=now + (timedelta(days=5) if due else timedelta(days=80)),
    )


def versions(cloud, name: str, vault: str = VAULT) -> int:
    return len(cloud.keyvault.secret_versions(vault, name))


def only(queue: str) -> Worker:
    """A worker that takes messages from one queue only (the others wait)."""
    return Worker(release_visibility=0, functions={queue: helpers.QUEUE_FUNCTIONS[queue]})


def peek(azurite, queue: str) -> list[str]:
    from azure.core.exceptions import ResourceNotFoundError

    from tests.queue_worker import queue_client

    try:
        return [message.content for message in queue_client(queue).peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


def run_workers(count: int, *, idle: float = 3.0, only_queue: str | None = None) -> tuple[list[dict[str, int]], str]:
    """``count`` worker processes (as Functions instances are), each until the queues (``only_queue``: that
    one) stay empty: what each did, and what they logged."""
    command = [sys.executable, "-m", "tests.queue_worker", "--idle", str(idle), "--release", "0", "--limit", "240"]
    processes = [
        subprocess.Popen(
            command + (["--queue", only_queue] if only_queue else []),
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    done, logged = [], []
    for process in processes:
        out, err = process.communicate(timeout=300)
        helpers.PRODUCED.extend([out, err])
        assert process.returncode == 0, err[-2000:]
        done.append(json.loads(out.splitlines()[-1]))
        logged.append(err)
    return done, "".join(logged)


def total(done: list[dict[str, int]], key: str) -> int:
    return sum(worker.get(key, 0) for worker in done)


def test_several_worker_processes_rotate_every_due_secret_exactly_once_under_redelivery(cloud, monkeypatch):
    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", f"{VAULT},{OTHER_VAULT}")
    cloud.keyvault.create_vault(OTHER_VAULT)
    cloud.keyvault.page_size = 4
    due = {(vault, f"{vault}-due-{i}") for vault in (VAULT, OTHER_VAULT) for i in range(6)}
    for vault in (VAULT, OTHER_VAULT):
        for i in range(6):
            seed(cloud, vault, f"{vault}-due-{i}", due=True)
            seed(cloud, vault, f"{vault}-ok-{i}", due=False)
    # Redelivery: the timer fires twice, so every vault is listed twice and every due secret queued
    # twice; and two regenerations lose their answer after Azure made them, so their messages fail
    # and come back.
    helpers.FUNCTIONS["SweepVaults"](None)
    helpers.FUNCTIONS["SweepVaults"](None)
    assert only(queues.VAULTS).run(idle=0, limit=60) == {queues.VAULTS: 4}
    assert len(peek(None, queues.SECRETS)) == min(32, 2 * len(due))
    cloud.inject("storage.regenerate_key", drop=True, after=True, count=2)

    done, _ = run_workers(3)

    assert total(done, queues.SECRETS + " released") >= 2  # delivered again
    assert total(done, queues.SECRETS) == 2 * len(due)
    assert sum(1 for d in done if d.get(queues.SECRETS)) >= 2, done  # the work was shared
    for vault, name in due:
        assert versions(cloud, name, vault) == 2, name
        current = cloud.keyvault.current_secret(vault, name)
        assert current.tags["CredentialId"] == "key2" and current.tags["RotatedBy"] == "sweep", name
        account = helpers.resource_of(cloud, current.tags["ProviderAddress"])
        helpers.same(current.value, account.keys["key2"], f"{name} holds the live key2")
    for vault in (VAULT, OTHER_VAULT):
        assert all(versions(cloud, f"{vault}-ok-{i}", vault) == 1 for i in range(6))
    assert helpers.regenerations(cloud) == len(due)
    assert peek(None, queues.SECRETS + queues.POISON_SUFFIX) == []


def test_messages_name_the_work_and_carry_no_secret_value(cloud, azurite):
    seed(cloud, VAULT, "due", due=True)
    helpers.FUNCTIONS["SweepVaults"](None)
    (vault_message,) = peek(azurite, queues.VAULTS)
    assert json.loads(vault_message) == {"vault": helpers.VAULT_URL}
    only(queues.VAULTS).run(idle=0, limit=60)
    (secret_message,) = peek(azurite, queues.SECRETS)
    task = SecretTask.parse(secret_message)
    assert (task.secret, task.work, task.resume) == ("due", Work.ROTATE, False)
    assert task.sole_on is not None and task.sole_on[1] == frozenset({"key1", "key2"})
    helpers.assert_no_key_in([vault_message, secret_message], ISSUED_KEYS)
    assert cloud.keyvault.current_secret(VAULT, "due").value not in secret_message


def test_a_vault_larger_than_one_messages_budget_is_continued_and_each_secret_rotated_once(cloud, monkeypatch):
    monkeypatch.setenv("ROTATION_SWEEP_BUDGET_SECONDS", "6")  # listing stops after half of it
    cloud.keyvault.page_size = 5
    names = [f"s{i:02}" for i in range(40)]
    for i, name in enumerate(names):
        seed(cloud, VAULT, name, due=i % 4 == 0)
    # Two secrets on one key pair, on the first and the last page: no single message lists both.
    seed(cloud, VAULT, "a-first", due=True, account="stshared", credential="key1")
    seed(cloud, VAULT, "z-last", due=False, account="stshared", credential="key2")
    # The sweep's pages (and each worker's challenge) answer slowly: three pages at most per message.
    cloud.inject("keyvault.list_secrets", delay=1.0, count=12)

    helpers.FUNCTIONS["SweepVaults"](None)
    listed, _ = run_workers(2, only_queue=queues.VAULTS)  # the listing first, then the rotations
    assert total(listed, queues.VAULTS) >= 3, listed  # the vault went back on the queue, page link and all
    assert len([c for c in cloud.calls("keyvault.list_secrets") if c.status == 200]) == 9  # each page once

    run_workers(2)

    for i, name in enumerate(names):
        assert versions(cloud, name) == (2 if i % 4 == 0 else 1), name
    # The first claim of the shared pair, with no whole listing to lean on, listed the vault itself.
    assert versions(cloud, "a-first") == 1 and versions(cloud, "z-last") == 1
    assert helpers.regenerations(cloud) == 10


def test_a_secret_rotated_by_an_event_while_its_message_waits_is_skipped(cloud):
    version = helpers.enroll_storage(cloud)  # expires in 20 days: due
    helpers.FUNCTIONS["SweepVaults"](None)
    only(queues.VAULTS).run(idle=0, limit=60)  # the secret's message now waits on its queue
    helpers.deliver(helpers.event(secret="storage-key", version=version))
    assert versions(cloud, "storage-key") == 2

    done, logged = run_workers(2)

    assert total(done, queues.SECRETS) == 1
    assert versions(cloud, "storage-key") == 2 and helpers.regenerations(cloud) == 1
    assert "Secret storage-key in kv-app is no longer due" in logged


@pytest.mark.parametrize("kept", ["by the plan", "by nobody", "unreadable", "long ago"])
def test_a_vault_message_finishes_a_rotation_interrupted_on_a_secret_not_due(cloud, azurite, kept):
    """The plan keeps each vault's share of the rotation records, so a vault message reads one blob; a
    message planned by an earlier release (nothing kept), or kept records it cannot read or that were
    listed longer ago than a listing is trusted, and it lists them all."""
    from azure.storage.blob import BlobClient

    from tests.queue_worker import queue_client

    version = helpers.enroll_cosmos(cloud, secret="interrupted")
    cloud.keyvault.current_secret(VAULT, "interrupted").expires = int((helpers.now() + timedelta(days=60)).timestamp())
    fault = cloud.inject("cosmos.get_account", delay=60, skip=1)  # while it waits on the operation
    helpers.run_until(fault, "interrupted")
    cloud.faults.clear()
    helpers.expire_lock(cloud, azurite.connection_string, "interrupted")
    cloud.cosmosdb.advance(1)
    if kept == "by nobody":
        queue_client(queues.VAULTS).create_queue()
        queue_client(queues.VAULTS).send_message(VaultTask(helpers.vault_address(helpers.VAULT_URL)).to_text())
    else:
        helpers.FUNCTIONS["SweepVaults"](None)
    stale = {"unreadable": b'[["interrupted", 1]]', "long ago": json.dumps({"listedAt": 1, "bases": []})}
    if kept in stale:
        name = "sweep/" + helpers.VAULT_URL.removeprefix("https://")
        BlobClient.from_connection_string(azurite.connection_string, "secret-rotation", name).upload_blob(
            stale[kept], overwrite=True
        )
    listed_before = helpers.calls(cloud, "blob.list")

    assert helpers.drain()[queues.SECRETS] == 1

    current = cloud.keyvault.current_secret(VAULT, "interrupted")
    assert current.version != version and current.tags["CredentialId"] == "secondary"
    assert helpers.regenerations(cloud) == 1
    assert helpers.calls(cloud, "blob.list") - listed_before == (0 if kept == "by the plan" else 1)


def test_a_queued_sweep_that_cannot_list_the_rotation_records_still_rotates_due_secrets(cloud, caplog):
    helpers.enroll_storage(cloud)
    cloud.inject("blob.list", status=503, count=10_000)
    with caplog.at_level(logging.WARNING, logger="rotators"):
        assert helpers.sweep() == {queues.VAULTS: 1, queues.SECRETS: 1}
    helpers.holds_live_key(cloud, "storage-key")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not keep the rotation records" in line for line in warned), warned
    assert any("queues the due secrets only" in line for line in warned), warned


def test_a_queued_rotation_reads_the_secret_once_before_its_lock_and_once_under_it(cloud):
    seed(cloud, VAULT, "due", due=True)
    helpers.FUNCTIONS["SweepVaults"](None)
    only(queues.VAULTS).run(idle=0, limit=60)
    read_before = helpers.calls(cloud, "keyvault.get_secret")

    only(queues.SECRETS).run(idle=0, limit=60)

    assert versions(cloud, "due") == 2
    # The due check's read stands in for the rotation's first; under the lock it reads again.
    assert helpers.calls(cloud, "keyvault.get_secret") - read_before == 2


def test_a_secret_whose_tags_moved_to_another_pair_after_the_listing_claims_it_only_after_a_listing(cloud):
    seed(cloud, VAULT, "mover", due=True)
    seed(cloud, VAULT, "holder", due=False, account="stheld", credential="key2")  # never rotated: no claim yet
    helpers.FUNCTIONS["SweepVaults"](None)
    only(queues.VAULTS).run(idle=0, limit=60)  # the listing saw mover alone on stmover's pair
    # Before the rotation, mover's tags (same version) are pointed at the pair holder holds key2 of.
    current = cloud.keyvault.current_secret(VAULT, "mover")
    held = cloud.storage.accounts["stheld"]
    current.tags["ProviderAddress"] = held.id
    current.value = held.keys["key1"]
    only(queues.SECRETS).run(idle=0, limit=60)
    # Regenerating key2 would have broken holder: the claim listed the vault and found it.
    assert versions(cloud, "mover") == 1 and helpers.regenerations(cloud) == 0
    helpers.same(cloud.keyvault.current_secret(VAULT, "holder").value, held.keys["key2"], "holder keeps its key2")


def test_a_message_that_keeps_failing_lands_in_the_poison_queue_and_status_counts_it(cloud, capsys):
    from rotators.triggers.cli import OK, main

    seed(cloud, VAULT, "due", due=True)
    cloud.inject("keyvault.list_secrets", status=403, code="Forbidden", inner="ForbiddenByRbac", count=50)
    helpers.FUNCTIONS["SweepVaults"](None)

    done, logged = run_workers(2)

    assert total(done, queues.VAULTS + " released") == HOST["maxDequeueCount"] - 1
    assert total(done, queues.VAULTS + "-poison") == 1
    errors = [line for line in logged.splitlines() if line.startswith("ERROR")]
    given_up = [line for line in errors if "Sweep of vault kv-app stopped" in line]
    assert len(given_up) == 1 and "poison" in given_up[0] and "Key Vault" in given_up[0], logged[-2000:]
    assert versions(cloud, "due") == 1
    cloud.faults.clear()
    assert main(["status", "--vault", VAULT]) == OK
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert "poison messages: 1 in rotation-vaults-poison" in out


def test_a_task_that_is_not_one_of_ours_is_refused_and_not_retried(cloud, caplog):
    from tests.queue_worker import queue_client

    sender = queue_client(queues.SECRETS)
    sender.create_queue()
    for text in (
        "not json",
        json.dumps({"vault": "https://evil.example", "secret": "s", "work": "rotate", "created": 1, "listedAt": 1}),
        json.dumps({"vault": helpers.VAULT_URL, "secret": "s", "work": "delete", "created": 1, "listedAt": 1}),
    ):
        sender.send_message(text)
    with caplog.at_level(logging.ERROR, logger="rotators"):
        done = helpers.drain()
    assert done == {queues.SECRETS: 3}  # done with, not delivered again: retrying cannot fix them
    assert sum("Sweep could not rotate a secret" in r.getMessage() for r in caplog.records) == 3
    assert cloud.calls("keyvault.get_secret") == []


def test_the_cli_sweeps_a_vault_in_one_process_with_a_line_per_vault(cloud, capsys, monkeypatch):
    from rotators.triggers.cli import OK, main

    monkeypatch.setenv("ROTATION_ALLOWED_VAULTS", f"{VAULT},{OTHER_VAULT}")
    cloud.keyvault.create_vault(OTHER_VAULT)
    seed(cloud, VAULT, "due", due=True)
    seed(cloud, OTHER_VAULT, "other-due", due=True)
    seed(cloud, VAULT, "fine", due=False)

    assert main(["sweep", "--vault", VAULT, "--dry-run"]) == OK
    out = capsys.readouterr().out
    assert out == "kv-app: 1 ok, 1 planned\n"
    helpers.assert_nothing_written(cloud)

    assert main(["sweep"]) == OK
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert out.splitlines() == ["kv-app: 1 ok, 1 rotated", "kv-two: 1 rotated"]
    assert versions(cloud, "due") == 2 and versions(cloud, "other-due", OTHER_VAULT) == 2


def test_the_host_settings_agree_with_what_the_product_assumes():
    """host.json's queue settings: the poison threshold the triggers log against, base64 bodies as sent."""
    assert HOST["maxDequeueCount"] == queues.MAX_DEQUEUE_COUNT
    assert HOST["messageEncoding"] == "base64"
    assert set(helpers.QUEUE_FUNCTIONS) == {queues.VAULTS, queues.SECRETS}


# the tasks themselves (pure) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("[]", "not a JSON object"),
        ('{"vault": "https://kv-app.vault.azure.net", "page": 7}', "page 7 is not text"),
        ('{"vault": "https://kv-app.vault.azure.net", "extra": 1}', "fields it does not know"),
        ('{"vault": "https://kv-app.vault.azure.net", "page": "https://evil.example/secrets?x"}', "not a link"),
        ('{"vault": "https://kv-app.vault.azure.net", "page": "https://kv-app.vault.azure.net/keys?x"}', "not a link"),
        ('{"vault": "https://kv-app.vault.azure.net", "page": "http://kv-app.vault.azure.net/secrets"}', "not a link"),
        ('{"page": "https://kv-app.vault.azure.net/secrets"}', "lacks vault"),
    ],
)
def test_a_vault_task_is_checked_like_any_input(text, phrase):
    with pytest.raises(BadRequest, match=phrase):
        VaultTask.parse(text)


def test_tasks_read_back_what_was_sent():
    from rotators.core.clouds import VaultAddress

    vault = VaultAddress.from_name(VAULT)
    link = "https://kv-app.vault.azure.net:443/secrets?api-version=7.5&$skiptoken=eyJOZXh0&maxresults=25"
    assert VaultTask.parse(VaultTask(vault, link).to_text()) == VaultTask(vault, link)
    pair = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/x.y/z/n", {"a", "b"})
    task = SecretTask(vault, "s-1", Work.ROTATE, 1700000000, 1700000100, True, (pair[0], frozenset(pair[1])))
    assert SecretTask.parse(task.to_text()) == task
    with pytest.raises(BadRequest, match="soleOn"):
        SecretTask.parse(task.to_text().replace("/resourcegroups/", "/resourceGroups/"))
    with pytest.raises(BadRequest, match="created"):
        SecretTask.parse(task.to_text().replace("1700000000", "true"))


def test_queues_another_instance_created_first_are_used_as_they_are(cloud):
    """Create Queue answers 204 (or 409) for a queue that exists: every instance creates it on first use."""
    from tests.queue_worker import queue_client

    for queue in (queues.VAULTS, queues.SECRETS):
        queue_client(queue).create_queue()
    seed(cloud, VAULT, "due", due=True)
    assert helpers.sweep() == {queues.VAULTS: 1, queues.SECRETS: 1}
    assert versions(cloud, "due") == 2
