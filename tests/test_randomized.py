"""Randomized interleavings over simulated weeks, with both promises checked after every step.

Safety: each secret's current version holds a live key; while its version is younger
than the cool-down the previous version's key is live too (apps may still hold it); every
completed rotation cost exactly one regeneration (one more at most while one is in flight).
Liveness: after the faults stop, a secret that is due gets rotated by the next sweep, and
then no regeneration is left over: each one Azure accepted became exactly one new version.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotators.core.errors import RotationError
from tests import conftest, helpers
from tests.helpers import VAULT, run_until

SECRETS = {"h-st": "sthyp", "h-co": "cosmos-hyp"}
FAULT_ROUTES = [
    "keyvault.get_secret",
    "keyvault.set_secret",
    "storage.regenerate_key",
    "cosmos.regenerate_key",
    "cosmos.operation_status",
    "blob.lease.acquire",
    "blob.put",
    "storage.list_keys",
    "cosmos.list_keys",
]
CRASH_ROUTES = ["storage.regenerate_key", "cosmos.regenerate_key", "cosmos.operation_status", "keyvault.set_secret"]

secret_names = st.sampled_from(sorted(SECRETS))
actions = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([1, 6, 25, 24 * 7, 24 * 40])),
    st.tuples(st.just("event"), secret_names, st.sampled_from(["current", "stale", "duplicate", "expired"])),
    st.tuples(st.just("http"), secret_names),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("fault"), st.sampled_from(FAULT_ROUTES), st.sampled_from(["500", "503", "drop"])),
    st.tuples(st.just("crash"), secret_names, st.sampled_from(CRASH_ROUTES)),
)


def advance(cloud, hours: int) -> None:
    """Move simulated time forward by moving every timestamp back."""
    seconds = hours * 3600
    for name in SECRETS:
        for version in cloud.keyvault.secret_versions(VAULT, name):
            version.created -= seconds
            version.updated -= seconds
            if version.expires is not None:
                version.expires -= seconds


def check_promises(cloud, name: str, *, in_flight: int = 1) -> None:
    helpers.holds_live_key(cloud, name)
    versions = cloud.keyvault.secret_versions(VAULT, name)
    current = versions[-1]
    if len(versions) >= 2 and helpers.now().timestamp() - current.created < 24 * 3600:
        previous = versions[-2]
        account = cloud.cosmosdb.accounts.get(SECRETS[name]) or cloud.storage.accounts[SECRETS[name]]
        credential = previous.tags["CredentialId"]
        if helpers.live_key(account, credential) != previous.value:
            raise AssertionError(f"{name}: the previous version's key was regenerated inside the cool-down")
    path_part = f"/{SECRETS[name]}/regenerateKey"
    regenerated = sum(1 for call in cloud.calls() if call.path.endswith(path_part) and 200 <= call.status < 300)
    completed = len(versions) - 1
    counts = f"{name}: {regenerated} regenerations for {completed} rotations"
    assert completed <= regenerated <= completed + in_flight, counts


def fresh_world(cloud, azurite) -> dict[str, list[str]]:
    cloud.reset()
    os.environ.update(cloud.environment())  # the cloud fixture's monkeypatch restores them
    cloud.keyvault.create_vault(VAULT)
    helpers.delete_lock_container(azurite.connection_string)
    conftest.clear_process_state()
    cloud.cosmosdb.operation_delay = 0.05
    return {
        "h-st": [helpers.enroll_storage(cloud, secret="h-st", account="sthyp", age=timedelta(days=60))],
        "h-co": [helpers.enroll_cosmos(cloud, secret="h-co", account="cosmos-hyp", age=timedelta(days=60))],
    }


def step(cloud, azurite, seen: dict[str, list[str]], action: tuple) -> None:
    kind = action[0]
    try:
        if kind == "advance":
            advance(cloud, action[1])
        elif kind == "event":
            _, name, which = action
            current = cloud.keyvault.current_secret(VAULT, name).version
            version = seen[name][0] if which == "stale" else current
            event_type = "Microsoft.KeyVault.SecretExpired" if which == "expired" else None
            event = helpers.event(event_type or "Microsoft.KeyVault.SecretNearExpiry", secret=name, version=version)
            for _ in range(2 if which == "duplicate" else 1):
                helpers.deliver(event)
        elif kind == "http":
            helpers.post_rotate({"vaultName": VAULT, "secretName": action[1]})
        elif kind == "sweep":
            helpers.sweep()
        elif kind == "fault":
            _, route, what = action
            cloud.inject(route, count=4, **({"drop": True} if what == "drop" else {"status": int(what)}))
        elif kind == "crash":
            _, name, route = action
            owner = {"storage": "h-st", "cosmos": "h-co"}.get(route.split(".")[0], name)
            cloud.faults.clear()
            advance(cloud, 30)  # out of the cool-down, so the rotation reaches the crash point
            fault = cloud.inject(route, delay=30, after=route != "cosmos.operation_status")
            run_until(fault, owner, must_reach=False)  # the rotation may legitimately end first
            cloud.faults.clear()
            for secret in SECRETS:
                expire_lock_quietly(cloud, azurite, secret)
    except RotationError as exc:
        assert exc.retryable or exc.status == 409, f"{action}: {exc.code}"
    finally:
        for name in SECRETS:
            seen[name].append(cloud.keyvault.current_secret(VAULT, name).version)


def expire_lock_quietly(cloud, azurite, name: str) -> None:
    from azure.core.exceptions import HttpResponseError

    with contextlib.suppress(HttpResponseError):
        helpers.expire_lock(cloud, azurite.connection_string, name)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("RANDOMIZED_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(actions, min_size=4, max_size=14))
def test_random_interleavings_keep_both_promises(cloud, azurite, plan):
    seen = fresh_world(cloud, azurite)
    for action in plan:
        step(cloud, azurite, seen, action)
        for name in SECRETS:
            check_promises(cloud, name)
    # Liveness: with the faults gone and the secrets due, one sweep finishes everything.
    cloud.faults.clear()
    for name in SECRETS:
        expire_lock_quietly(cloud, azurite, name)
        helpers.settle_request(cloud, azurite.connection_string, name)
    advance(cloud, 24 * 80)
    before = {name: cloud.keyvault.current_secret(VAULT, name).version for name in SECRETS}
    helpers.sweep()
    for name in SECRETS:
        check_promises(cloud, name, in_flight=0)
        assert cloud.keyvault.current_secret(VAULT, name).version != before[name], f"{name} was not rotated when due"
