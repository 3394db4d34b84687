"""Entra ID application passwords (issue 25), end to end through the triggers, Graph and the token endpoint
of the stand-in (localazure/services/graph), with the real azure-core, azure-identity and Key Vault clients.

A rotation adds one password, tests it with a client credentials token, writes it as the new version
(CredentialId = its keyId), then removes this secret's older passwords except the one the previous version
holds. Passwords the product did not add are never removed.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from tests import helpers
from tests.helpers import VAULT

SECRET = "app-secret"


def enroll(cloud, *, secret: str = SECRET, audience: str = "AzureADMyOrg", validity: str = "90", address=None):
    """An application with a password set up by hand (not the product's), and a secret holding it."""
    application = cloud.graph.create_application(sign_in_audience=audience)
    password = cloud.graph.seed_password(application, display_name="set up by hand")
    tags = {
        "CredentialId": password.key_id,
        "ProviderAddress": address(application) if address else application.path,
        "ValidityPeriodDays": validity,
    }
    version = cloud.keyvault.seed_secret(
        VAULT,
        secret,
        password.secret_text,
        tags=tags,
        created=helpers.now() - timedelta(hours=73),
        expires=helpers.now() + timedelta(days=20),
    )
    return application, password, version


def enroll_slow_to_propagate(cloud, monkeypatch):
    """An enrolled application whose new passwords take 10 minutes to work, and a trigger of a few seconds."""
    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "8")
    cloud.graph.propagation_seconds = 600
    return enroll(cloud)


def current(cloud, secret: str = SECRET):
    return cloud.keyvault.current_secret(VAULT, secret)


def live(cloud, application) -> dict[str, str]:
    """The application's passwords, keyId -> display name."""
    return {p.key_id: p.display_name for p in cloud.graph.passwords(application)}


def rotate(secret: str = SECRET, **options) -> tuple[int, dict]:
    return helpers.post_rotate({"vaultName": VAULT, "secretName": secret, **options})


def holds_the_live_password(cloud, application, secret: str = SECRET) -> None:
    version = current(cloud, secret)
    [password] = [p for p in cloud.graph.passwords(application) if p.key_id == version.tags["CredentialId"]]
    helpers.same(version.value, password.secret_text, "the version to hold the password its CredentialId names")


@pytest.mark.parametrize(
    "address",
    [
        lambda application: application.path,
        lambda application: f"/applications(appId='{application.app_id}')",
        lambda application: application.object_id,  # as Microsoft's rotation sample tags it
    ],
    ids=["object-id-path", "client-id-path", "bare-object-id"],
)
def test_a_rotation_adds_tests_and_publishes_a_password_keeping_the_one_in_use(cloud, address):
    application, by_hand, _ = enroll(cloud, address=address)

    status, body = rotate()
    assert status == 200, body
    assert body["status"] == "rotated" and body["previousCredential"] == by_hand.key_id
    written = current(cloud)
    new_key_id = written.tags["CredentialId"]
    assert body["newCredential"] == new_key_id and body["newVersion"] == written.version
    holds_the_live_password(cloud, application)
    # The password ends with the version; the one by hand, which apps still hold, stays.
    [added] = [p for p in cloud.graph.passwords(application) if p.key_id == new_key_id]
    assert abs((added.end - helpers.now()) - timedelta(days=90)) < timedelta(minutes=5)
    assert abs(written.expires - added.end.timestamp()) < 5
    assert set(live(cloud, application)) == {by_hand.key_id, new_key_id}
    assert live(cloud, application)[new_key_id].startswith(f"key-rotators {VAULT}/{SECRET} ")
    assert [c.route for c in cloud.calls() if c.route.startswith("graph.add")] == ["graph.add_password"]
    # Tested before it was published: a token was asked for with it.
    assert helpers.calls(cloud, "login.token") >= 2


def test_each_rotation_removes_the_products_passwords_but_the_two_newest_and_never_a_foreign_one(cloud):
    application, by_hand, _ = enroll(cloud)
    foreign = cloud.graph.seed_password(application, display_name="CI pipeline")
    key_ids = []
    for _ in range(3):
        helpers.deliver(helpers.event(secret=SECRET, version=current(cloud).version))
        key_ids.append(current(cloud).tags["CredentialId"])
        holds_the_live_password(cloud, application)
        helpers.age_current_version(cloud, SECRET, timedelta(hours=73))

    # The third rotation kept its password and the second's (the previous version holds it), removed the first's.
    assert set(live(cloud, application)) == {by_hand.key_id, foreign.key_id, key_ids[1], key_ids[2]}
    assert len(set(key_ids)) == 3
    assert [c.status for c in cloud.calls("graph.remove_password")] == [204]


def test_a_lost_add_password_answer_leaves_an_orphan_the_finishing_trigger_removes(cloud, azurite):
    application, by_hand, _ = enroll(cloud)
    cloud.inject("graph.add_password", after=True, drop=True)

    status, body = rotate()
    assert status == 503, body
    [orphan] = [key for key in live(cloud, application) if key != by_hand.key_id]
    assert current(cloud).tags["CredentialId"] == by_hand.key_id  # nothing published

    status, body = rotate()  # Graph may not list it yet: wait, add nothing
    assert (status, body["status"]) == (202, "pending"), body
    assert len(live(cloud, application)) == 2

    helpers.settle_request(cloud, azurite.connection_string, SECRET)
    status, body = rotate()
    assert (status, body["status"]) == (200, "rotated"), body
    new_key_id = current(cloud).tags["CredentialId"]
    assert set(live(cloud, application)) == {by_hand.key_id, new_key_id} and orphan != new_key_id
    holds_the_live_password(cloud, application)
    assert helpers.calls(cloud, "graph.add_password") == 2


def test_an_orphan_named_like_the_current_versions_password_is_not_removed(cloud, azurite, monkeypatch):
    """A forced rotation started in the same second as the last one (or on a lagging clock) names its orphan
    like the password the current version holds: the clean-up of its lost answer keeps that password."""
    from rotators.workflows import rotation

    second = helpers.now().replace(microsecond=0)
    monkeypatch.setattr(rotation, "_utcnow", lambda: second + timedelta(milliseconds=1))
    application, _, _ = enroll(cloud)
    assert rotate()[1]["status"] == "rotated"
    in_use = current(cloud).tags["CredentialId"]
    cloud.inject("graph.add_password", after=True, drop=True)
    assert rotate(force=True)[0] == 503
    helpers.settle_request(cloud, azurite.connection_string, SECRET)
    monkeypatch.setattr(rotation, "_utcnow", lambda: second + timedelta(days=1))

    status, body = rotate(force=True)
    assert (status, body["status"]) == (200, "rotated"), body
    assert in_use in live(cloud, application), "the password the previous version holds was removed"
    holds_the_live_password(cloud, application)


