"""Every resource kind through the same rows: a kind added later is one row in KINDS.

Each row names how to enrol a secret on the kind in the stand-in, the credential the secret
starts on and its alternate, and the route its regeneration takes.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from typing import Any

import pytest

from localazure.services import SERVICES
from localazure.services.servicebus import responses as servicebus_responses
from rotators.core.errors import RotationError
from rotators.kinds import kind_for
from rotators.triggers.cli import main
from tests import helpers
from tests.helpers import VAULT


@dataclass(frozen=True)
class Row:
    enroll: Any  # (cloud, **options) -> version
    held: str
    alternate: str
    regenerate: str  # the stand-in's route
    keys_off: Any  # (the stand-in's resource) -> None: switch key authentication off; None: the service has no switch
    sdk: str  # the management SDK its rotation imports, and the only one ("": none, ARM through azure-mgmt-core)
    connection_string: bool = True  # whether the service documents one
    data_plane: str = ""  # the data-plane SDK that tests its new keys (verify before publish), if any


def _namespace_sas_off(rule: Any) -> None:
    rule.namespace.disable_local_auth = True


def _local_auth_off(resource: Any) -> None:
    resource.disable_local_auth = True


def _keys_off(resource: Any) -> None:
    resource.keys_off = True


def _keyed(
    service: str, held: str, alternate: str, sdk: str, *, connection_string: bool = False, data_plane: str = ""
) -> Row:
    """A row for one of the stand-in's keyed services (localazure/services/keyed.py)."""
    return Row(
        lambda cloud, **o: helpers.enroll_keyed(cloud, service, held, **o),
        held,
        alternate,
        f"{service}.regenerate_key",
        _keys_off,
        sdk,
        connection_string,
        data_plane,
    )


