"""What a rotation and a sweep cost, against the local stand-in: counts and ratios, not seconds.

This machine is noisy, so what is printed is either exact (requests by service, which the
tests also assert) or a ratio of two timings taken side by side. The stand-in pages Key
Vault listings at 25, as Key Vault does.

    python benchmarks/cost.py                 # everything (about three quarters of an hour on 2 cores)
    python benchmarks/cost.py --quick         # vaults of 10 and 1,000 only; a fan-out of 2,000 secrets
    python benchmarks/cost.py --fanout-only   # the fan-out of 20,000 secrets alone (about 25 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localazure import Azurite, LocalAzure  # noqa: E402

VAULT = "kv-bench"
SERVICES = {
    "keyvault": "Key Vault",
    "storage": "ARM",
    "cosmos": "ARM",
    "identity": "token",
    "blob": "lock",
    "queue": "queue",
    "storagedata": "data plane",
    "cosmosdata": "data plane",
}
# What a warm rotation cannot do without (README "Performance" says why each is there).
FLOOR = {
    "storage": {"Key Vault": 3, "ARM": 3, "token": 0, "lock": 4, "data plane": 1},
    # + one account read per poll; the data plane: azure-cosmos reads the account twice, then lists databases
    "cosmos": {"Key Vault": 3, "ARM": 5, "token": 0, "lock": 5, "data plane": 3},
}


def by_service(cloud: LocalAzure) -> Counter[str]:
    """Requests by service, leaving out Key Vault's 401 challenge (one per process, not per rotation)."""
    return Counter(SERVICES[call.route.split(".")[0]] for call in cloud.calls() if call.status != 401)


@contextmanager
def world(size: int) -> Iterator[LocalAzure]:
    """The stand-in and Azurite, a vault of ``size`` enrolled secrets, and the environment pointing at them."""
    with LocalAzure() as cloud, Azurite() as azurite:
        os.environ.update(cloud.environment())
        os.environ.update(
            {
                "AzureWebJobsStorage": cloud.blob_connection_string(azurite),
                "ROTATION_ALLOWED_VAULTS": VAULT,
                "ROTATION_POLL_SECONDS": "0.05",
            }
        )
        cloud.keyvault.create_vault(VAULT)
        seed(cloud, size, due=0)
        yield cloud


