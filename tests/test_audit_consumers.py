"""Key Vault's audit trail as evidence: a consumer declared by identity, or an App Service app that cannot say
which version it runs, confirms the current version when its identity has read it (one Log Analytics query
per confirmation, through azure-monitor-query against the stand-in); without that evidence the full
cool-down holds, and nothing the workspace does fails a rotation."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION
from localazure.services.base import ISSUED_KEYS
from rotators.core.audit import Question, query
from rotators.core.consumers import Consumer, ConsumerKind, parse_consumers
from rotators.core.errors import ConfigurationError, NotRotatable
from rotators.triggers.cli import OK
from tests import helpers
from tests.helpers import VAULT
from tests.test_cli import run

WORKSPACE = "5c3d1e1f-0a9b-4c8d-8e7f-6a5b4c3d2e1f"
READER = "0f4c2a8e-3b1d-4e6f-9a7c-5d8b2e1f4a3c"
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-app.vault.azure.net/secrets/storage-key/)"
ROTATE = {"vaultName": VAULT, "secretName": "storage-key"}


@pytest.fixture
def workspace(monkeypatch) -> str:
    monkeypatch.setenv("ROTATION_AUDIT_WORKSPACE_ID", WORKSPACE)
    return WORKSPACE


def _current(cloud) -> str:
    return cloud.keyvault.current_secret(VAULT, "storage-key").version


def _rotated_once(cloud, consumers: str) -> str:
    """Enroll, rotate once, and let the floor pass: the next rotation asks the consumers. Returns the old version."""
    old = helpers.enroll_storage(cloud, extra_tags={"Consumers": consumers})
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    return old


# the grammar and the query ----------------------------------------------------------------


def test_an_identity_entry_is_an_object_id():
    declared = parse_consumers(f"rg-a/app-one, identity:{READER.upper()}")
    assert declared.consumers[1] == Consumer("", READER, kind=ConsumerKind.IDENTITY)
    assert str(declared.consumers[1]) == f"identity:{READER}"
    for bad in ("identity:app-one", "identity:", f"identity:{READER}/x", f"identity:{READER}'"):
        with pytest.raises(NotRotatable, match=r"entry 1 .* object ID"):
            parse_consumers(bad)


def test_the_query_takes_only_values_of_their_grammar():
    now = datetime.now(timezone.utc)
    good = Question((READER,), "https://kv-app.vault.azure.net", "storage-key", "a" * 32, now, now)
    query(good)  # what the workspace answers for it: the tests below, through the stand-in
    for bad in (
        Question(('x" or 1==1 //',), good.vault_url, good.secret, good.version, now, now),
        Question(good.principals, good.vault_url, 'storage-key"; AzureActivity', good.version, now, now),
        Question(good.principals, good.vault_url, good.secret, "latest", now, now),
        Question((), good.vault_url, good.secret, good.version, now, now),
    ):
        with pytest.raises(ValueError):
            query(bad)


@pytest.mark.parametrize("raw", ["workspace", "5c3d1e1f", "%"])
def test_a_bad_workspace_setting_is_refused(raw):
    from rotators.core.settings import Settings

    with pytest.raises(ConfigurationError, match=r"ROTATION_AUDIT_WORKSPACE_ID .* the workspace ID, a GUID"):
        Settings.from_environ({"ROTATION_AUDIT_WORKSPACE_ID": raw})


# identities ------------------------------------------------------------------------------


def test_an_identity_confirms_once_it_read_the_current_version(cloud, workspace):
    old = _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", old)  # a reader still on the old version
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and f"consumer identity:{READER} holds it (behind: audit record: it last read" in message
    assert f"version {old} at " in message, message
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body
    assert helpers.regenerations(cloud) == 2
    helpers.holds_live_key(cloud, "storage-key")


def test_a_later_read_of_an_older_version_keeps_the_cool_down(cloud, workspace):
    """One replica read the new version, another (or a pinned reference) still reads the old one by name."""
    old = _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", old, versionless=False)
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and f"consumer identity:{READER} holds it (behind: audit record: it read version" in message
    assert f"then version {old} at " in message, message
    assert helpers.regenerations(cloud) == 1


def test_the_function_s_own_identity_never_confirms_by_its_own_reads(cloud, workspace):
    """The rotator reads each version it writes: its identity's reads say nothing of a consumer sharing it."""
    own = cloud.identity.principal_id
    _rotated_once(cloud, f"identity:{own}")
    cloud.loganalytics.secret_get(own, VAULT, "storage-key", _current(cloud), versionless=False)
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and f"consumer identity:{own} holds it (unreported: its identity ({own}) is the" in message
    assert helpers.regenerations(cloud) == 1