def test_a_forced_repair_keeps_the_password_the_previous_version_holds(cloud):
    application, _, _ = enroll(cloud)
    assert rotate()[1]["status"] == "rotated"
    previous = current(cloud).tags["CredentialId"]  # one of the product's passwords
    assert rotate(force=True)[1]["status"] == "rotated"
    [gone] = [p for p in cloud.graph.passwords(application) if p.key_id == current(cloud).tags["CredentialId"]]
    gone.removed = helpers.now()  # the current version's password removed by hand

    status, body = rotate(force=True)
    assert (status, body["status"]) == (200, "rotated"), body
    assert previous in live(cloud, application), "the password a rollback would restore was removed"
    holds_the_live_password(cloud, application)


def test_a_password_refused_while_it_propagates_stays_pending_and_the_next_trigger_publishes_it(cloud, monkeypatch):
    application, by_hand, version = enroll_slow_to_propagate(cloud, monkeypatch)

    status, body = rotate()
    assert (status, body["status"]) == (202, "pending"), body
    assert "does not accept new password" in body["reason"]
    assert body["newCredential"] in live(cloud, application) and body["newCredential"] != by_hand.key_id
    assert current(cloud).version == version  # never published untested
    [waiting] = [key for key in live(cloud, application) if key != by_hand.key_id]
    assert helpers.calls(cloud, "login.token") >= 2  # retried inside the trigger's time

    cloud.advance(601)
    helpers.deliver(helpers.event(secret=SECRET, version=version))
    assert current(cloud).tags["CredentialId"] == waiting  # the same password: not added again
    holds_the_live_password(cloud, application)
    assert helpers.calls(cloud, "graph.add_password") == 1


def test_the_new_password_waits_in_key_vault_only_and_never_as_a_version_of_the_secret(cloud, monkeypatch):
    _, _, version = enroll_slow_to_propagate(cloud, monkeypatch)
    rotate()

    assert [v.version for v in cloud.keyvault.secret_versions(VAULT, SECRET)] == [version]
    [staged] = cloud.keyvault.secret_versions(VAULT, f"{SECRET}-next-password")
    assert staged.tags == {"PasswordOf": SECRET, "KeyId": staged.tags["KeyId"]} and staged.enabled
    cloud.advance(601)
    rotate()
    [staged] = cloud.keyvault.secret_versions(VAULT, f"{SECRET}-next-password")
    assert not staged.enabled  # retired once published
    helpers.same(current(cloud).value, staged.value, "the staged text to be the published one")


def test_the_staged_version_expires_with_its_password_and_its_events_rotate_nothing(cloud, monkeypatch):
    """A policy denying secrets without an expiry must not refuse the staging write forever."""
    application, _, _ = enroll_slow_to_propagate(cloud, monkeypatch)
    rotate()
    [staged] = cloud.keyvault.secret_versions(VAULT, f"{SECRET}-next-password")
    [added] = [p for p in cloud.graph.passwords(application) if p.key_id == staged.tags["KeyId"]]
    assert staged.expires is not None and abs(staged.expires - added.end.timestamp()) <= 1

    helpers.deliver(helpers.event(secret=f"{SECRET}-next-password", version=staged.version))
    assert helpers.calls(cloud, "graph.add_password") == 1
    assert [v.version for v in cloud.keyvault.secret_versions(VAULT, f"{SECRET}-next-password")] == [staged.version]


@pytest.mark.parametrize("enrolled", [True, False], ids=["an-enrolled-secret", "a-users-secret"])
@pytest.mark.parametrize("dry_run", [False, True], ids=["rotation", "dry-run"])
def test_a_staging_name_holding_another_secret_is_refused_before_anything_is_added(cloud, enrolled, dry_run):
    enroll(cloud)
    staging = f"{SECRET}-next-password"
    if enrolled:
        enroll(cloud, secret=staging)
    else:
        cloud.keyvault.seed_secret(VAULT, staging, "a user's value", tags={"PasswordOf": "someone-else"})
    before = current(cloud, staging).version

    status, body = rotate(dryRun=True) if dry_run else rotate()
    assert (status, body["error"]["code"]) == (422, "SecretNotRotatable"), body
    assert f"'{staging}' already holds another secret" in body["error"]["message"]
    assert helpers.calls(cloud, "graph.add_password") == 0
    assert [v.version for v in cloud.keyvault.secret_versions(VAULT, staging)][-1] == before


def test_a_stalled_token_test_ends_in_time_to_record_the_added_password(cloud, monkeypatch):
    """The token endpoint hangs: the test's one try ends before the trigger's deadline minus the time the
    rotation needs to record where it is, and the next trigger publishes that password without adding one."""
    import time

    from rotators.core.settings import get_settings
    from rotators.workflows.rotation import WRITE_RESERVE_SECONDS

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "8")
    monkeypatch.setenv("ROTATION_HTTP_TIMEOUT_SECONDS", "30")  # only the deadline ends the wait
    get_settings.cache_clear()
    application, _, _ = enroll(cloud)
    stalled = cloud.inject("login.token", delay=60, count=10)
    started = time.monotonic()
    rotate()
    elapsed = time.monotonic() - started
    assert stalled.taken.is_set() and elapsed < 8 - WRITE_RESERVE_SECONDS / 2, elapsed
    cloud.faults.remove(stalled)
    monkeypatch.delenv("ROTATION_HTTP_BUDGET_SECONDS")
    monkeypatch.delenv("ROTATION_HTTP_TIMEOUT_SECONDS")
    get_settings.cache_clear()

    status, body = rotate()
    assert (status, body["status"]) == (200, "rotated"), body
    assert helpers.calls(cloud, "graph.add_password") == 1
    holds_the_live_password(cloud, application)