def seed(cloud: LocalAzure, size: int, *, due: int) -> None:
    now = datetime.now(timezone.utc)
    for index in range(size):
        account = cloud.storage.create_account(f"stb{index}")
        tags = {"CredentialId": "key1", "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
        expires = now + (timedelta(days=5) if index < due else timedelta(days=80))
        cloud.keyvault.seed_secret(
            VAULT, f"s-{index}", account.keys["key1"], tags=tags, created=now - timedelta(days=10), expires=expires
        )


def fresh_process() -> None:
    from rotators.adapters import clients, queues
    from rotators.core import settings

    for cache in (
        settings.get_settings,
        clients.credential,
        clients.secret_client,
        clients.storage_client,
        clients.cosmos_client,
        clients.lock_container,
        clients.management_client,
        queues._queue,
        queues._client,
    ):
        cache.cache_clear()


def rotate(name: str) -> None:
    from rotators.core.clouds import VaultAddress
    from rotators.workflows.rotation import RotationRequest, Status, Trigger, rotate

    outcome = rotate(RotationRequest(VaultAddress.from_name(VAULT), name, Trigger.HTTP))
    assert outcome.status is Status.ROTATED, outcome


def age(cloud: LocalAzure, name: str) -> None:
    current = cloud.keyvault.current_secret(VAULT, name)
    current.created = current.updated = current.created - 4 * 86400  # past the 72 h cool-down


def rotation_costs(sizes: list[int]) -> None:
    print("Requests per rotation, by service (a warm process; the pair already claimed)")
    print(
        f"{'kind':8} {'vault':>7}  {'Key Vault':>9} {'ARM':>5} {'token':>5} {'lock':>5} {'data':>5}   first claim lists"
    )
    for size in sizes:
        with world(size) as cloud:
            fresh_process()
            account = cloud.cosmosdb.create_account("cosmos-bench")
            tags = {"CredentialId": "primary", "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
            cloud.keyvault.seed_secret(
                VAULT,
                "cosmos",
                account.keys["primary"],
                tags=tags,
                created=datetime.now(timezone.utc) - timedelta(days=4),
            )
            for kind, name in (("storage", "s-0"), ("cosmos", "cosmos")):
                cloud.requests.clear()
                rotate(name)  # the first rotation of the pair claims it: one vault listing
                listed = sum(1 for call in cloud.calls("keyvault.list_secrets") if call.status == 200)
                age(cloud, name)
                cloud.requests.clear()
                rotate(name)
                counts = by_service(cloud)
                row = " ".join(
                    f"{counts[s]:>{w}}"
                    for s, w in (("Key Vault", 9), ("ARM", 5), ("token", 5), ("lock", 5), ("data plane", 5))
                )
                print(f"{kind:8} {size:>7}  {row}   {listed} page(s)")
    floor = {kind: " ".join(f"{n:>5}" for n in values.values()) for kind, values in FLOOR.items()}
    print(f"floor: storage {floor['storage']}; cosmos {floor['cosmos']} (+1 ARM read per poll)")


def sweep_costs(sizes: list[int]) -> None:
    from rotators.workflows.sweep import sweep

    print("\nThe sweep: one listing, one assessment, then each due secret's rotation (5% due)")
    print(f"{'vault':>7} {'due':>5}  {'Key Vault':>9} {'ARM':>6} {'lock':>6}  {'seconds':>8}  {'per due secret':>14}")
    for size in sizes:
        with LocalAzure() as cloud, Azurite() as azurite:
            os.environ.update(cloud.environment())
            os.environ.update(
                {"AzureWebJobsStorage": cloud.blob_connection_string(azurite), "ROTATION_ALLOWED_VAULTS": VAULT}
            )
            cloud.keyvault.create_vault(VAULT)
            due = size // 20
            seed(cloud, size, due=due)
            fresh_process()
            started = time.perf_counter()
            tally = sweep()
            seconds = time.perf_counter() - started
            assert tally["rotated"] == due, tally
            counts = by_service(cloud)
            print(
                f"{size:>7} {due:>5}  {counts['Key Vault']:>9} {counts['ARM']:>6} {counts['lock']:>6}  "
                f"{seconds:>8.1f}  {sum(counts.values()) / due:>14.1f} requests"
            )


def consumer_costs(latency: float = 0.1) -> None:
    """Fifty App Service consumers against one, with every App Service call taking ``latency``."""
    from rotators.adapters import registry
    from rotators.core.clouds import VaultAddress
    from rotators.core.consumers import REGISTRY, Consumer

    print(f"\nConsumers after a write (App Service answering in {latency * 1000:.0f} ms)")
    seconds, calls = {}, 0
    for count in (1, 50):
        with world(1) as cloud:
            reference = f"@Microsoft.KeyVault(SecretUri=https://{VAULT}.vault.azure.net/secrets/s-0/)"
            apps = tuple(Consumer("rg-apps", f"app-{index:02}") for index in range(count))
            for app in apps:
                cloud.appservice.create_app(app.app, {"SECRET": reference})
            fresh_process()
            registry.save(VaultAddress.from_name(VAULT), "s-0", apps)
            cloud.keyvault.current_secret(VAULT, "s-0").tags["Consumers"] = REGISTRY
            age(cloud, "s-0")
            cloud.inject("appservice.*", delay=latency, count=1_000_000)
            started = time.perf_counter()
            rotate("s-0")
            seconds[count] = time.perf_counter() - started
            calls = sum(1 for call in cloud.calls() if call.route.startswith("appservice."))
    print(f"App Service requests per consumer: {calls / 50:.0f} (refresh, app settings, connection strings)")
    print(
        f"a rotation with 50 consumers / with 1: {seconds[50] / seconds[1]:.2f}x "
        f"(asked one at a time, 50 consumers would add {50 * 3 * latency:.0f} s)"
    )


def confirmation_costs() -> None:
    """One confirmation with fifty consumers of mixed kinds: every identity is asked in one audit query."""
    import uuid

    from rotators.adapters import registry
    from rotators.core.clouds import VaultAddress
    from rotators.core.consumers import REGISTRY, parse_entries
    from rotators.core.contract import read_contract
    from rotators.kinds import KINDS
    from rotators.workflows import consumers

    print("\nConfirming fifty consumers of mixed kinds (App Service without activeVersion, API Management,")
    print("Container Apps, identities) with the audit trail in a Log Analytics workspace")
    url = f"https://{VAULT}.vault.azure.net/secrets/s-0"
    with world(1) as cloud:
        os.environ["ROTATION_AUDIT_WORKSPACE_ID"] = str(uuid.uuid4())
        try:
            cloud.appservice.reports_active_version = False
            entries = []
            for index in range(15):
                cloud.appservice.create_app(f"app-{index:02}", {"SECRET": f"@Microsoft.KeyVault(SecretUri={url}/)"})
                entries.append(f"rg-apps/app-{index:02}")
            for index in range(10):
                cloud.apimanagement.create(f"apim-{index:02}", {"nv": url})
                entries.append(f"apim:rg-apps/apim-{index:02}/nv")
                cloud.containerapps.create(f"ca-{index:02}", {"secret": url})
                entries.append(f"containerapp:rg-apps/ca-{index:02}")
            entries += [f"identity:{uuid.uuid4()}" for _ in range(15)]
            address = VaultAddress.from_name(VAULT)
            fresh_process()
            registry.save(address, "s-0", parse_entries(entries, "bench"))
            current = cloud.keyvault.current_secret(VAULT, "s-0")
            current.tags["Consumers"] = REGISTRY
            contract = read_contract(current.tags, address.cloud, KINDS)
            written = consumers.Written(contract, address, "s-0", current.version, datetime.now(timezone.utc))
            before = Counter(call.route for call in cloud.calls())
            confirmation = consumers.confirm(written, reserve=0.0)
            asked = Counter(call.route for call in cloud.calls()) - before
        finally:
            os.environ.pop("ROTATION_AUDIT_WORKSPACE_ID")
    assert len(confirmation.reports) == 50 and asked["loganalytics.query"] == 1, asked
    print(f"Log Analytics queries for 50 consumers: {asked['loganalytics.query']}")
    print(
        "other requests: "
        + ", ".join(f"{route} {n}" for route, n in sorted(asked.items()) if "loganalytics" not in route)
    )


def timed(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    environ = {**os.environ, **(env or {})}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the Functions host runs with bytecode caches
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


IMPORT = "import time, json; t = time.perf_counter(); import {}; print(json.dumps({{'s': time.perf_counter() - t}}))"
FIRST_AND_WARM = """
import json, sys, time
t0 = time.perf_counter()
import function_app
from benchmarks.cost import rotate
t1 = time.perf_counter(); rotate(sys.argv[1]); t2 = time.perf_counter(); rotate(sys.argv[2]); t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "warm": t3 - t2}))
"""


def start_costs(runs: int = 5) -> None:
    print("\nCold start (median of fresh interpreters, bytecode caches on)")
    bare = statistics.median(timed(IMPORT.format("azure.functions"))["s"] for _ in range(runs + 1))
    app = statistics.median(timed(IMPORT.format("function_app"))["s"] for _ in range(runs + 1))
    print(f"import function_app / import azure.functions:  {app / bare:.2f}x")
    with world(2 * (runs + 1)) as cloud:
        for index in range(2 * (runs + 1)):
            age(cloud, f"s-{index}")
        results = [timed(FIRST_AND_WARM, f"s-{2 * i}", f"s-{2 * i + 1}") for i in range(runs + 1)][1:]
    first = statistics.median(r["first"] for r in results)
    warm = statistics.median(r["warm"] for r in results)
    print(
        f"first rotation in a fresh process / a warm one: {first / warm:.2f}x "
        "(the difference: SDK imports, two tokens, Key Vault's challenge, the pair's first claim)"
    )


def fanout_costs(secrets: int, vaults: int, due: int, workers: tuple[int, ...] = (1, 4, 8)) -> None:
    """The fanned-out sweep over ``vaults`` vaults, with Key Vault and ARM answering in 40 ms (the lock
    store and the queues at once), worked by 1, 4 and 8 worker processes (tests/queue_worker.py does
    what the Functions host does with a queue; each process takes one message at a time)."""
    latency = 0.04
    print(
        f"\nThe fanned-out sweep: {secrets:,} secrets in {vaults} vaults, {due:,} due; Key Vault and ARM "
        f"answering in {latency * 1000:.0f} ms"
    )
    print(f"{'workers':>7}  {'seconds':>8}  {'vs 1 worker':>11}  requests per due secret")
    names = [f"kv-bench-{index:02}" for index in range(vaults)]
    seconds: dict[int, float] = {}
    for count in workers:
        with LocalAzure() as cloud, Azurite() as azurite:
            os.environ.update(cloud.environment())
            os.environ.update(
                {
                    "AzureWebJobsStorage": cloud.blob_connection_string(azurite),
                    "ROTATION_ALLOWED_VAULTS": ",".join(names),
                    "ROTATION_POLL_SECONDS": "0.05",
                }
            )
            seed_estate(cloud, names, secrets, due)
            fresh_process()
            from rotators.workflows.fanout import plan

            plan()
            cloud.inject("keyvault.*", delay=latency, count=10_000_000)
            cloud.inject("storage.*", delay=latency, count=10_000_000)
            started = time.perf_counter()
            logs = [tempfile.TemporaryFile() for _ in range(count)]  # noqa: SIM115 (read after the run)
            processes = [
                subprocess.Popen(
                    [sys.executable, "-m", "tests.queue_worker", "--idle", "3", "--limit", "3000"],
                    cwd=ROOT,
                    env=dict(os.environ),
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
                for log in logs
            ]
            while sum(1 for call in cloud.calls("keyvault.set_secret") if call.status == 200) < due:
                if all(process.poll() is not None for process in processes):
                    for log in logs:
                        log.seek(0)
                        sys.stderr.write(log.read().decode(errors="replace")[-3000:])
                    raise SystemExit("the workers stopped before every due secret was rotated")
                time.sleep(0.2)
            seconds[count] = time.perf_counter() - started
            for process in processes:
                process.wait()
            check_exactly_once(cloud, names, secrets, due)
            counts = by_service(cloud)
            per = ", ".join(f"{service} {n / due:.1f}" for service, n in sorted(counts.items()))
            ratio = seconds[count] / seconds[workers[0]]
            print(f"{count:>7}  {seconds[count]:>8.1f}  {ratio:>10.2f}x  {sum(counts.values()) / due:.1f} ({per})")


def seed_estate(cloud: LocalAzure, names: list[str], secrets: int, due: int) -> None:
    """``secrets`` Storage secrets spread over the vaults, every ``secrets // due``-th one near expiry."""
    now = datetime.now(timezone.utc)
    for name in names:
        cloud.keyvault.create_vault(name)
    for index in range(secrets):
        account = cloud.storage.create_account(f"ste{index}")
        tags = {"CredentialId": "key1", "ProviderAddress": account.id, "ValidityPeriodDays": "90"}
        near = index % (secrets // due) == 0
        cloud.keyvault.seed_secret(
            names[index % len(names)],
            f"s-{index}",
            account.keys["key1"],
            tags=tags,
            created=now - timedelta(days=10),
            expires=now + (timedelta(days=5) if near else timedelta(days=80)),
        )


def check_exactly_once(cloud: LocalAzure, names: list[str], secrets: int, due: int) -> None:
    """Every due secret got exactly one new version, the others none, and Azure regenerated one key each."""
    for index in range(secrets):
        expected = 2 if index % (secrets // due) == 0 else 1
        written = len(cloud.keyvault.secret_versions(names[index % len(names)], f"s-{index}"))
        assert written == expected, f"s-{index}: {written} versions"
    regenerated = sum(1 for call in cloud.calls("storage.regenerate_key") if call.status == 200)
    assert regenerated == due, regenerated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fanout-only", action="store_true", help="only the fanned-out sweep")
    parser.add_argument("--confirmation-only", action="store_true", help="only the confirmation of fifty consumers")
    args = parser.parse_args()
    if args.confirmation_only:
        confirmation_costs()
        return
    if not args.fanout_only:
        start_costs()
        rotation_costs([10, 1000] if args.quick else [10, 1000, 10_000])
        sweep_costs([1000] if args.quick else [1000, 10_000])
        consumer_costs()
        confirmation_costs()
    fanout_costs(*((2_000, 10, 100) if args.quick else (20_000, 10, 1_000)))


if __name__ == "__main__":
    main()
