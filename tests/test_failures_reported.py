"""A failure that never clears is reported: once per episode, as ``KeyRotation.RotationFailed``
and an error line, after Azure's 10 minutes for a role to apply (a 403) or at the fifth failed attempt
(anything else retryable); the triggers still answer as for any retryable failure, and ``status`` and
the HTTP answer say how the secret stands."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from localazure.services.base import ISSUED_KEYS
from rotators.core.errors import AccessDenied, RotationError, TransientError
from rotators.core.failures import MAX_ATTEMPTS, PROPAGATION_WINDOW, Failures
from rotators.triggers.cli import OK
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run
from tests.test_roles import role_for

FAILED = "KeyRotation.RotationFailed"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _denied() -> AccessDenied:
    return AccessDenied("List the keys of stapp: Azure refused with 403 AuthorizationFailed: grant X on Y.")


def _unavailable() -> TransientError:
    return TransientError("Read the account stapp: Azure answered 503 ServiceUnavailable; retry later.")


# the pure decision ------------------------------------------------------------------------


def test_a_403_is_reported_once_the_propagation_window_after_the_first_refusal_has_passed():
    memory = Failures("v1")
    for minutes in (0, 1, 5, 9):
        memory = memory.after(_denied(), T0 + timedelta(minutes=minutes))
        assert memory.reported_at is None
    assert "past 2026-12-01 09:10 UTC" in memory.summary()
    memory = memory.after(_denied(), T0 + PROPAGATION_WINDOW)
    assert memory.reported_at == T0 + PROPAGATION_WINDOW and memory.attempts == 5
    assert memory.since == memory.refused_since == T0 and memory.code == "AccessDenied"
    again = memory.after(_denied(), T0 + timedelta(hours=1))
    assert again.reported_at == memory.reported_at and again.attempts == 6  # once per episode


def test_other_retryable_failures_are_reported_at_the_fifth_attempt_and_403s_do_not_count_towards_it():
    memory = Failures("v1").after(_denied(), T0)
    for attempt in range(1, MAX_ATTEMPTS):
        memory = memory.after(_unavailable(), T0 + timedelta(seconds=attempt))
        assert memory.reported_at is None, attempt
    memory = memory.after(_unavailable(), T0 + timedelta(minutes=1))
    assert memory.reported_at == T0 + timedelta(minutes=1) and memory.code == "UpstreamUnavailable"
    assert memory.attempts == MAX_ATTEMPTS + 1 and memory.other_attempts == MAX_ATTEMPTS


def test_the_memory_is_the_versions_and_a_new_version_starts_afresh():
    reported = Failures("v1", T0, T0, 7, 0, "AccessDenied", "why", T0 + PROPAGATION_WINDOW)
    assert reported.of("V1") == reported
    assert reported.of("v2") == Failures("v2")
    unread = Failures(None).of(None).after(_denied(), T0)  # the vault refused to say which version is current
    assert unread.of(None) == unread and unread.unread
    assert reported.concerns("v1") and not reported.concerns("v2") and unread.concerns("v9")
    assert reported.unreported().reported_at is None


def test_a_refusal_on_the_other_side_of_the_read_is_an_episode_of_its_own():
    """The vault's 403 reported (version unknown), the vault's role granted, then the resource's 403: that
    one is reported too, after its own window; and the other way round."""
    vault_refused = Failures(None)
    for at in (T0, T0 + PROPAGATION_WINDOW):
        vault_refused = vault_refused.of(None).after(_denied(), at)
    assert vault_refused.reported_at == T0 + PROPAGATION_WINDOW
    later = T0 + timedelta(hours=1)
    resource_refused = vault_refused.of("v1").after(_denied(), later)
    assert resource_refused == Failures("v1").after(_denied(), later)  # nothing carried over
    resource_refused = resource_refused.of("v1").after(_denied(), later + PROPAGATION_WINDOW)
    assert resource_refused.reported_at == later + PROPAGATION_WINDOW and resource_refused.version == "v1"
    in_front = resource_refused.of(None).after(_denied(), later + timedelta(hours=1))
    assert in_front.reported_at is None and in_front.attempts == 1 and in_front.version == "v1" and in_front.unread
    assert in_front.of(None).after(_denied(), later + timedelta(hours=1) + PROPAGATION_WINDOW).reported_at


def test_an_attempt_that_gets_past_the_failures_ends_their_episode():
    failing = Failures("v1").of("v1").after(_unavailable(), T0)
    assert failing.cleared_by("V1", through=True)  # it waits on Azure: every step answered
    assert not failing.cleared_by("v1", through=False)  # stopped at the read (stale, cool-down): got past nothing
    assert not failing.cleared_by("v2", through=True)  # another version's attempt says nothing of v1
    vault_failing = failing.of(None).after(_unavailable(), T0)
    assert vault_failing.cleared_by("v1", through=False)  # the vault answered


def test_the_memory_reads_back_what_it_wrote_and_refuses_anything_else():
    memory = Failures(None).after(_denied(), T0).of("v1").after(_unavailable(), T0 + timedelta(minutes=1))
    assert Failures.from_json(memory.to_json()) == memory
    written = json.loads(memory.to_json())
    hostile = [
        b"",
        b"\xff\xfe",
        b"[" * 100_000,
        b"[]",
        json.dumps({**written, "attempts": "5"}).encode(),
        json.dumps({**written, "attempts": True}).encode(),
        json.dumps({**written, "since": "2026-12-01T09:00:00"}).encode(),  # no zone
        json.dumps({**written, "reportedAt": 5}).encode(),
        json.dumps({k: v for k, v in written.items() if k != "reason"}).encode(),
    ]
    for raw in hostile:
        with pytest.raises(ValueError, match="not a failure memory"):
            Failures.from_json(raw)


# through the triggers ---------------------------------------------------------------------


def _sweep(after: timedelta = timedelta()) -> dict[str, int]:
    """The timer's sweep, run ``after`` from now (the failure memory is measured on this clock)."""
    from rotators.workflows.sweep import sweep

    return dict(sweep(now=helpers.now() + after))