def test_a_password_whose_text_never_reached_key_vault_is_an_orphan_removed_like_a_lost_answer(cloud, azurite):
    application, by_hand, version = enroll(cloud)
    cloud.inject("keyvault.set_secret", count=10, status=503)  # Key Vault down: the text cannot be kept

    assert rotate()[0] == 503
    [orphan] = [key for key in live(cloud, application) if key != by_hand.key_id]
    assert current(cloud).version == version

    cloud.faults.clear()
    helpers.settle_request(cloud, azurite.connection_string, SECRET)
    assert rotate()[1]["status"] == "rotated"
    assert set(live(cloud, application)) == {by_hand.key_id, current(cloud).tags["CredentialId"]}
    assert orphan not in live(cloud, application)


@pytest.mark.parametrize("read_lag_seconds", [0, 30])
def test_an_orphan_graph_lists_late_is_still_removed_before_the_rotation_ends(cloud, azurite, read_lag_seconds):
    """Graph's reads may lag its writes (an option): the settle time covers it, and only the orphan goes."""
    cloud.graph.read_lag_seconds = read_lag_seconds
    application, by_hand, _ = enroll(cloud)
    cloud.inject("graph.add_password", after=True, drop=True)
    assert rotate()[0] == 503

    cloud.advance(read_lag_seconds + 1)
    helpers.settle_request(cloud, azurite.connection_string, SECRET)
    assert rotate()[1]["status"] == "rotated"
    assert set(live(cloud, application)) == {by_hand.key_id, current(cloud).tags["CredentialId"]}


# Refusals: the fix in the message, nothing written, no password added, never retried -------------------------


def refused(cloud, application, status: int, code: str) -> str:
    answer_status, body = rotate()
    assert (answer_status, body["error"]["code"]) == (status, code), body
    assert [c.route for c in cloud.writes() if not c.route.startswith("graph.")] == []  # no version written
    assert [key for key, name in live(cloud, application).items() if name != "set up by hand"] == []
    assert helpers.calls(cloud, "graph.add_password") <= 1  # never retried, with a shorter lifetime or at all
    return str(body["error"]["message"])


@pytest.mark.parametrize("owned_by_reads_others", [True, False])
def test_an_identity_that_does_not_own_the_application_is_told_to_become_owner(cloud, owned_by_reads_others):
    cloud.graph.owned_by_reads_others = owned_by_reads_others
    application, _, _ = enroll(cloud)
    cloud.graph.remove_owner(application)

    message = refused(cloud, application, 502, "AccessDenied")
    assert "not an owner of application" in message and "Application.ReadWrite.OwnedBy" in message
    assert "24 hours" in message  # a managed identity's role cache


def test_an_identity_without_the_graph_permission_is_told_to_get_it(cloud):
    application, _, _ = enroll(cloud)
    cloud.graph.revoke("Application.ReadWrite.OwnedBy")

    message = refused(cloud, application, 502, "AccessDenied")
    assert "Application.ReadWrite.OwnedBy" in message and "python -m rotators grant-graph" in message


def test_a_policy_capping_the_lifetime_below_the_validity_period_is_refused_once(cloud):
    application, _, _ = enroll(cloud, validity="90")
    cloud.graph.set_policy(max_lifetime=timedelta(days=30))

    message = refused(cloud, application, 422, "SecretNotRotatable")
    assert "CredentialInvalidLifetimeAsPerAppPolicy" in message and "90 days (ValidityPeriodDays)" in message
    assert "never retries with a shorter lifetime" in message
    assert helpers.calls(cloud, "graph.add_password") == 1
    # The record says nothing is in flight: with the policy lifted, the next trigger adds at once.
    cloud.graph.set_policy()
    assert rotate()[1]["status"] == "rotated"


def test_a_policy_blocking_passwords_is_refused(cloud):
    application, _, _ = enroll(cloud)
    cloud.graph.set_policy(block_password_addition=True, application=application)

    message = refused(cloud, application, 422, "SecretNotRotatable")
    assert "CredentialTypeNotAllowedAsPerAppPolicy" in message and "federated identity credential" in message


def test_an_application_at_its_password_limit_is_refused_without_making_room(cloud):
    application, by_hand, _ = enroll(cloud, audience="AzureADandPersonalMicrosoftAccount")
    cloud.graph.seed_password(application, display_name="set up by hand")

    message = refused(cloud, application, 422, "SecretNotRotatable")
    assert "TooManyAppPasswords" in message and "never removes one to make room" in message
    assert len(live(cloud, application)) == 2 and by_hand.key_id in live(cloud, application)


def test_a_secret_naming_a_password_the_application_no_longer_has_is_refused_unless_forced(cloud):
    application, by_hand, _ = enroll(cloud)
    by_hand.removed = helpers.now()  # removed by hand, in the portal

    status, body = rotate()
    assert (status, body["error"]["code"]) == (422, "SecretBroken"), body
    assert helpers.calls(cloud, "graph.add_password") == 0
    assert rotate(force=True)[1]["status"] == "rotated"
    holds_the_live_password(cloud, application)


def test_a_secret_holding_another_password_than_its_credential_id_is_refused(cloud):
    application, _, _ = enroll(cloud)
    other = cloud.graph.seed_password(application, display_name="set up by hand")
    tags = current(cloud).tags  # CredentialId still names the first password
    cloud.keyvault.seed_secret(VAULT, SECRET, other.secret_text, tags=tags, created=helpers.now() - timedelta(days=4))

    status, body = rotate()
    assert (status, body["error"]["code"]) == (422, "CredentialDrift"), body
    assert helpers.calls(cloud, "graph.add_password") == 0


def test_a_dry_run_adds_nothing(cloud):
    application, by_hand, version = enroll(cloud)
    status, body = rotate(dryRun=True)
    assert (status, body["status"]) == (200, "planned"), body
    assert f"add a password, test it and publish it; password {by_hand.key_id}" in body["reason"]
    assert current(cloud).version == version and set(live(cloud, application)) == {by_hand.key_id}
    assert helpers.calls(cloud, "graph.add_password") == 0


