"""The Azure Monitor alert (infra/modules/alerts.bicep) fires on what the product logs: each phrase its
query looks for is in an Error line of a real failing rotation, and nothing a rotation that succeeds,
waits or retries logs matches it."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import azure.functions as func
import pytest

from rotators.core.errors import RotationError
from tests import helpers
from tests.helpers import VAULT

QUERY = (Path(__file__).resolve().parent.parent / "infra" / "modules" / "failed-rotations.kql").read_text()
PHRASES = re.findall(r'message contains "([^"]+)"', QUERY)
# Application Insights' severityLevel for Python's levels: Error 3, Critical 4 (the query keeps >= 3).
ALERTING = logging.ERROR


def alerting(records: list[logging.LogRecord]) -> dict[str, list[str]]:
    """Each phrase of the query, with the Error lines that contain it."""
    lines = [record.getMessage() for record in records if record.levelno >= ALERTING]
    return {phrase: [line for line in lines if phrase in line] for phrase in PHRASES}


def test_the_query_keeps_error_lines_that_contain_a_phrase():
    assert "| where severityLevel >= 3" in QUERY and len(PHRASES) >= 5


def _bad_tags(cloud) -> None:
    version = helpers.enroll_storage(cloud, secret="bad-tags", extra_tags={"CredentialId": "key9"})
    helpers.deliver(helpers.event(secret="bad-tags", version=version))


def _misconfigured_in_sweep(cloud) -> None:
    helpers.enroll_storage(cloud, secret="misconfigured", extra_tags={"ValidityPeriodDays": "ninety"})
    helpers.sweep()


def _broken_in_sweep(cloud) -> None:
    helpers.enroll_storage(cloud, secret="broken", value="not-a-key-of-the-account")
    helpers.sweep()


def _vault_unreadable_in_sweep(cloud) -> None:
    cloud.inject("keyvault.list_secrets", status=403, code="Forbidden", inner="AccessDenied", count=10)
    helpers.sweep()


def _never_clears(cloud) -> None:
    from rotators.core.failures import PROPAGATION_WINDOW
    from rotators.workflows.sweep import sweep

    cloud.faults.clear()
    helpers.enroll_storage(cloud, secret="denied", account="stdenied")
    cloud.inject("keyvault.get_secret", status=403, code="Forbidden", inner="ForbiddenByRbac", count=10)
    assert helpers.post_rotate({"vaultName": VAULT, "secretName": "denied"})[0] == 502  # a warning: may still clear
    sweep(now=helpers.now() + PROPAGATION_WINDOW)  # Azure's 10 minutes for a role to apply have passed
    cloud.faults.clear()


def _unexpected(cloud, monkeypatch) -> None:
    version = helpers.enroll_storage(cloud, secret="unexpected")

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a failure nobody foresaw")

    monkeypatch.setattr("rotators.workflows.rotation.rotate", fails)
    helpers.deliver(helpers.event(secret="unexpected", version=version))
    body = json.dumps({"vaultName": VAULT, "secretName": "unexpected"}).encode()
    helpers.FUNCTIONS["RotateSecret"](func.HttpRequest("POST", "/api/rotate", body=body, params={}))


def test_each_phrase_is_in_what_a_failing_rotation_logs(cloud, caplog, monkeypatch):
    with caplog.at_level(logging.INFO, logger="rotators"):
        _bad_tags(cloud)
        _misconfigured_in_sweep(cloud)
        _broken_in_sweep(cloud)
        _vault_unreadable_in_sweep(cloud)
        _never_clears(cloud)
        _unexpected(cloud, monkeypatch)
    found = alerting(caplog.records)
    assert all(found.values()), {phrase: lines for phrase, lines in found.items() if not lines}
    helpers.PRODUCED.extend(line for lines in found.values() for line in lines)


def test_nothing_a_rotation_that_succeeds_waits_or_retries_logs_matches(cloud, caplog):
    with caplog.at_level(logging.INFO, logger="rotators"):
        version = helpers.enroll_storage(cloud)
        event = helpers.event(secret="storage-key", version=version)
        cloud.inject("storage.get_account", status=503, count=10)  # transient: Event Grid redelivers
        with pytest.raises(RotationError):
            helpers.deliver(event)
        cloud.faults.clear()
        helpers.deliver(event)  # rotated
        helpers.deliver(event)  # stale: the version is no longer current
        assert helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})[0] == 409  # cooling down
        helpers.sweep()  # cooling down: counted, not rotated
    assert helpers.regenerations(cloud) == 1
    assert not any(alerting(caplog.records).values()), alerting(caplog.records)