KINDS = {
    "storage": Row(
        helpers.enroll_storage,
        "key1",
        "key2",
        "storage.regenerate_key",
        lambda account: setattr(account, "allow_shared_key_access", False),
        "azure.mgmt.storage",
    ),
    "cosmos": Row(
        helpers.enroll_cosmos,
        "primary",
        "secondary",
        "cosmos.regenerate_key",
        _local_auth_off,
        "azure.mgmt.cosmosdb",
        data_plane="azure.cosmos",
    ),
    "servicebus-namespace": Row(
        helpers.enroll_servicebus,
        "PrimaryKey",
        "SecondaryKey",
        "servicebus.regenerate_keys",
        _namespace_sas_off,
        "azure.mgmt.servicebus",
    ),
    "servicebus-queue": Row(
        lambda cloud, **o: helpers.enroll_servicebus(cloud, entity=("queues", "orders"), **o),
        "PrimaryKey",
        "SecondaryKey",
        "servicebus.regenerate_keys",
        _namespace_sas_off,
        "azure.mgmt.servicebus",
    ),
    "servicebus-topic": Row(
        lambda cloud, **o: helpers.enroll_servicebus(cloud, entity=("topics", "events"), **o),
        "PrimaryKey",
        "SecondaryKey",
        "servicebus.regenerate_keys",
        _namespace_sas_off,
        "azure.mgmt.servicebus",
    ),
    "eventhubs-namespace": Row(
        helpers.enroll_eventhubs,
        "PrimaryKey",
        "SecondaryKey",
        "eventhubs.regenerate_keys",
        _namespace_sas_off,
        "azure.mgmt.eventhub",
    ),
    "eventhubs-hub": Row(
        lambda cloud, **o: helpers.enroll_eventhubs(cloud, hub="telemetry", **o),
        "PrimaryKey",
        "SecondaryKey",
        "eventhubs.regenerate_keys",
        _namespace_sas_off,
        "azure.mgmt.eventhub",
    ),
    # No management SDK: azure-mgmt-core's pipeline alone (rotators/kinds/relay.py); no switch refuses the keys.
    **{
        f"relay-{level}": Row(
            lambda cloud, entity=entity, **o: helpers.enroll_rule(cloud, "relay", entity=entity, **o),
            "PrimaryKey",
            "SecondaryKey",
            "relay.regenerate_keys",
            None,
            "",
        )
        for level, entity in (
            ("namespace", None),
            ("hybrid-connection", ("hybridConnections", "orders")),
            ("wcf-relay", ("wcfRelays", "legacy")),
        )
    },
    # No management SDK either (rotators/kinds/notificationhubs.py); no switch refuses the keys.
    **{
        f"notificationhubs-{level}": Row(
            lambda cloud, entity=entity, **o: helpers.enroll_rule(cloud, "notificationhubs", entity=entity, **o),
            "PrimaryKey",
            "SecondaryKey",
            "notificationhubs.regenerate_keys",
            None,
            "",
        )
        for level, entity in (("namespace", None), ("hub", ("notificationHubs", "mobile")))
    },
    "redis": _keyed("redis", "Primary", "Secondary", "azure.mgmt.redis", connection_string=True),
    # No management SDK: azure-mgmt-core's pipeline alone (rotators/kinds/managedredis.py).
    "managedredis": _keyed("redisenterprise", "Primary", "Secondary", "", connection_string=True),
    "cognitiveservices": _keyed("cognitiveservices", "Key1", "Key2", "azure.mgmt.cognitiveservices"),
    "search": _keyed("search", "primary", "secondary", "azure.mgmt.search", data_plane="azure.search.documents"),
    "maps": _keyed("maps", "primary", "secondary", "azure.mgmt.maps"),
    # No management SDK: azure-mgmt-core's pipeline alone (rotators/kinds/mlendpoints.py, apimanagement.py).
    "mlendpoint": _keyed("mlendpoints", "Primary", "Secondary", ""),
    "communication": _keyed(
        "communication",
        "Primary",
        "Secondary",
        "azure.mgmt.communication",
        connection_string=True,
        data_plane="azure.communication.phonenumbers",
    ),
    "batch": _keyed("batch", "Primary", "Secondary", "azure.mgmt.batch", data_plane="azure.batch"),
    # No SDK: ARM through azure-mgmt-core, the registry through azure-core (rotators/kinds/containerregistry.py).
    "containerregistry": _keyed("containerregistry", "password", "password2", ""),
    "eventgrid-domain": _keyed("eventgriddomain", "key1", "key2", "azure.mgmt.eventgrid"),
    "eventgrid-topic": _keyed("eventgridtopic", "key1", "key2", "azure.mgmt.eventgrid"),
    # No switch refuses a namespace's keys at 2025-02-15.
    "eventgrid-namespace": replace(_keyed("eventgridnamespace", "key1", "key2", "azure.mgmt.eventgrid"), keys_off=None),
    "signalr": _keyed("signalr", "Primary", "Secondary", "azure.mgmt.signalr", connection_string=True),
    "webpubsub": _keyed(
        "webpubsub",
        "Primary",
        "Secondary",
        "azure.mgmt.webpubsub",
        connection_string=True,
        data_plane="azure.messaging.webpubsubservice",
    ),
    "apim-subscription": _keyed("apimsubscriptions", "Primary", "Secondary", ""),
    "appconfiguration": _keyed(
        "appconfiguration",
        "Primary",
        "Secondary",
        "azure.mgmt.appconfiguration",
        connection_string=True,
        data_plane="azure.appconfiguration",
    ),
    "appconfiguration-read-only": Row(
        lambda cloud, **o: helpers.enroll_keyed(cloud, "appconfiguration", "Primary Read Only", **o),
        "Primary Read Only",
        "Secondary Read Only",
        "appconfiguration.regenerate_key",
        _keys_off,
        "azure.mgmt.appconfiguration",
        data_plane="azure.appconfiguration",
    ),
}
ROWS = pytest.mark.parametrize("kind", list(KINDS))


def _resource(cloud, secret: str) -> Any:
    return helpers.resource_of(cloud, cloud.keyvault.current_secret(VAULT, secret).tags["ProviderAddress"])