def _rotate() -> tuple[int, dict]:
    return helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})


def _failed_events(topic) -> list[dict]:
    events = topic.of_type(FAILED)
    helpers.assert_no_key_in([json.dumps(events)], ISSUED_KEYS)
    return events


def _without_list_keys(cloud) -> str:
    """The function's role on the account, without the action that lists its keys (a role simply missing)."""
    scope, actions = role_for(cloud.keyvault.current_secret(VAULT, "storage-key").tags["ProviderAddress"])
    cloud.arm.assign(scope, [a for a in actions if not a.lower().endswith("/listkeys/action")])
    return scope


def test_a_role_missing_for_good_is_reported_once_after_azures_propagation_window(cloud, topic, capsys, caplog):
    version = helpers.enroll_storage(cloud)
    _without_list_keys(cloud)
    event = helpers.event(secret="storage-key", version=version)
    for _ in range(3):  # inside the window: a role may still be on its way
        status, body = _rotate()
        assert status == 502 and body["error"]["code"] == "AccessDenied", body
        with pytest.raises(RotationError) as failed:
            helpers.deliver(event)
        assert failed.value.retryable  # Event Grid redelivers, as before
    assert "reported if it persists past" in body["error"]["message"]
    assert _failed_events(topic) == []
    with caplog.at_level(logging.ERROR, logger="rotators"):
        tally = _sweep(PROPAGATION_WINDOW + timedelta(minutes=1))
    assert tally["AccessDenied"] == 1, tally
    (reported,) = _failed_events(topic)
    data = reported["data"]
    assert (
        data["code"] == "AccessDenied" and "grant Microsoft.Storage/storageAccounts/listKeys/action" in data["reason"]
    )
    assert data["version"] == version and data["attempts"] == 7 and data["trigger"] == "sweep"
    assert any("keeps failing" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    for _ in range(2):  # reported once per episode: later failures answer as before, and say so
        status, body = _rotate()
        assert status == 502 and "reported as KeyRotation.RotationFailed" in body["error"]["message"], body
        with pytest.raises(RotationError):
            helpers.deliver(event)
    _sweep(timedelta(hours=2))
    assert len(_failed_events(topic)) == 1
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and "failing since" in out and "reported as KeyRotation.RotationFailed" in out, out
    assert "grant Microsoft.Storage/storageAccounts/listKeys/action" in out
    assert helpers.regenerations(cloud) == 0


def test_a_vault_that_refuses_to_be_read_is_reported_without_knowing_the_version(cloud, topic):
    helpers.enroll_storage(cloud)
    cloud.inject("keyvault.get_secret", status=403, code="Forbidden", inner="ForbiddenByRbac", count=1000)
    assert _rotate()[0] == 502
    assert _failed_events(topic) == []
    _sweep(PROPAGATION_WINDOW)
    (reported,) = _failed_events(topic)
    assert reported["data"]["code"] == "AccessDenied" and reported["data"]["version"] is None


def test_any_other_failure_is_reported_at_the_fifth_attempt_once(cloud, topic):
    version = helpers.enroll_storage(cloud)
    cloud.inject("storage.get_account", status=503, count=10_000)
    event = helpers.event(secret="storage-key", version=version)
    for attempt in range(1, MAX_ATTEMPTS):
        trigger = _rotate if attempt % 2 else lambda: helpers.deliver(event)
        try:
            trigger()
        except RotationError as exc:
            assert exc.retryable
        assert _failed_events(topic) == [], attempt
    status, body = _rotate()
    assert status == 503 and "reported as KeyRotation.RotationFailed" in body["error"]["message"], body
    (reported,) = _failed_events(topic)
    assert reported["data"]["code"] == "UpstreamUnavailable" and reported["data"]["attempts"] == MAX_ATTEMPTS
    _sweep()
    assert _rotate()[0] == 503 and len(_failed_events(topic)) == 1
    assert helpers.regenerations(cloud) == 0


def test_a_new_version_starts_a_new_memory(cloud, topic, capsys):
    helpers.enroll_storage(cloud)
    cloud.inject("storage.get_account", status=503, count=10_000)
    for _ in range(MAX_ATTEMPTS):
        assert _rotate()[0] == 503
    assert len(_failed_events(topic)) == 1
    cloud.faults.clear()
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "force": True})
    assert status == 200 and body["status"] == "rotated", body
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and "failing since" not in out, out  # the memory was the old version's
    helpers.age_current_version(cloud, "storage-key", timedelta(hours=73))
    cloud.inject("storage.get_account", status=503, count=10_000)
    for _ in range(MAX_ATTEMPTS - 1):
        assert _rotate()[0] == 503
    assert len(_failed_events(topic)) == 1  # the new version has failed four times, not nine
    cloud.faults.clear()
    assert _rotate()[0] == 200