def test_an_identity_shared_by_two_consumers_confirms_neither(cloud, workspace):
    cloud.appservice.reports_active_version = False
    app = cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    _rotated_once(cloud, f"rg-apps/app-a,identity:{app.principal_id}")
    cloud.loganalytics.secret_get(app.principal_id, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and "rg-apps/app-a holds it (unreported: its identity" in message, message
    assert f"is also consumer identity:{app.principal_id}'s" in message, message


def test_an_identity_with_no_read_recorded_keeps_the_cool_down(cloud, workspace):
    _rotated_once(cloud, f"identity:{READER}")
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "records no read of the secret by it" in body["error"]["message"], body
    assert helpers.regenerations(cloud) == 1


def test_without_a_workspace_an_identity_confirms_nothing(cloud):
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "ROTATION_AUDIT_WORKSPACE_ID" in body["error"]["message"], body
    assert helpers.calls(cloud, "loganalytics.query") == 0


@pytest.mark.parametrize("delay", [0, 180])  # Azure Monitor gives no bound for ingestion time
def test_an_audit_record_arriving_late_confirms_only_once_it_is_there(cloud, workspace, delay):
    cloud.loganalytics.ingestion_delay = delay
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    if delay:
        assert status == 409 and "records no read" in body["error"]["message"], body
        cloud.loganalytics.advance(delay)
        status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body


def test_a_record_that_names_no_version_confirms_nothing(cloud, workspace):
    """Whether a versionless read is logged with the version served, no Microsoft source says."""
    cloud.loganalytics.names_version = False
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "records no read of the secret by it" in body["error"]["message"], body


def test_a_read_of_another_secret_whose_name_extends_this_one_is_no_read_of_it(cloud, workspace):
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key2", "b" * 32)
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "records no read of the secret by it" in body["error"]["message"], body


# App Service apps that cannot say --------------------------------------------------------


@pytest.mark.parametrize("delay", [0, 180])
def test_an_app_without_active_version_is_confirmed_by_its_identity_s_reads(cloud, workspace, delay):
    """``"activeVersion": null``: the app's managed identity read the new version when it refreshed."""
    cloud.appservice.reports_active_version = False
    cloud.loganalytics.ingestion_delay = delay
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    _rotated_once(cloud, "rg-apps/app-fast")
    status, body = helpers.post_rotate(ROTATE)
    if delay:
        message = body["error"]["message"]
        assert status == 409 and "rg-apps/app-fast holds it (behind: the audit trail records no read" in message
        cloud.loganalytics.advance(delay)
        status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body


def test_an_app_is_judged_by_the_identity_its_references_use(cloud, workspace):
    """``keyVaultReferenceIdentity`` names a user-assigned identity: the system-assigned one's reads (the app's own
    code, say) say nothing of its references."""
    cloud.appservice.reports_active_version = False
    app = cloud.appservice.create_app("app-slow", {"STORAGE": REFERENCE})
    group = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg-apps"
    app.reference_identity = (f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a", READER)
    app.refresh_delay = 3600
    _rotated_once(cloud, "rg-apps/app-slow")
    cloud.loganalytics.secret_get(app.principal_id, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and "rg-apps/app-slow holds it (behind: the audit trail records no read" in message, body
    assert f"by its identity ({READER})" in message, message
    cloud.appservice.advance(3600)  # the refresh lands: the user-assigned identity reads the new version
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body


def test_mixed_consumers_wait_for_the_slowest_and_name_it_in_one_query(cloud, workspace):
    cloud.appservice.reports_active_version = False
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.appservice.create_app("app-slow", {"STORAGE": REFERENCE}).refresh_delay = 3600
    slow_reader = str(uuid.uuid4())
    _rotated_once(cloud, f"rg-apps/app-fast,rg-apps/app-slow,identity:{READER},identity:{slow_reader}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    queries = helpers.calls(cloud, "loganalytics.query")
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and "consumer rg-apps/app-slow holds it (behind" in body["error"]["message"], body
    assert helpers.calls(cloud, "loganalytics.query") == queries + 1  # one query for every identity
    cloud.appservice.advance(3600)  # the slow app's refresh lands: it reads the new version
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and f"consumer identity:{slow_reader} holds it (behind" in body["error"]["message"], body
    cloud.loganalytics.secret_get(slow_reader, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body
    texts = [*cloud.loganalytics.queries, *helpers.PRODUCED]
    helpers.assert_no_key_in(texts, ISSUED_KEYS)


def test_every_kind_of_consumer_at_once_waits_for_the_slowest_and_names_it(cloud, workspace):
    """An App Service app without activeVersion, an API Management named value, a Container App and a plain
    identity: the early rotation waits for each in turn, one Log Analytics query per confirmation."""
    secret_url, slow_reader = "https://kv-app.vault.azure.net/secrets/storage-key", str(uuid.uuid4())
    named, container = "apim:rg-apps/apim-one/storage-key-nv", "containerapp:rg-apps/ca-one/restart"
    cloud.appservice.reports_active_version = False
    cloud.appservice.create_app("app-fast", {"STORAGE": REFERENCE})
    cloud.containerapps.create("ca-one", {"storage": secret_url})
    helpers.enroll_storage(
        cloud, extra_tags={"Consumers": f"rg-apps/app-fast,{named},{container},identity:{slow_reader}"}
    )
    cloud.apimanagement.advance(-7200)  # its last fetch, long before the version the test ages back below
    service = cloud.apimanagement.create("apim-one", {"storage-key-nv": secret_url})
    cloud.apimanagement.advance(7200)
    service.named_values["storage-key-nv"].refresh_delay = 3600  # the refresh's fetch lands an hour later
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.calls(cloud, "containerapps.restart_revision") == 1  # the declaration asks for it
    helpers.age_current_version(cloud, "storage-key", timedelta(minutes=20))
    queries = helpers.calls(cloud, "loganalytics.query")
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and f"consumer {named} holds it (behind" in body["error"]["message"], body
    assert helpers.calls(cloud, "loganalytics.query") == queries + 1  # one query for every identity
    cloud.apimanagement.advance(3600)  # the named value's fetch lands
    status, body = helpers.post_rotate(ROTATE)
    assert status == 409 and f"consumer identity:{slow_reader} holds it (behind" in body["error"]["message"], body
    cloud.loganalytics.secret_get(slow_reader, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body
    texts = [*cloud.loganalytics.queries, *helpers.PRODUCED]
    helpers.assert_no_key_in(texts, ISSUED_KEYS)


# a workspace that refuses or does not answer -------------------------------------------


@pytest.mark.parametrize("failure", ["denied", "gateway timeout", "no answer", "unavailable"])
def test_a_query_that_fails_keeps_the_full_cool_down_and_never_fails_a_rotation(cloud, workspace, failure):
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    if failure == "denied":
        cloud.loganalytics.denied = True
    elif failure == "gateway timeout":
        cloud.loganalytics.gateway_timeout = True
    elif failure == "no answer":
        cloud.inject("loganalytics.query", drop=True, count=10)
    else:
        cloud.inject("loganalytics.query", status=503, count=10)
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and f"identity:{READER} holds it (unreachable: the audit trail was not read" in message
    if failure == "denied":
        assert "Log Analytics Reader role on the audit workspace" in message, message
    assert helpers.regenerations(cloud) == 1
    helpers.age_current_version(cloud, "storage-key", timedelta(hours=73))  # past the 72 h cool-down
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and body["status"] == "rotated", body


@pytest.mark.parametrize("tables", ["resource-specific", "foreign-diagnostics"])
def test_a_workspace_lacking_one_table_or_column_still_confirms(cloud, workspace, tables):
    """``union isfuzzy=true`` leaves out the leg that does not resolve, with a warning: the answer is partial."""
    cloud.loganalytics.tables = tables
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    assert status == 200 and "confirmed" in body["reason"], body


def test_a_partial_answer_with_a_failure_confirms_nothing(cloud, workspace):
    cloud.loganalytics.tables = "resource-specific"
    cloud.loganalytics.partial_failure = True
    _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", _current(cloud))
    status, body = helpers.post_rotate(ROTATE)
    message = body["error"]["message"]
    assert status == 409 and f"identity:{READER} holds it (unreachable: the audit trail was not read" in message
    assert "answered in part" in message, message
    assert helpers.regenerations(cloud) == 1


# status ----------------------------------------------------------------------------------


def test_status_shows_what_the_audit_trail_says(cloud, capsys, workspace):
    old = _rotated_once(cloud, f"identity:{READER}")
    cloud.loganalytics.secret_get(READER, VAULT, "storage-key", old)
    code, out, _ = run(capsys, "status", "--vault", VAULT)
    assert code == OK and f"consumer identity:{READER}: behind: audit record: it last read version {old}" in out, out