@ROWS
@pytest.mark.parametrize("value_format", ["Key", "ConnectionString"])
def test_an_event_regenerates_the_alternate_and_never_the_key_in_use(cloud, kind, value_format):
    row = KINDS[kind]
    version = row.enroll(cloud, secret="app-key", extra_tags={"ValueFormat": value_format})
    if value_format == "ConnectionString" and not row.connection_string:
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "app-key"})
        assert status == 422 and "has no connection string" in body["error"]["message"], body
        return helpers.assert_nothing_written(cloud)
    resource = _resource(cloud, "app-key")
    held = helpers.live_key(resource, row.held)
    helpers.deliver(helpers.event(secret="app-key", version=version))
    current = cloud.keyvault.current_secret(VAULT, "app-key")
    assert current.tags["CredentialId"] == row.alternate
    helpers.same(helpers.live_key(resource, row.held), held, "the key in use, untouched")
    expected = helpers.secret_value(
        resource, helpers.live_key(resource, row.alternate), connection_string=value_format == "ConnectionString"
    )
    helpers.same(current.value, expected, f"the new {row.alternate} in the {value_format} format")
    assert helpers.calls(cloud, row.regenerate) == 1


@ROWS
def test_http_rotates_every_kind(cloud, kind):
    row = KINDS[kind]
    row.enroll(cloud, secret="by-http")
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "by-http"})
    assert status == 200 and body["newCredential"] == row.alternate, body
    helpers.holds_live_key(cloud, "by-http")


@ROWS
def test_the_sweep_rotates_every_kind(cloud, kind):
    row = KINDS[kind]
    version = row.enroll(cloud, secret="by-sweep")  # expires in 20 days: inside the near-expiry window
    helpers.sweep()
    current = cloud.keyvault.current_secret(VAULT, "by-sweep")
    assert current.version != version and current.tags["CredentialId"] == row.alternate
    helpers.holds_live_key(cloud, "by-sweep")


@ROWS
def test_a_lost_regeneration_answer_is_found_not_repeated(cloud, azurite, kind):
    row = KINDS[kind]
    version = row.enroll(cloud, secret="lost-answer")
    cloud.inject(row.regenerate, drop=True, after=True)
    event = helpers.event(secret="lost-answer", version=version)
    with pytest.raises(RotationError):
        helpers.deliver(event)
    cloud.advance(60)
    helpers.redeliver_until_done(event)
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, "lost-answer")


@ROWS
def test_a_regeneration_whose_answer_fails_after_the_write_is_sent_once(cloud, kind):
    """A 503 after Azure regenerated (retried by azure-core's policy unless the call says not to): the
    regeneration is not sent again, by the SDK or by the rotation."""
    row = KINDS[kind]
    row.enroll(cloud, secret="sent-once")
    cloud.inject(row.regenerate, status=503, after=True)
    helpers.post_rotate({"vaultName": VAULT, "secretName": "sent-once"})
    assert helpers.calls(cloud, row.regenerate) == 1


@ROWS
@pytest.mark.parametrize(
    ("tags", "message"),
    [({"CredentialId": "key3"}, "CredentialId"), ({"ValidityPeriodDays": "90d"}, "ValidityPeriodDays")],
)
def test_bad_tags_are_refused_for_every_kind(cloud, kind, tags, message):
    row = KINDS[kind]
    row.enroll(cloud, secret="bad-tags", extra_tags=tags)
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "bad-tags"})
    assert status == 422 and message in body["error"]["message"], body
    helpers.assert_nothing_written(cloud)


@ROWS
def test_a_resource_with_key_authentication_off_is_not_rotated(cloud, kind):
    row = KINDS[kind]
    if row.keys_off is None:
        pytest.skip("the service has no switch that refuses its keys")
    row.enroll(cloud, secret="sas-off")
    row.keys_off(_resource(cloud, "sas-off"))
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "sas-off"})
    assert status == 422 and body["error"]["code"] == "KeyAuthDisabled", body
    assert "managed identity" in body["error"]["message"]
    helpers.assert_nothing_written(cloud)


@ROWS
def test_enroll_and_status_say_when_a_kind_s_keys_are_switched_off(cloud, capsys, kind):
    row = KINDS[kind]
    if row.keys_off is None:
        pytest.skip("the service has no switch that refuses its keys")
    row.enroll(cloud, secret="keys-off")
    resource_id = cloud.keyvault.current_secret(VAULT, "keys-off").tags["ProviderAddress"]
    row.keys_off(_resource(cloud, "keys-off"))
    capsys.readouterr()
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert "key auth disabled" in out.lower() and "managed identity" in out, out
    assert main(["enroll", "--vault", VAULT, "--secret", "other", "--resource-id", resource_id]) == 2
    err = capsys.readouterr().err
    helpers.PRODUCED.append(err)
    assert "KeyAuthDisabled" in err, err
    helpers.assert_nothing_written(cloud)