def test_no_secret_text_reaches_a_log_answer_event_or_the_record(cloud, azurite, topic, caplog, monkeypatch):
    application, _, version = enroll_slow_to_propagate(cloud, monkeypatch)
    rotate()  # pending: the text waits in Key Vault
    record = helpers.record_blob(cloud, azurite.connection_string, SECRET).download_blob().readall().decode()
    cloud.advance(601)
    helpers.deliver(helpers.event(secret=SECRET, version=version))

    texts = {p.secret_text for p in cloud.graph.passwords(application)}
    produced = [record, *(r.getMessage() for r in caplog.records), *(json.dumps(e) for e in topic.received)]
    assert sum(1 for line in produced for text in texts if text in line) == 0
    helpers.assert_no_key_in(produced, texts)
    assert topic.of_type("KeyRotation.RotationPending") and topic.of_type("KeyRotation.SecretRotated")


# enroll and status, through the command line -------------------------------------------------------------


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from tests.test_cli import run

    return run(capsys, *argv)


def test_enroll_adopts_the_password_the_secret_already_holds(cloud, capsys):
    from rotators.triggers.cli import OK, REFUSED

    application = cloud.graph.create_application()
    other = cloud.graph.seed_password(application, display_name="another", end=helpers.now() + timedelta(days=40))
    held = cloud.graph.seed_password(application, display_name="by hand", end=helpers.now() + timedelta(days=40))
    cloud.keyvault.seed_secret(VAULT, "stored", held.secret_text, tags={"Owner": "team-a"})
    enroll = ("enroll", "--vault", VAULT, "--secret", "stored", "--resource-id", application.path)

    code, _, err = cli(capsys, *enroll, "--credential", other.key_id)
    assert code == REFUSED and f"The secret's value is not password {other.key_id}" in err
    code, out, _ = cli(capsys, *enroll)  # found by the value's hint
    assert code == OK and f"CredentialId {held.key_id}" in out
    written = current(cloud, "stored")
    assert written.tags["CredentialId"] == held.key_id and written.tags["Owner"] == "team-a"
    assert written.tags["ProviderAddress"] == application.path and written.tags["RotatedBy"] == "enroll"
    assert abs(written.expires - held.end.timestamp()) < 5  # never past the password's end
    helpers.same(written.value, held.secret_text, "the enrolled version to hold the adopted password")
    assert helpers.calls(cloud, "graph.add_password") == 0

    code, _, err = cli(capsys, "enroll", "--vault", VAULT, "--secret", "absent", "--resource-id", application.path)
    assert code == REFUSED and "Store the application password's text in it first" in err


def test_status_lists_the_passwords_and_which_version_holds_each(cloud, capsys):
    from rotators.triggers.cli import OK

    application, by_hand, first = enroll(cloud)
    rotate()
    second = current(cloud)
    stray = cloud.graph.seed_password(application, display_name=f"key-rotators {VAULT}/{SECRET} 20200101T000000Z")

    code, out, _ = cli(capsys, "status", "--vault", VAULT)
    assert code == OK
    [row] = [line for line in out.splitlines() if line.startswith(SECRET)]
    assert f"{by_hand.key_id} ends" in row and f"(held by version {first})" in row
    assert f"{second.tags['CredentialId']} ends" in row and f"(held by version {second.version})" in row
    assert f"{stray.key_id} ends" in row and "(ours)" in row

    [published] = [p for p in cloud.graph.passwords(application) if p.key_id == second.tags["CredentialId"]]
    published.removed = helpers.now()  # removed by hand, in the portal
    code, out, _ = cli(capsys, "status", "--vault", VAULT)
    [row] = [line for line in out.splitlines() if line.startswith(SECRET)]
    assert f"the application no longer has password {published.key_id}" in row


def test_a_rollback_restores_the_previous_password_only_while_it_exists(cloud):
    application, by_hand, _ = enroll(cloud)
    rotate()
    rotated = current(cloud)

    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": SECRET})
    assert (status, body["status"], body["credential"]) == (200, "rolledBack", by_hand.key_id), body
    restored = current(cloud)
    assert restored.tags["CredentialId"] == by_hand.key_id
    assert restored.tags["RotatedBy"] == f"rollback {rotated.version}"
    holds_the_live_password(cloud, application)
    assert restored.expires <= by_hand.end.timestamp() + 1  # never past the password's end

    by_hand.removed = helpers.now()  # gone: rolling back to it again would publish a dead password
    later = helpers.now() + timedelta(minutes=1)
    cloud.keyvault.seed_secret(VAULT, SECRET, rotated.value, tags=rotated.tags, created=later)  # current again
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": SECRET})
    assert (status, body["error"]["code"]) == (409, "RollbackRefused"), body
    assert "which the application no longer has" in body["error"]["message"]
    assert current(cloud).created == int(later.timestamp())  # nothing written


def test_a_rollback_to_a_password_that_has_ended_is_refused(cloud):
    _, by_hand, _ = enroll(cloud)
    rotate()
    rotated = current(cloud)
    by_hand.end = helpers.now() - timedelta(minutes=1)  # Graph still lists a password past its end

    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": SECRET})
    assert (status, body["error"]["code"]) == (409, "RollbackRefused"), body
    assert "Entra ID no longer accepts it" in body["error"]["message"]
    assert current(cloud).version == rotated.version  # nothing written


@pytest.mark.parametrize(
    ("vault_url", "graph_host", "expected"),
    [
        ("https://kv-app.vault.azure.net", "", ("graph.microsoft.com", "login.microsoftonline.com")),
        ("https://kv-app.vault.azure.cn", "", ("microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn")),
        ("https://kv-app.vault.usgovcloudapi.net", "", ("graph.microsoft.us", "login.microsoftonline.us")),
        (
            "https://kv-app.vault.usgovcloudapi.net",
            "dod-graph.microsoft.us",
            ("dod-graph.microsoft.us", "login.microsoftonline.us"),
        ),
        (
            "https://kv-app.vault.azure.net",
            "dod-graph.microsoft.us",
            ("graph.microsoft.com", "login.microsoftonline.com"),
        ),
    ],
)
def test_graph_and_login_hosts_follow_the_vaults_cloud_and_dod_is_a_setting(
    monkeypatch, vault_url, graph_host, expected
):
    """Graph "National cloud deployments": US Government L4 and L5 (DoD) share a vault suffix, not a Graph host."""
    from rotators.core import settings
    from rotators.kinds import entra

    monkeypatch.setenv("ROTATION_GRAPH_HOST", graph_host)
    settings.get_settings.cache_clear()
    try:
        assert entra.hosts(helpers.vault_address(vault_url).cloud) == expected
    finally:
        settings.get_settings.cache_clear()


