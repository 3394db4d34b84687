"""Key Vault's own limits, met before a key is regenerated: at most 15 tags on a secret ("About Azure
Key Vault secrets"), and no backup past 500 versions (Key Vault's backup doc)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rotators.core.assessment import versions_note
from rotators.triggers.cli import main
from tests import helpers
from tests.helpers import VAULT


def _tags(count: int) -> dict[str, str]:
    """``count`` tags the rotation does not read, beside the three it does."""
    return {f"Team{index}": "payments" for index in range(count - 3)}


def test_the_stand_in_s_key_vault_refuses_a_sixteenth_tag(cloud):
    """What makes the tests below tests: Key Vault answers 400 BadParameter, as recorded in
    hashicorp/terraform-provider-azurerm#16780."""
    from azure.core.exceptions import HttpResponseError

    from rotators.adapters.clients import secret_client

    client = secret_client(helpers.VAULT_URL)
    client.set_secret("tagged", "value", tags={f"t{index}": "v" for index in range(15)})
    with pytest.raises(HttpResponseError) as refused:
        client.set_secret("tagged", "value", tags={f"t{index}": "v" for index in range(16)})
    assert refused.value.status_code == 400 and "Property has invalid value" in str(refused.value.message)


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_version_that_would_carry_sixteen_tags_is_refused_before_any_key_is_regenerated(cloud, dry_run):
    """Fifteen tags and no RotatedBy: the next version would need a sixteenth."""
    helpers.enroll_storage(cloud, extra_tags=_tags(15))
    before = cloud.keyvault.current_secret(VAULT, "storage-key").version
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key", "dryRun": dry_run})
    assert status == 422 and body["error"]["code"] == "SecretNotRotatable", body
    message = body["error"]["message"]
    assert "16 tags" in message and "'RotatedBy' added" in message and "at most 15" in message, message
    assert "Remove 1 tag(s)" in message and "nothing was regenerated" in message, message
    helpers.assert_nothing_written(cloud)
    assert cloud.keyvault.current_secret(VAULT, "storage-key").version == before


@pytest.mark.parametrize(
    ("tags", "rotated_by"),
    [(14, False), (15, True)],
    ids=["14 tags and RotatedBy added", "15 tags, RotatedBy among them"],
)
def test_a_version_within_fifteen_tags_is_written(cloud, tags, rotated_by):
    extra = _tags(tags)
    if rotated_by:
        extra = {**_tags(tags - 1), "RotatedBy": "enroll"}
    helpers.enroll_storage(cloud, extra_tags=extra)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert len(cloud.keyvault.current_secret(VAULT, "storage-key").tags) == 15


def test_an_event_for_a_secret_with_no_room_for_its_tags_is_refused_without_retrying(cloud):
    version = helpers.enroll_storage(cloud, extra_tags=_tags(15))
    helpers.deliver(helpers.event(secret="storage-key", version=version))  # logged, not raised: redelivery cannot help
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize(("count", "warned"), [(449, False), (450, True), (500, True)])
def test_versions_note_warns_from_450(count, warned):
    note = versions_note(count)
    assert (note is not None) is warned
    if note:
        assert f"{count} versions" in note and "500" in note and "ValidityPeriodDays" in note


@pytest.mark.parametrize(("older", "warned"), [(448, False), (449, True)])
def test_status_warns_of_a_secret_nearing_500_versions(cloud, capsys, older, warned):
    """Counted from the listing of versions (Key Vault pages it by 25), only where status reads each secret."""
    for index in range(older):
        cloud.keyvault.seed_secret(VAULT, "storage-key", f"old-{index}", created=helpers.now() - timedelta(days=400))
    helpers.enroll_storage(cloud)
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert ("450 versions: Key Vault cannot back up a secret with more than 500" in out) is warned, out
    assert helpers.calls(cloud, "keyvault.list_versions") == 18  # 449 or 450 versions: 18 pages of 25
    capsys.readouterr()
    assert main(["status", "--vault", VAULT, "--quick"]) == 0
    assert "versions" not in capsys.readouterr().out


@pytest.mark.parametrize(("others", "recorded"), [(13, True), (14, False)], ids=["room left", "no room"])
def test_apply_leaves_room_for_the_next_version_s_tags(cloud, capsys, others, recorded):
    """Consumers plus the rotation's RotatedBy must fit Key Vault's 15, or the next rotation is refused."""
    from tests.test_cli import run
    from tests.test_consumers import REFERENCE

    version = helpers.enroll_storage(cloud, extra_tags=_tags(others))
    cloud.appservice.create_app("app-a", {"STORAGE": REFERENCE})
    code, out, _ = run(capsys, "consumers", "--vault", VAULT, "--apply")
    tags = cloud.keyvault.current_secret(VAULT, "storage-key").tags
    assert code == 0, out
    if recorded:
        assert f"recorded 1 consumers in tag Consumers of version {version}" in out, out
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
        assert status == 200 and body["status"] == "rotated", body
    else:
        assert "not recorded" in out and "would need 16" in out and "Remove 1 tag(s)" in out, out
        assert "Consumers" not in tags and cloud.keyvault.current_secret(VAULT, "storage-key").version == version