@ROWS
def test_enroll_writes_the_live_key_of_every_kind(cloud, kind):
    """``enroll`` with the kind's default credential, in the connection-string format; nothing regenerated."""
    row = KINDS[kind]
    row.enroll(cloud, secret="enrolled")  # the resource, and a first secret on its pair
    resource_id = cloud.keyvault.current_secret(VAULT, "enrolled").tags["ProviderAddress"]
    argv = ["enroll", "--vault", VAULT, "--secret", "enrolled", "--resource-id", resource_id]
    if row.held != next(iter(kind_for(_resource(cloud, "enrolled").provider).credentials.values())).tag:
        argv += ["--credential", row.held]  # the default is the kind's first key
    value_format = "ConnectionString" if row.connection_string else "Key"
    assert main([*argv, "--value-format", value_format]) == 0
    current = cloud.keyvault.current_secret(VAULT, "enrolled")
    assert current.tags["CredentialId"] == row.held
    resource = _resource(cloud, "enrolled")
    live = helpers.live_key(resource, row.held)
    expected = helpers.secret_value(resource, live, connection_string=row.connection_string)
    helpers.same(current.value, expected, f"the enrolled {row.held} as {value_format}")
    assert helpers.regenerations(cloud) == 0


LONG_RUNNING = pytest.mark.parametrize(
    "kind", ["eventgrid-topic", "eventgrid-namespace", "signalr", "webpubsub", "managedredis", "mlendpoint"]
)


@LONG_RUNNING
@pytest.mark.parametrize("at_once", [False, True], ids=["202 then the key changes", "200 with the keys"])
def test_a_long_running_regeneration_is_resumed_not_repeated(cloud, monkeypatch, kind, at_once):
    """The specs allow 200 or 202; under either, a regeneration outlasting the trigger answers
    pending, the next trigger finds the new key, and Azure is asked once."""
    from rotators.core.settings import get_settings

    monkeypatch.setenv("ROTATION_HTTP_BUDGET_SECONDS", "6")  # waits at most about a second on Azure
    get_settings.cache_clear()
    row = KINDS[kind]
    backend = getattr(cloud, row.regenerate.split(".")[0])
    if at_once and not backend.api.may_answer_200:
        pytest.skip("its spec lists only 202")
    backend.answers_at_once = at_once
    backend.operation_delay = 3600.0
    row.enroll(cloud, secret="slow")
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "slow"})
    if not at_once:
        assert status == 202 and body["status"] == "pending", body
        cloud.advance(3600)
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "slow"})
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.calls(cloud, row.regenerate) == 1
    helpers.holds_live_key(cloud, "slow")


@pytest.mark.parametrize("ids_change", [False, True], ids=["id kept", "new id"])
def test_app_configuration_keys_are_found_by_name_whether_or_not_their_id_changes(cloud, ids_change):
    """Microsoft does not say whether a regenerated key keeps its id; the connection string
    written is the one the store lists for the new key either way."""
    cloud.appconfiguration.ids_change = ids_change
    KINDS["appconfiguration"].enroll(cloud, secret="appconfig", extra_tags={"ValueFormat": "ConnectionString"})
    for _ in range(2):  # there and back: the second rotation regenerates the key the first one left
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "appconfig", "force": True})
        assert status == 200 and body["status"] == "rotated", body
        current = cloud.keyvault.current_secret(VAULT, "appconfig")
        store = _resource(cloud, "appconfig")
        expected = helpers.secret_value(
            store, helpers.live_key(store, current.tags["CredentialId"]), connection_string=True
        )
        helpers.same(current.value, expected, "the store's own connection string for the new key")
    assert helpers.calls(cloud, "appconfiguration.regenerate_key") == 2


def _routes(kind: str) -> list[str]:
    service = KINDS[kind].regenerate.split(".")[0]
    return [url.route for s in SERVICES if s.name == service for url in s.urls]