@pytest.mark.parametrize(
    ("name", "value"), [("ROTATION_GRAPH_HOST", "graph.evil.example"), ("AZURE_TENANT_ID", "contoso")]
)
def test_a_bad_graph_host_or_tenant_setting_is_refused_naming_it(name, value):
    from rotators.core.errors import ConfigurationError
    from rotators.core.settings import Settings

    with pytest.raises(ConfigurationError, match=name):
        Settings.from_environ({name: value})


def test_the_tenant_is_the_setting_else_the_one_the_vaults_challenge_names(cloud, monkeypatch):
    from localazure.services.keyvault import TENANT
    from rotators.core import settings
    from rotators.kinds import entra

    assert entra.tenant(helpers.vault_address(VAULT)) == TENANT
    monkeypatch.setenv("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555")
    settings.get_settings.cache_clear()
    assert entra.tenant(helpers.vault_address(VAULT)) == "11111111-2222-3333-4444-555555555555"


# consumers of an application's secret: named by their ARM IDs (an application is in no subscription) --------

APPS_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000cc"
REFERENCE = f"@Microsoft.KeyVault(SecretUri=https://{VAULT}.vault.azure.net/secrets/{SECRET}/)"


def consumer_app(cloud, name: str, **options):
    """An App Service app in a subscription of its own that reads the secret through a Key Vault reference."""
    return cloud.appservice.create_app(name, {"CLIENT_SECRET": REFERENCE}, subscription=APPS_SUBSCRIPTION, **options)


def enroll_with_consumers(cloud, *apps, secret: str = SECRET, ours: bool = False):
    """An enrolled application whose secret declares ``apps`` by their ARM IDs; with ``ours``, the password the
    secret holds is one the product added (a rotation before this one), not one set up by hand."""
    application, password, version = enroll(cloud, secret=secret)
    if ours:
        password.display_name = f"key-rotators {VAULT}/{secret} 20260101T000000Z"
    tags = {**current(cloud, secret).tags, "Consumers": ",".join(app.id for app in apps)}
    cloud.keyvault.current_secret(VAULT, secret).tags = tags
    return application, password, version


def test_an_applications_consumers_are_named_by_arm_id_and_refreshed_after_its_rotation(cloud):
    fast, other = consumer_app(cloud, "app-fast"), consumer_app(cloud, "app-other", slot="staging")
    enroll_with_consumers(cloud, fast, other)

    status, body = rotate()
    assert (status, body["status"]) == (200, "rotated"), body
    states = {report["consumer"]: report["state"] for report in body["consumers"]}
    assert states == {fast.id: "moved", other.id: "moved"}
    assert helpers.calls(cloud, "appservice.refresh") == 2
    assert fast.active["appsettings/CLIENT_SECRET"] == current(cloud).version


def test_a_consumer_named_by_its_resource_group_alone_is_refused_for_an_application(cloud):
    enroll(cloud)
    version = current(cloud)
    version.tags = {**version.tags, "Consumers": "rg-apps/app-fast"}

    status, body = rotate()
    assert (status, body["error"]["code"]) == (422, "SecretNotRotatable"), body
    assert "is in no subscription: name each consumer by its ARM resource ID" in body["error"]["message"]
    assert helpers.calls(cloud, "graph.add_password") == 0


@pytest.mark.parametrize(
    ("entry", "wrong"),
    [
        (
            f"/subscriptions/{APPS_SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1",
            "not the ID of an App Service",
        ),
        ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/app-a", "subscription 'x' is not a GUID"),
        (
            f"/subscriptions/{APPS_SUBSCRIPTION}/resourceGroups/appconfig:rg/providers/Microsoft.Web/sites/app-a",
            "resource group",
        ),
        (f"/subscriptions/{APPS_SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Web/sites/-a", "app '-a'"),
        (
            f"/subscriptions/{APPS_SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Web/sites/a/b",
            "nor an ARM resource ID",
        ),
    ],
)
def test_a_consumer_arm_id_is_checked_like_any_entry(entry, wrong):
    from rotators.core.consumers import parse_consumers
    from rotators.core.errors import NotRotatable

    with pytest.raises(NotRotatable, match="entry 1") as refused:
        parse_consumers(entry)
    assert wrong in refused.value.message


def test_consumer_arm_ids_read_back_as_written():
    from rotators.core.consumers import ConsumerKind, parse_consumers, tag_value

    group = f"/subscriptions/{APPS_SUBSCRIPTION.upper()}/resourcegroups/rg-apps/providers"
    store_id = f"{group}/microsoft.appconfiguration/configurationStores/cfg-app"
    raw = f"{group}/Microsoft.Web/sites/app-a/slots/staging,{store_id}"
    slot, store = parse_consumers(raw).consumers
    assert (slot.subscription, slot.resource_group, slot.app, slot.slot) == (
        APPS_SUBSCRIPTION,
        "rg-apps",
        "app-a",
        "staging",
    )
    assert (store.kind, store.app) == (ConsumerKind.APP_CONFIGURATION, "cfg-app")
    assert parse_consumers(tag_value((slot, store))).consumers == (slot, store)


def test_discovery_finds_an_applications_consumers_in_the_scope_given_and_records_their_arm_ids(cloud, capsys):
    from rotators.triggers.cli import OK

    fast = consumer_app(cloud, "app-fast")
    consumer_app(cloud, "app-unrelated").settings = {}
    _, _, version = enroll(cloud)

    code, out, _ = cli(capsys, "consumers", "--vault", VAULT, "--secret", SECRET, "--apply")
    assert code == OK and "not searched: an Entra ID application is in no subscription; give --scope" in out, out
    assert "Consumers" not in current(cloud).tags

    scope = f"/subscriptions/{APPS_SUBSCRIPTION}"
    code, out, _ = cli(capsys, "consumers", "--vault", VAULT, "--secret", SECRET, "--scope", scope, "--apply")
    assert code == OK and f"recorded 1 consumers in tag Consumers of version {version}" in out, out
    assert current(cloud).tags["Consumers"] == fast.id
    status, body = rotate()
    assert (status, [report["consumer"] for report in body["consumers"]]) == (200, [fast.id]), body


# early revocation (ROTATION_EARLY_PASSWORD_REVOCATION=confirmed) ----------------------------------------------