def test_concurrent_failures_at_the_threshold_publish_once(cloud, topic):
    helpers.enroll_storage(cloud)
    cloud.inject("keyvault.get_secret", status=503, count=10_000)  # before the lock: all fail at once
    for _ in range(MAX_ATTEMPTS - 2):
        assert _rotate()[0] == 503
    answers = helpers.trigger_all([_rotate] * 6)
    assert all(isinstance(a, tuple) and a[0] == 503 for a in answers), answers
    assert len(_failed_events(topic)) == 1


def test_a_report_the_topic_refused_is_sent_with_the_next_failure(cloud, topic):
    helpers.enroll_storage(cloud)
    cloud.inject("storage.get_account", status=503, count=10_000)
    cloud.inject("eventgriddata.publish", status=503, count=1)
    for _ in range(MAX_ATTEMPTS):
        assert _rotate()[0] == 503
    assert _failed_events(topic) == []
    status, body = _rotate()
    assert status == 503 and len(_failed_events(topic)) == 1, body


def test_a_report_a_stalled_topic_held_is_sent_with_the_next_failure(cloud, topic, monkeypatch):
    """The event waits only until the memory can still be marked unsent: the next failure sends it."""
    import time

    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")
    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "30")  # only the budget ends the wait
    get_settings.cache_clear()
    helpers.enroll_storage(cloud)
    cloud.inject("storage.get_account", status=503, count=10_000)
    for _ in range(MAX_ATTEMPTS - 1):
        assert _rotate()[0] == 503
    stalled = cloud.inject("eventgriddata.publish", delay=60, count=1)
    started = time.monotonic()
    status, body = _rotate()
    assert time.monotonic() - started < 6 + 1.5
    assert status == 503 and stalled.taken.is_set() and _failed_events(topic) == [], body
    status, body = _rotate()
    assert status == 503 and "reported as KeyRotation.RotationFailed" in body["error"]["message"], body
    (reported,) = _failed_events(topic)
    assert reported["data"]["attempts"] == MAX_ATTEMPTS + 1


def test_dry_runs_and_refusals_are_not_counted(cloud, topic):
    helpers.enroll_storage(cloud)
    cloud.inject("storage.get_account", status=503, count=10_000)
    for _ in range(MAX_ATTEMPTS + 1):
        status, _ = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "dryRun": True})
        assert status == 503
    assert _failed_events(topic) == []
    status, body = _rotate()
    assert status == 503 and "1 failed attempt;" in body["error"]["message"], body