@pytest.mark.parametrize(("kind", "route"), [(kind, route) for kind in KINDS for route in _routes(kind)])
def test_a_fault_on_any_call_of_a_kind_ends_in_one_regeneration(cloud, azurite, kind, route):
    """Every ARM call a kind makes, failing once with a 503: the redelivered event rotates and
    Azure regenerates the key once. A regeneration that met a 503 may still be applied by Azure,
    so it is not asked again before it settles (``settle_request`` lets that time pass)."""
    row = KINDS[kind]
    version = row.enroll(cloud, secret="faulty")
    cloud.inject(route, status=503)
    event = helpers.event(secret="faulty", version=version)
    with contextlib.suppress(RotationError):
        helpers.deliver(event)
    if route == row.regenerate:
        helpers.settle_request(cloud, azurite.connection_string, "faulty")
    helpers.redeliver_until_done(event)
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, "faulty")


# Keys that exist but cannot be used (issue 24, item 6) -----------------------------------------


@pytest.mark.parametrize("modes_list_shared_key", [True, False], ids=["modes list SharedKey", "modes lack SharedKey"])
def test_a_batch_account_in_user_subscription_mode_is_refused_before_anything_is_regenerated(
    cloud, capsys, modes_list_shared_key
):
    """ "If the mode is UserSubscription, clients must use Microsoft Entra ID" (the spec's
    poolAllocationMode); what such an account lists in allowedAuthenticationModes is not documented."""
    helpers.enroll_keyed(cloud, "batch", "Primary", secret="batch-key")
    account = cloud.batch.items["batch-app"]
    account.pool_allocation_mode = "UserSubscription"
    account.keys_off = not modes_list_shared_key
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "batch-key", "dryRun": True})
    assert status == 422 and body["error"]["code"] == "KeyAuthDisabled", body
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "batch-key"})
    assert status == 422 and body["error"]["code"] == "KeyAuthDisabled", body
    message = body["error"]["message"]
    assert "poolAllocationMode is UserSubscription" in message and "Microsoft Entra ID" in message, message
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert "key auth disabled" in out and "UserSubscription" in out, out
    assert main(["enroll", "--vault", VAULT, "--secret", "other", "--resource-id", account.id]) == 2
    assert "KeyAuthDisabled" in capsys.readouterr().err
    # Its keys are never listed ("getting the keys will fail"), let alone regenerated.
    assert helpers.calls(cloud, "batch.list_keys") == 0
    helpers.assert_nothing_written(cloud)


OTHER_APIS = pytest.mark.parametrize(
    ("api", "account_kind", "capabilities"),
    [
        ("MongoDB", "MongoDB", []),
        ("Cassandra", "GlobalDocumentDB", ["EnableCassandra"]),
        ("Table", "GlobalDocumentDB", ["EnableTable"]),
        ("Gremlin", "GlobalDocumentDB", ["EnableGremlin"]),
    ],
)


def _other_api_account(cloud, account_kind: str, capabilities: list[str], **options: Any) -> str:
    account = cloud.cosmosdb.create_account("cosmos-api")
    account.kind, account.capabilities = account_kind, capabilities
    return helpers.enroll_cosmos(cloud, account="cosmos-api", **options)


@OTHER_APIS
def test_a_connection_string_is_refused_for_a_cosmos_account_of_another_api(
    cloud, capsys, api, account_kind, capabilities
):
    """The NoSQL connection string means nothing to a MongoDB, Cassandra, Table or Gremlin client: refused
    with the fix, before anything is regenerated, by rotate (dry run too), enroll and status alike."""
    _other_api_account(cloud, account_kind, capabilities, extra_tags={"ValueFormat": "ConnectionString"})
    for dry_run in (True, False):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key", "dryRun": dry_run})
        assert status == 422 and body["error"]["code"] == "SecretNotRotatable", body
        message = body["error"]["message"]
        assert f"API for {api}" in message and "Set ValueFormat to Key" in message, message
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert "misconfigured" in out and f"API for {api}" in out, out
    resource_id = cloud.cosmosdb.accounts["cosmos-api"].id
    argv = ["enroll", "--vault", VAULT, "--secret", "other", "--resource-id", resource_id]
    assert main([*argv, "--credential", "primaryReadonly", "--value-format", "ConnectionString"]) == 2
    assert "SecretNotRotatable" in capsys.readouterr().err
    helpers.assert_nothing_written(cloud)