def early_revocation(monkeypatch, mode: str = "confirmed") -> None:
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_EARLY_PASSWORD_REVOCATION", mode)
    get_settings.cache_clear()


# How old the current version must be for its older passwords to go early (ROTATION_EARLY_REVOCATION_MIN_HOURS).
PAST_THE_REVOCATION_FLOOR = timedelta(hours=73)


def run_sweep(how: str) -> None:
    """The sweep as the timer runs it (fanned out on the queues), or in one process (python -m rotators sweep)."""
    from rotators.workflows.sweep import sweep

    if how == "timer":
        helpers.sweep()
    else:
        sweep(now=helpers.now())


@pytest.mark.parametrize("how", ["timer", "cli"])
def test_the_previous_password_is_removed_early_once_every_consumer_confirms_and_only_once(cloud, monkeypatch, how):
    early_revocation(monkeypatch)
    fast, slow = consumer_app(cloud, "app-fast"), consumer_app(cloud, "app-slow")
    slow.refresh_delay = 3600  # its refresh lands an hour later
    application, previous, first = enroll_with_consumers(cloud, fast, slow, ours=True)
    assert rotate()[1]["status"] == "rotated"
    held = current(cloud).tags["CredentialId"]

    run_sweep(how)  # under the revocation's floor: nobody asked, nothing removed
    helpers.age_current_version(cloud, SECRET, PAST_THE_REVOCATION_FLOOR)
    run_sweep(how)  # one consumer still runs the previous version
    assert set(live(cloud, application)) == {previous.key_id, held}
    assert helpers.calls(cloud, "graph.remove_password") == 0

    cloud.appservice.advance(3600)  # the slow app's refresh lands: every consumer runs the current version
    run_sweep(how)
    assert set(live(cloud, application)) == {held}
    assert helpers.calls(cloud, "graph.remove_password") == 1
    [earlier] = [v for v in cloud.keyvault.secret_versions(VAULT, SECRET) if v.version == first]
    assert not earlier.enabled  # disabled before its password went: a rollback never restores it
    holds_the_live_password(cloud, application)

    run_sweep(how)  # a duplicate trigger removes nothing more
    assert helpers.calls(cloud, "graph.remove_password") == 1
    status, body = helpers.post_rollback({"vaultName": VAULT, "secretName": SECRET})
    assert (status, body["error"]["code"]) == (409, "RollbackRefused"), body


@pytest.mark.parametrize("case", ["setting-off", "no-consumers", "unreported", "store-declared", "by-hand"])
def test_nothing_is_revoked_early_unless_every_declared_consumer_confirms_a_password_of_ours(cloud, monkeypatch, case):
    early_revocation(monkeypatch, "off" if case == "setting-off" else "confirmed")
    cloud.appservice.reports_active_version = case != "unreported"  # "activeVersion": null confirms nothing
    apps = () if case == "no-consumers" else (consumer_app(cloud, "app-fast"),)
    application, previous, _ = enroll_with_consumers(cloud, *apps, ours=case != "by-hand")
    if case == "store-declared":  # an App Configuration store cannot confirm its apps moved
        version = current(cloud)
        group = f"/subscriptions/{APPS_SUBSCRIPTION}/resourceGroups/rg-apps"
        store = f"{group}/providers/Microsoft.AppConfiguration/configurationStores/cfg-app"
        version.tags = {**version.tags, "Consumers": f"{version.tags['Consumers']},{store}"}
    assert rotate()[1]["status"] == "rotated"
    helpers.age_current_version(cloud, SECRET, timedelta(hours=80))

    run_sweep("cli")
    assert previous.key_id in live(cloud, application)
    assert helpers.calls(cloud, "graph.remove_password") == 0


@pytest.mark.parametrize("floor", [None, "24"])
def test_a_confirmed_password_waits_for_the_revocations_own_floor(cloud, monkeypatch, floor):
    """A confirmation says what App Service's reference cache holds, not what a running process read: the
    password stays at least 24 hours (App Service's refetch), however short the confirmed cool-down."""
    monkeypatch.setenv("ROTATION_CONFIRMED_MIN_INTERVAL_MINUTES", "0")
    if floor is not None:
        monkeypatch.setenv("ROTATION_EARLY_REVOCATION_MIN_HOURS", floor)
    early_revocation(monkeypatch)
    application, previous, _ = enroll_with_consumers(cloud, consumer_app(cloud, "app-fast"), ours=True)
    assert rotate()[1]["status"] == "rotated"
    lasting = timedelta(hours=72 if floor is None else 24)

    helpers.age_current_version(cloud, SECRET, lasting - timedelta(minutes=1))
    run_sweep("cli")
    assert previous.key_id in live(cloud, application)
    helpers.age_current_version(cloud, SECRET, lasting + timedelta(minutes=1))
    run_sweep("cli")
    assert previous.key_id not in live(cloud, application)


@pytest.mark.parametrize("raw", ["23", "-1", "1e3", "8761"])
def test_an_early_revocation_floor_under_a_day_is_refused(raw):
    from rotators.core.errors import ConfigurationError
    from rotators.core.settings import Settings

    with pytest.raises(ConfigurationError, match="ROTATION_EARLY_REVOCATION_MIN_HOURS"):
        Settings.from_environ({"ROTATION_EARLY_REVOCATION_MIN_HOURS": raw})


@pytest.mark.parametrize("case", ["drifted", "broken", "ended", "same-hint"])
def test_nothing_is_revoked_early_unless_the_current_value_is_the_live_password_it_names(cloud, monkeypatch, case):
    """An app may still run the previous password when the current version does not hold a live one: removing it
    would cut off the last password that works (the rotation refuses these states too)."""
    early_revocation(monkeypatch)
    fast = consumer_app(cloud, "app-fast")
    application, previous, first = enroll_with_consumers(cloud, fast, ours=True)
    assert rotate()[1]["status"] == "rotated"
    version = current(cloud)
    [held] = [p for p in cloud.graph.passwords(application) if p.key_id == version.tags["CredentialId"]]
    if case == "drifted":  # the previous text restored by hand, the current tags copied (CredentialId names P2)
        cloud.keyvault.seed_secret(VAULT, SECRET, previous.secret_text, tags=dict(version.tags))
        run_sweep("cli")  # cooling down: the consumer is refreshed onto the hand-written version
    elif case == "broken":  # the current password removed by hand: rollback to the previous version is the fix
        held.removed = cloud.graph.now()
    elif case == "ended":
        held.end = cloud.graph.now() - timedelta(minutes=1)
    else:  # an older password of ours whose hint is the current value's first characters: it may be the value
        previous.secret_text = held.secret_text[:3] + previous.secret_text[3:]
    helpers.age_current_version(cloud, SECRET, PAST_THE_REVOCATION_FLOOR)

    run_sweep("cli")
    assert previous.key_id in live(cloud, application)
    assert helpers.calls(cloud, "graph.remove_password") == 0
    assert all(v.enabled for v in cloud.keyvault.secret_versions(VAULT, SECRET) if v.version == first)