def _foreign_memory(azurite, secret: str) -> None:
    """A blob where the failure memory of ``secret`` lives that this app did not write."""
    from azure.storage.blob import BlobClient

    from rotators.adapters import clients, memory
    from rotators.workflows.failures import FAILURES

    clients.lock_container()
    name = memory.blob_name(helpers.vault_address(VAULT), secret, FAILURES.prefix)
    BlobClient.from_connection_string(azurite.connection_string, "secret-rotation", name).upload_blob(b"[" * 5000)


def test_a_failure_memory_that_is_not_this_apps_is_written_anew(cloud, topic, azurite):
    helpers.enroll_storage(cloud)
    _foreign_memory(azurite, "storage-key")
    cloud.inject("storage.get_account", status=503, count=10_000)
    status, body = _rotate()
    assert status == 503 and "1 failed attempt;" in body["error"]["message"], body


def test_a_failure_memory_that_cannot_be_read_is_that_secrets_note_only(cloud, topic, azurite, capsys):
    helpers.enroll_storage(cloud)
    helpers.enroll_storage(cloud, secret="other-key", account="stother")
    cloud.inject("storage.get_account", status=503, count=10_000)
    assert _rotate()[0] == 503
    cloud.faults.clear()
    _foreign_memory(azurite, "other-key")
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    (failing,) = [line for line in out.splitlines() if line.startswith("storage-key")]
    (unread,) = [line for line in out.splitlines() if line.startswith("other-key")]
    assert code == OK and "failing since" in failing and "failures not read" not in failing, out
    assert "failures not read: The failure memory of secret 'other-key' is not one this app wrote" in unread, out


def test_a_refusal_after_the_vaults_reported_one_is_reported_too(cloud, topic):
    """The vault's 403 reported (version unknown); its role granted, the resource's 403 that follows is a
    failure of its own, reported after its own window."""
    version = helpers.enroll_storage(cloud)
    cloud.inject("keyvault.get_secret", status=403, code="Forbidden", inner="ForbiddenByRbac", count=1000)
    _sweep()
    _sweep(PROPAGATION_WINDOW)
    (vault_refused,) = _failed_events(topic)
    assert vault_refused["data"]["version"] is None
    cloud.faults.clear()  # the vault's role granted; the account's never was
    _without_list_keys(cloud)
    _sweep(PROPAGATION_WINDOW + timedelta(minutes=1))
    assert len(_failed_events(topic)) == 1  # inside the resource's own window
    _sweep(2 * PROPAGATION_WINDOW + timedelta(minutes=1))
    _, resource_refused = _failed_events(topic)
    data = resource_refused["data"]
    assert data["version"] == version and data["code"] == "AccessDenied" and data["attempts"] == 2, data
    assert "listKeys/action" in data["reason"]


def test_a_rotation_that_gets_through_ends_the_failures_before_it(cloud, topic, capsys, monkeypatch):
    """Failures are counted only while nothing gets past them: a trigger that waits on Azure's regeneration
    (every step answered) ends them, in the memory and in ``status``."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")
    get_settings.cache_clear()
    cloud.cosmosdb.operation_delay = 3600
    helpers.enroll_cosmos(cloud)

    def rotate() -> tuple[int, dict]:
        return helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})

    cloud.inject("cosmos.get_account", status=503, count=10_000)
    for _ in range(MAX_ATTEMPTS - 1):
        assert rotate()[0] == 503
    cloud.faults.clear()
    status, body = rotate()
    assert status == 202 and body["status"] == "pending", body
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and "failing since" not in out, out
    cloud.inject("cosmos.get_account", status=503, count=10_000)
    for _ in range(MAX_ATTEMPTS - 1):
        status, body = rotate()
        assert status == 503, body
    assert _failed_events(topic) == [] and f"{MAX_ATTEMPTS - 1} failed attempts;" in body["error"]["message"], body


def test_a_call_that_stalls_to_the_end_of_the_budget_is_still_counted(cloud, topic, monkeypatch):
    """A firewall or a private endpoint that swallows requests never clears: each trigger keeps a second
    back from the rotation to count its failure before it answers, inside its budget."""
    import time

    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")
    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "30")  # only the budget ends the wait
    get_settings.cache_clear()
    helpers.enroll_storage(cloud)
    cloud.inject("keyvault.get_secret", delay=60, count=100)
    started = time.monotonic()
    status, body = _rotate()
    assert time.monotonic() - started < 6 + 1.5
    assert status == 503 and "1 failed attempt;" in body["error"]["message"], body