@OTHER_APIS
def test_the_key_of_a_cosmos_account_of_another_api_rotates_and_is_published_untested(
    cloud, verify, caplog, api, account_kind, capabilities
):
    """ValueFormat=Key works for every API. Its data plane answers the NoSQL API 403 (recorded for MongoDB
    and Cassandra), which says nothing about the key: the key is not tested, even when required."""
    verify("required")
    _other_api_account(cloud, account_kind, capabilities)
    with caplog.at_level(logging.INFO):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "cosmos-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert f"published untested: it serves the API for {api}" in caplog.text
    assert helpers.calls(cloud, "cosmosdata.get_account") + helpers.calls(cloud, "cosmosdata.list_databases") == 0
    helpers.holds_live_key(cloud, "cosmos-key")


def test_the_stand_in_s_mongodb_account_refuses_the_nosql_api_even_to_a_live_key(cloud):
    """What makes the test above a test: asked, the data plane would refuse (Azure/azure-cosmos-dotnet-v3#582)."""
    from azure.cosmos import CosmosClient
    from azure.cosmos.exceptions import CosmosHttpResponseError

    account = cloud.cosmosdb.create_account("cosmos-mongo")
    account.kind = "MongoDB"
    with pytest.raises(CosmosHttpResponseError) as refused:
        client = CosmosClient(account.endpoint, credential=account.keys["primary"], enable_endpoint_discovery=False)
        list(client.list_databases())
    assert refused.value.status_code == 403


# Hosts from the resource, not from the name (issue 24, item 7) -----------------------------------


@pytest.mark.parametrize("dns_endpoint_type", ["Standard", "AzureDnsZone"])
@pytest.mark.parametrize("value_format", ["Key", "ConnectionString"])
def test_a_storage_account_is_reached_on_the_endpoints_it_reports(cloud, verify, dns_endpoint_type, value_format):
    """An account with Azure DNS zone endpoints (<account>.z24.blob.storage.azure.net) has no EndpointSuffix
    connection string: its endpoints are written out, the key is tested on its Blob endpoint, and the
    value written works. Still one account read per rotation (make bench's floor)."""
    from azure.storage.blob import BlobServiceClient

    verify("required")
    cloud.storage.create_account("stzone", dns_endpoint_type=dns_endpoint_type)
    helpers.enroll_storage(cloud, account="stzone", extra_tags={"ValueFormat": value_format})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    [tested] = cloud.calls("storagedata.get_service_properties")
    assert tested.host == cloud.storage.accounts["stzone"].host("blob") and tested.status == 200
    assert helpers.calls(cloud, "storage.get_account") == 1
    helpers.holds_live_key(cloud, "storage-key")
    current = cloud.keyvault.current_secret(VAULT, "storage-key")
    account = cloud.storage.accounts["stzone"]
    expected = helpers.secret_value(account, account.keys["key2"], connection_string=value_format == "ConnectionString")
    helpers.same(current.value, expected, f"the {value_format} for {dns_endpoint_type} endpoints")
    if value_format == "ConnectionString":
        BlobServiceClient.from_connection_string(current.value).get_service_properties()  # the app's view


@pytest.mark.parametrize("lists_every_endpoint", [False, True], ids=["file endpoint only", "every endpoint"])
def test_a_filestorage_account_has_nothing_to_test_and_is_published_untested(
    cloud, verify, caplog, lists_every_endpoint
):
    """A FileStorage account serves Azure Files only; which endpoints ARM lists for it is not documented.
    Under either, no Blob read is tried and the key is published untested, with the log saying so."""
    verify("required")
    cloud.storage.file_storage_lists_every_endpoint = lists_every_endpoint
    cloud.storage.create_account("stfiles", kind="FileStorage")
    helpers.enroll_storage(cloud, account="stfiles", extra_tags={"ValueFormat": "ConnectionString"})
    with caplog.at_level(logging.INFO):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "storage-key"})
    assert status == 200 and body["status"] == "rotated", body
    assert "published untested: it serves Azure Files" in caplog.text
    assert helpers.calls(cloud, "storagedata.get_service_properties") == 0
    helpers.holds_live_key(cloud, "storage-key")
    account = cloud.storage.accounts["stfiles"]
    expected = helpers.secret_value(account, account.keys["key2"], connection_string=True)
    helpers.same(cloud.keyvault.current_secret(VAULT, "storage-key").value, expected, "the EndpointSuffix form")