def test_a_rotation_under_way_keeps_its_new_password_from_early_revocation(cloud, monkeypatch):
    """The password a pending rotation added (its text waits in the staging secret) is not the current version's,
    yet the rotation's record resumes the current version: nothing of it is removed."""
    early_revocation(monkeypatch)
    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "8")
    application, previous, _ = enroll_with_consumers(cloud, consumer_app(cloud, "app-fast"), ours=True)
    assert rotate()[1]["status"] == "rotated"
    helpers.age_current_version(cloud, SECRET, PAST_THE_REVOCATION_FLOOR)
    cloud.graph.propagation_seconds = 600
    body = rotate(force=True)[1]
    assert body["status"] == "pending", body

    run_sweep("cli")
    assert {body["newCredential"], previous.key_id} <= set(live(cloud, application))
    assert helpers.calls(cloud, "graph.remove_password") == 0


# one lock, one claim and one record per application, whatever form ProviderAddress names it by ----------------

FORMS = {
    "object-id-path": lambda application: application.path,
    "client-id-path": lambda application: f"/applications(appId='{application.app_id}')",
    "bare-object-id": lambda application: application.object_id,
}


@pytest.mark.parametrize(
    ("first", "second"), [("object-id-path", "client-id-path"), ("client-id-path", "bare-object-id")]
)
def test_two_secrets_naming_one_application_in_two_forms_cannot_both_rotate_it(cloud, first, second):
    application, _, _ = enroll(cloud, address=FORMS[first])
    other = cloud.graph.seed_password(application, display_name="set up by hand")
    tags = {"CredentialId": other.key_id, "ProviderAddress": FORMS[second](application), "ValidityPeriodDays": "90"}
    created, expires = helpers.now() - timedelta(hours=73), helpers.now() + timedelta(days=20)
    cloud.keyvault.seed_secret(VAULT, "other-secret", other.secret_text, tags=tags, created=created, expires=expires)

    for secret in ("other-secret", SECRET):
        status, body = rotate(secret)
        assert (status, body["error"]["code"]) == (422, "KeyPairClaimed"), body
    assert helpers.calls(cloud, "graph.add_password") == 0


def test_another_secrets_application_it_may_not_read_does_not_stop_a_first_claim(cloud):
    """A secret of the vault naming, by client ID, an application the function may not read (not its owner) is
    not this application: the first claim, which lists the vault, goes on."""
    cloud.graph.owned_by_reads_others = False  # Application.ReadWrite.OwnedBy reading another's application: 403
    enroll(cloud)
    stranger = cloud.graph.create_application(owners=())
    tags = {"CredentialId": str(uuid.uuid4()), "ProviderAddress": f"/applications(appId='{stranger.app_id}')"}
    cloud.keyvault.seed_secret(VAULT, "strangers-secret", "abc", tags={**tags, "ValidityPeriodDays": "90"})

    status, body = rotate()
    assert (status, body["status"]) == (200, "rotated"), body


@pytest.mark.parametrize("how", ["timer", "cli"])
def test_the_sweep_finds_two_secrets_naming_one_application_in_two_forms_and_stops_its_owner(cloud, how):
    application, _, _ = enroll(cloud, address=FORMS["object-id-path"])
    assert rotate()[1]["status"] == "rotated"  # this secret owns the application
    helpers.age_current_version(cloud, SECRET, timedelta(days=80))  # due again
    other = cloud.graph.seed_password(application, display_name="set up by hand")
    tags = {
        "CredentialId": other.key_id,
        "ProviderAddress": FORMS["client-id-path"](application),
        "ValidityPeriodDays": "90",
    }
    cloud.keyvault.seed_secret(VAULT, "other-secret", other.secret_text, tags=tags)

    run_sweep(how)  # both misconfigured: neither rotated, and the owner's claim contested on the application's lock
    assert helpers.calls(cloud, "graph.add_password") == 1
    status, body = rotate()
    assert (status, body["error"]["code"]) == (422, "KeyPairClaimed"), body
    assert helpers.calls(cloud, "graph.add_password") == 1


def test_one_lock_per_application_whatever_form_the_secret_names_it_by(cloud, azurite):
    from azure.storage.blob import BlobClient

    from rotators.adapters import clients

    application, _, _ = enroll(cloud, address=FORMS["client-id-path"])
    clients.lock_container()  # the container exists
    name = f"pairs/applications/{application.object_id}/passwords"  # the lock of a secret naming its object ID
    blob = BlobClient.from_connection_string(azurite.connection_string, "secret-rotation", name)
    blob.upload_blob(b"", overwrite=True)
    held = blob.acquire_lease(lease_duration=60)  # another trigger rotating the application by its object ID

    status, body = rotate()
    assert (status, body["error"]["code"]) == (409, "RotationInProgress"), body
    held.release()
    assert rotate()[1]["status"] == "rotated"
    assert helpers.calls(cloud, "graph.add_password") == 1


def test_the_products_passwords_are_recognised_whatever_case_the_secrets_name_is_given_in(cloud):
    """Key Vault names ignore case: a rotation asked for 'APP-SECRET' removes what one for 'app-secret' added."""
    application, by_hand, _ = enroll(cloud)
    key_ids = []
    for spelling in (SECRET, SECRET.upper(), SECRET.title()):
        status, body = rotate(spelling)
        assert (status, body["status"]) == (200, "rotated"), body
        key_ids.append(body["newCredential"])
        helpers.age_current_version(cloud, SECRET, timedelta(hours=73))

    assert set(live(cloud, application)) == {by_hand.key_id, key_ids[1], key_ids[2]}
    assert len({name.lower() for key, name in live(cloud, application).items() if key in key_ids}) == 2
    assert {name[: -len("20260101T000000Z")] for key, name in live(cloud, application).items() if key in key_ids} == {
        f"key-rotators {VAULT}/{SECRET} "
    }