@pytest.mark.parametrize("host_suffix", ["service.signalr.net", "signalr.azure.cn"])
def test_a_signalr_connection_string_names_the_host_arm_reports(cloud, host_suffix):
    """hostName, not <name>.service.signalr.net: Azure China's SignalR host is <name>.signalr.azure.cn
    (docs.azure.cn, "Connection strings in Azure SignalR Service")."""
    helpers.enroll_keyed(
        cloud, "signalr", "Primary", secret="signalr-key", extra_tags={"ValueFormat": "ConnectionString"}
    )
    service = cloud.signalr.items["signalr-app"]
    service.host_suffix = host_suffix
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "signalr-key"})
    assert status == 200 and body["status"] == "rotated", body
    expected = f"Endpoint=https://signalr-app.{host_suffix};AccessKey={service.keys['Secondary']};Version=1.0;"
    helpers.same(
        cloud.keyvault.current_secret(VAULT, "signalr-key").value, expected, f"a connection string on {host_suffix}"
    )


@pytest.mark.parametrize(
    ("service", "value_format"),
    [("communication", "ConnectionString"), ("communication", "Key"), ("batch", "Key")],
)
def test_hosts_come_from_the_read_that_checks_the_keys_and_cost_no_other(cloud, verify, service, value_format):
    """The connection string and the key test use the hosts the rotation's one resource read reported
    (a long-running regeneration's polls read the resource again, as they must)."""
    verify("required")
    helpers.enroll_keyed(cloud, service, "Primary", secret="hosted", extra_tags={"ValueFormat": value_format})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "hosted"})
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.calls(cloud, f"{service}.get") == 1
    helpers.holds_live_key(cloud, "hosted")


# Retiring tiers (issue 28, item 1) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "sku", "retires"),
    [
        ("redis", None, "2028-09-30"),
        ("managedredis", "Enterprise_E10", "2027-03-31"),
        ("managedredis", "EnterpriseFlash_F300", "2027-03-31"),
        ("managedredis", "Balanced_B5", None),
    ],
)
def test_status_says_when_microsoft_retires_the_tier_of_a_redis_secret(cloud, capsys, kind, sku, retires):
    """Azure Cache for Redis (every Microsoft.Cache/redis cache) and its Enterprise tiers (redisEnterprise
    clusters of an Enterprise SKU) retire; Azure Managed Redis does not."""
    KINDS[kind].enroll(cloud, secret="cache")
    if sku is not None:
        _resource(cloud, "cache").sku = sku
    capsys.readouterr()
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    if retires is None:
        assert "retires" not in out, out
    else:
        assert f"retires on {retires}: move to Azure Managed Redis" in out, out


# API Management subscriptions and Machine Learning online endpoints (issue 28, items 3 and 6) --------------


@pytest.mark.parametrize(
    ("kind", "field", "value", "named"),
    [
        ("apim-subscription", "state", "submitted", "its state is submitted"),
        ("apim-subscription", "state", "expired", "its state is expired"),
        ("mlendpoint", "auth_mode", "AADToken", "authMode is AADToken"),
        ("mlendpoint", "auth_mode", "AMLToken", "authMode is AMLToken"),
    ],
)
def test_a_subscription_that_is_not_active_or_an_endpoint_not_in_key_mode_is_refused(
    cloud, capsys, kind, field, value, named
):
    """Only an active subscription calls APIs (the spec's state); only authMode Key uses the endpoint's keys.
    Refused by rotate (dry run too), status and enroll alike, naming what refuses and the alternative, before
    any key is listed."""
    row = KINDS[kind]
    row.enroll(cloud, secret="refused")
    setattr(_resource(cloud, "refused"), field, value)
    for dry_run in (True, False):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "refused", "dryRun": dry_run})
        assert status == 422 and body["error"]["code"] == "KeyAuthDisabled", body
        message = body["error"]["message"]
        assert named in message and "Microsoft Entra ID" in message, message
    assert main(["status", "--vault", VAULT]) == 0
    out = capsys.readouterr().out
    helpers.PRODUCED.append(out)
    assert named in out, out
    resource_id = cloud.keyvault.current_secret(VAULT, "refused").tags["ProviderAddress"]
    assert main(["enroll", "--vault", VAULT, "--secret", "other", "--resource-id", resource_id]) == 2
    assert "KeyAuthDisabled" in capsys.readouterr().err
    assert helpers.calls(cloud, row.regenerate.replace("regenerate_key", "list_keys")) == 0
    helpers.assert_nothing_written(cloud)


@pytest.mark.parametrize("failures", [1, 3])
def test_an_api_management_key_listing_that_fails_after_the_204_does_not_regenerate_again(cloud, azurite, failures):
    """The 204 changed the key; a listSecrets refused right after it (a 403, as while a role propagates) is not
    a refused regeneration: the trigger reads the keys again as it would for a long-running one (one failure:
    it publishes), or the next trigger does, and Azure is asked once."""
    row = KINDS["apim-subscription"]
    version = row.enroll(cloud, secret="apim-key")
    cloud.inject("apimsubscriptions.list_keys", status=403, code="AuthorizationFailed", skip=1, count=failures)
    event = helpers.event(secret="apim-key", version=version)
    if failures == 1:
        helpers.deliver(event)
    else:
        with contextlib.suppress(RotationError):
            helpers.deliver(event)
        helpers.redeliver_until_done(event)
    assert helpers.calls(cloud, row.regenerate) == 1
    helpers.holds_live_key(cloud, "apim-key")


# Relay and Notification Hubs connection strings (issue 28, item 5) --------------------------------


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind.startswith(("relay-", "notificationhubs-"))])
def test_relay_and_notification_hubs_connection_strings_are_the_service_s_own(cloud, kind):
    """Exactly the connection string the service's own listKeys answer carries for the new key (the
    stand-in's follows live recordings: a Relay entity's rule names its entity, a hub's rule does not)."""
    KINDS[kind].enroll(cloud, secret="sas", extra_tags={"ValueFormat": "ConnectionString"})
    status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "sas"})
    assert status == 200 and body["newCredential"] == "SecondaryKey", body
    answer = servicebus_responses.access_keys(_resource(cloud, "sas"))
    helpers.same(
        cloud.keyvault.current_secret(VAULT, "sas").value,
        answer["secondaryConnectionString"],
        "the service's own secondaryConnectionString",
    )


def test_a_relay_or_notification_hubs_key_the_service_no_longer_lists_gets_no_connection_string(cloud):
    """The connection string is the service's own for the key, or none: never one built around a key
    the rule no longer holds (another rotation regenerated it in between)."""
    from rotators.core.clouds import PUBLIC
    from rotators.core.errors import UpstreamError
    from rotators.core.keys import Description
    from rotators.core.parsing import parse_resource_id
    from rotators.core.resources import Resource

    rule = cloud.relay.create_rule("relay-app", "send", entity=("hybridConnections", "orders"))
    parsed = parse_resource_id(rule.id)
    assert parsed is not None
    resource = Resource(parsed, PUBLIC)
    with pytest.raises(UpstreamError, match="no longer lists the key being written") as refused:
        kind_for(resource.type).connection_string(resource, "k3y-no-longer-held=", Description())
    assert "k3y" not in str(refused.value)


# Container Registry's admin user (issue 28, item 2) -------------------------------------------------


def test_a_registry_whose_admin_user_is_disabled_is_refused_without_listing_its_passwords(cloud):
    """adminUserEnabled false: refused with the passwordless alternative, dry run too, before any listing."""
    helpers.enroll_keyed(cloud, "containerregistry", "password", secret="acr-password")
    cloud.containerregistry.items["containerregistry-app"].keys_off = True
    for dry_run in (True, False):
        status, body = helpers.post_rotate({"vaultName": VAULT, "secretName": "acr-password", "dryRun": dry_run})
        assert status == 422 and body["error"]["code"] == "KeyAuthDisabled", body
        message = body["error"]["message"]
        assert "adminUserEnabled is false" in message and "AcrPull" in message, message
    assert helpers.calls(cloud, "containerregistry.list_keys") == 0
    helpers.assert_nothing_written(cloud)