# grant-graph: the deployer grants the function's identity what it needs, read first, against the stand-in Graph -


# The deployer's own: Privileged Role Administrator, Application Administrator (learn application-post-owners wants
# Directory.Read.All besides Application.ReadWrite.All).
DEPLOYER = (
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
)


def test_grant_graph_gives_the_identity_its_permission_and_ownership_once(cloud, capsys):
    from localazure.services.graph.models import OWNED_BY
    from rotators.triggers.cli import OK

    for role in DEPLOYER:
        cloud.graph.grant(role)
    identity = cloud.graph.create_service_principal()
    first, second = cloud.graph.create_application(owners=()), cloud.graph.create_application(owners=())
    grant = ("grant-graph", "--identity", identity, "--application", first.object_id, "--application", second.object_id)

    code, out, _ = cli(capsys, *grant)
    assert code == OK, out
    assert OWNED_BY in cloud.graph.roles(identity) and identity in first.owners and identity in second.owners
    assert f"{identity}: granted {OWNED_BY}" in out and f"{first.object_id}: added {identity} as an owner" in out

    code, out, _ = cli(capsys, *grant)  # again: everything is read first, nothing written
    assert code == OK and f"{identity}: already holds {OWNED_BY}" in out, out
    assert f"{second.object_id}: {identity} is already an owner" in out
    assert helpers.calls(cloud, "graph.assign_app_role") == 1 and helpers.calls(cloud, "graph.add_owner") == 2


@pytest.mark.parametrize(
    ("lacking", "route", "needed"),
    [
        ("AppRoleAssignment.ReadWrite.All", "graph.assign_app_role", "Privileged Role Administrator"),
        ("Application.ReadWrite.All", "graph.add_owner", "Application Administrator"),
        ("Directory.Read.All", "graph.add_owner", "Directory.Read.All"),
    ],
)
def test_grant_graph_refused_names_the_role_the_deployer_lacks(cloud, capsys, lacking, route, needed):
    from rotators.triggers.cli import FAILED

    for role in set(DEPLOYER) - {lacking}:
        cloud.graph.grant(role)
    identity = cloud.graph.create_service_principal()
    application = cloud.graph.create_application(owners=())

    code, _, err = cli(capsys, "grant-graph", "--identity", identity, "--application", application.object_id)
    assert code == FAILED and "AccessDenied" in err and needed in err and "Nothing more was granted" in err, err
    assert [c.status for c in cloud.calls(route)] == [403]
    assert identity not in application.owners


@pytest.mark.parametrize("route", ["graph.assign_app_role", "graph.add_owner"])
def test_grant_graph_sends_each_write_once(cloud, capsys, route):
    """A write whose answer fails is not sent again by the SDK's retries: the next run reads what it did."""
    from rotators.triggers.cli import OK

    for role in DEPLOYER:
        cloud.graph.grant(role)
    identity, application = cloud.graph.create_service_principal(), cloud.graph.create_application(owners=())
    cloud.inject(route, status=503, count=5)
    grant = ("grant-graph", "--identity", identity, "--application", application.object_id)

    code, _, err = cli(capsys, *grant)
    assert code != OK and len(cloud.calls(route)) == 1, err
    cloud.faults.clear()
    code, out, _ = cli(capsys, *grant)
    assert code == OK and f"{application.object_id}: added {identity} as an owner" in out, out


def test_grant_graph_owners_only_needs_no_right_to_grant_app_roles(cloud, capsys):
    from rotators.triggers.cli import OK, REFUSED

    for role in set(DEPLOYER) - {"AppRoleAssignment.ReadWrite.All"}:
        cloud.graph.grant(role)
    identity, application = cloud.graph.create_service_principal(), cloud.graph.create_application(owners=())

    code, out, err = cli(capsys, "grant-graph", "--identity", identity, "--owners-only")
    assert code == REFUSED and "--application" in err, err
    grant = ("grant-graph", "--identity", identity, "--application", application.object_id, "--owners-only")
    code, out, _ = cli(capsys, *grant)
    assert code == OK and out.strip() == f"{application.object_id}: added {identity} as an owner", out
    assert identity in application.owners
    assert not cloud.calls("graph.get_service_principal") and not cloud.calls("graph.assign_app_role")


@pytest.mark.parametrize("wrong", ["identity", "application", "not-a-guid"])
def test_grant_graph_refuses_an_id_that_names_nothing(cloud, capsys, wrong):
    from rotators.triggers.cli import REFUSED

    for role in DEPLOYER:
        cloud.graph.grant(role)
    identity, application = cloud.graph.create_service_principal(), cloud.graph.create_application(owners=()).object_id
    unknown = "00000000-0000-0000-0000-00000000dead" if wrong != "not-a-guid" else "contoso"
    if wrong == "application":
        application = unknown
    else:
        identity = unknown

    code, _, err = cli(capsys, "grant-graph", "--identity", identity, "--application", application)
    assert code == REFUSED, err
    assert ("expected an object ID" if wrong == "not-a-guid" else "principal ID of the function app's") in err
    assert helpers.calls(cloud, "graph.add_owner") == 0


def test_an_early_removal_that_fails_after_the_version_was_disabled_is_finished_by_the_next_sweep(cloud, monkeypatch):
    early_revocation(monkeypatch)
    application, previous, first = enroll_with_consumers(cloud, consumer_app(cloud, "app-fast"), ours=True)
    assert rotate()[1]["status"] == "rotated"
    helpers.age_current_version(cloud, SECRET, PAST_THE_REVOCATION_FLOOR)
    cloud.inject("graph.remove_password", status=503, count=20)

    run_sweep("cli")
    [earlier] = [v for v in cloud.keyvault.secret_versions(VAULT, SECRET) if v.version == first]
    assert not earlier.enabled and previous.key_id in live(cloud, application)  # disabled first: never restored

    cloud.faults.clear()
    run_sweep("cli")
    assert previous.key_id not in live(cloud, application)
    assert [c.status for c in cloud.calls("graph.remove_password")][-1] == 204
    holds_the_live_password(cloud, application)
