"""Verify before publish for AI Search admin keys, Web PubSub, Batch, Communication Services and App
Configuration: the same promises as for Storage and Cosmos DB (tests/test_verify.py), through each
service's own SDK and the stand-in's data plane, which accepts only the resource's live keys,
authorized as the service documents."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

import pytest

from localazure.services.base import ISSUED_KEYS
from rotators.core.clouds import PUBLIC
from rotators.core.errors import DataPlaneUnreachable, KeyRefused
from rotators.core.parsing import parse_resource_id
from rotators.core.resources import Resource
from rotators.kinds import kind_for
from tests import helpers
from tests.helpers import VAULT

SECRET = "verified-key"


@dataclass(frozen=True)
class Row:
    service: str  # the stand-in's ARM service (cloud.<service>)
    held: str  # the credential the secret starts on
    data_plane: str  # the stand-in's data plane (cloud.<data_plane>)
    route: str  # the data-plane read the test makes
    options: tuple[tuple[str, object], ...] = ()  # the data plane's options this row runs under


# Container Registry under each answer its login server may give (localazure/services/containerregistrydata).
_REGISTRY = ("containerregistry", "password", "containerregistrydata", "containerregistrydata.version_check")
KINDS = {
    "search": Row("search", "primary", "searchdata", "searchdata.get_service_statistics"),
    "webpubsub": Row("webpubsub", "Primary", "webpubsubdata", "webpubsubdata.group_exists"),
    "batch": Row("batch", "Primary", "batchdata", "batchdata.list_pools"),
    "containerregistry": Row(*_REGISTRY),  # a refused password: Basic realm="Azure Container Registry"
    "containerregistry-bearer-refusal": Row(*_REGISTRY, (("refusal_challenge", "bearer"),)),
    "containerregistry-token-only": Row(*_REGISTRY, (("basic_on_v2", False),)),
    "communication": Row("communication", "Primary", "communicationdata", "communicationdata.list_phone_numbers"),
    "appconfiguration": Row("appconfiguration", "Primary", "appconfigdata", "appconfigdata.list_key_values"),
    "appconfiguration-read-only": Row(
        "appconfiguration", "Primary Read Only", "appconfigdata", "appconfigdata.list_key_values"
    ),
}
ROWS = pytest.mark.parametrize("kind", list(KINDS))


def _enroll(cloud, kind: str) -> str:
    for option, value in KINDS[kind].options:
        setattr(_data_plane(cloud, kind), option, value)
    return helpers.enroll_keyed(cloud, KINDS[kind].service, KINDS[kind].held, secret=SECRET)


def _data_plane(cloud, kind: str):
    return getattr(cloud, KINDS[kind].data_plane)


def _rotate() -> tuple[int, dict]:
    return helpers.post_rotate({"vaultName": VAULT, "secretName": SECRET})


def _tested(cloud, kind: str) -> int:
    return helpers.calls(cloud, KINDS[kind].route)


def _current(cloud) -> str:
    return cloud.keyvault.current_secret(VAULT, SECRET).version


@ROWS
def test_a_new_key_the_service_accepts_is_published(cloud, verify, kind):
    verify(None)  # the default: best-effort
    _enroll(cloud, kind)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert _tested(cloud, kind) == 1
    helpers.holds_live_key(cloud, SECRET)
    helpers.assert_no_key_in(helpers.PRODUCED, ISSUED_KEYS)


@ROWS
def test_a_key_refused_while_it_propagates_is_published_once_accepted_within_the_window(cloud, verify, kind):
    verify("required")
    _data_plane(cloud, kind).propagation_seconds = 1.5
    _enroll(cloud, kind)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert _tested(cloud, kind) >= 2  # refused at first, then accepted after a backoff
    assert helpers.regenerations(cloud) == 1
    helpers.holds_live_key(cloud, SECRET)


@ROWS
def test_a_key_refused_past_the_window_stays_pending_then_the_next_trigger_publishes_it(cloud, verify, kind):
    verify("best-effort")
    _data_plane(cloud, kind).propagation_seconds = 3600
    _enroll(cloud, kind)
    before = _current(cloud)
    status, body = _rotate()
    assert status == 202 and body["status"] == "pending" and "not accepted" in body["reason"], body
    assert _current(cloud) == before  # never published while refused
    assert _tested(cloud, kind) >= 2  # retried with backoff inside the trigger's time
    cloud.advance(3600)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.regenerations(cloud) == 1  # tested again, never regenerated again
    helpers.holds_live_key(cloud, SECRET)


@ROWS
@pytest.mark.parametrize(
    ("mode", "published", "tested_later"),
    [("best-effort", True, False), ("required", False, True), ("off", True, False)],
)
def test_an_unreachable_data_plane_under_each_mode(cloud, verify, caplog, kind, mode, published, tested_later):
    verify(mode)
    _data_plane(cloud, kind).reachable = False  # behind a firewall the function is outside of
    _enroll(cloud, kind)
    before = _current(cloud)
    with caplog.at_level(logging.INFO):
        status, body = _rotate()
    assert (status == 200) is published and (body["status"] == "rotated") is published, body
    if mode == "best-effort":
        assert "published untested" in caplog.text
    if not published:
        assert status == 202 and "cannot be reached" in body["reason"], body
        assert _current(cloud) == before
        _data_plane(cloud, kind).reachable = True
        status, body = _rotate()
        assert status == 200 and body["status"] == "rotated", body
    assert helpers.regenerations(cloud) == 1
    assert (_tested(cloud, kind) > 0) is tested_later  # a refused CONNECT logs no call; off tests nothing
    helpers.holds_live_key(cloud, SECRET)
    helpers.assert_no_key_in([caplog.text, str(body)], ISSUED_KEYS)


@pytest.mark.parametrize(
    "kind",
    [
        "search",
        "webpubsub",
        "batch",
        "containerregistry",
        "containerregistry-bearer-refusal",
        "containerregistry-token-only",
        "communication",
    ],
)
def test_the_stand_in_accepts_only_live_keys_and_the_kind_says_which_is_which(cloud, kind):
    """What makes the tests above tests: a stale key is refused (KeyRefused), a live one accepted."""
    row = KINDS[kind]
    _enroll(cloud, kind)
    stand_in = helpers.resource_of(cloud, cloud.keyvault.current_secret(VAULT, SECRET).tags["ProviderAddress"])
    parsed = parse_resource_id(stand_in.id)
    assert parsed is not None
    resource, product = Resource(parsed, PUBLIC), kind_for(stand_in.provider)
    described = product.describe(resource)
    alternate = next(name for name in stand_in.keys if name != row.held)
    stale = stand_in.keys[alternate]
    stand_in.regenerate(alternate)
    assert product.verify_key(resource, row.held, stand_in.keys[row.held], described) is None
    assert product.verify_key(resource, alternate, stand_in.keys[alternate], described) is None
    with pytest.raises(KeyRefused):
        product.verify_key(resource, alternate, stale, described)


# AI Search answers a wrong api-key and a caller outside its IP firewall with the same bare 403.


@pytest.mark.parametrize(("mode", "published"), [("best-effort", True), ("required", False)])
def test_a_search_service_behind_its_ip_firewall_is_unreachable_not_a_refused_key(cloud, verify, mode, published):
    verify(mode)
    cloud.searchdata.firewalled = True
    _enroll(cloud, "search")
    status, body = _rotate()
    assert (body["status"] == "rotated") is published, body
    if not published:
        assert status == 202 and "both admin keys answered 403" in body["reason"], body
    # Asked once with the new key, once with the key in use: then known unreachable, not retried for 60 s.
    assert _tested(cloud, "search") == 2
    assert helpers.regenerations(cloud) == 1


def test_a_search_service_that_answers_401_to_a_wrong_key_waits_out_the_propagation_too(cloud, verify):
    verify("required")
    cloud.searchdata.refusal_status = 401  # authOptions aadOrApiKey, aadAuthFailureMode http401WithBearerChallenge
    cloud.searchdata.propagation_seconds = 3600
    _enroll(cloud, "search")
    status, body = _rotate()
    assert status == 202 and "not accepted" in body["reason"], body
    cloud.advance(3600)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.regenerations(cloud) == 1


def test_a_search_key_refused_while_the_key_in_use_works_is_a_refusal(cloud):
    """The firewall check asks the key in use only after a 403, and a working key in use keeps a refusal a refusal."""
    _enroll(cloud, "search")
    stand_in = cloud.search.items["search-app"]
    parsed = parse_resource_id(stand_in.id)
    assert parsed is not None
    resource, product = Resource(parsed, PUBLIC), kind_for(stand_in.provider)
    described = product.describe(resource)
    with pytest.raises(KeyRefused):
        product.verify_key(resource, "secondary", "not-the-key", described)
    assert helpers.calls(cloud, "search.list_keys") == 1
    cloud.searchdata.firewalled = True
    with pytest.raises(DataPlaneUnreachable):
        product.verify_key(resource, "secondary", stand_in.keys["secondary"], described)


def test_app_configuration_takes_only_a_live_key_s_signature(cloud):
    """HMAC-SHA256 as Microsoft documents it: the id names the key, the signature proves its value."""
    from azure.appconfiguration import AzureAppConfigurationClient
    from azure.core.exceptions import ClientAuthenticationError

    _enroll(cloud, "appconfiguration")
    store = cloud.appconfiguration.items["appconfiguration-app"]
    stale = store.keys["Secondary"]
    store.regenerate("Secondary", new_id=False)

    def listing(secret: str) -> list:
        endpoint = f"Endpoint=https://{store.name}.azconfig.io;Id={store.ids['Secondary']};Secret={secret}"
        client = AzureAppConfigurationClient.from_connection_string(endpoint, api_version="2023-11-01")
        return list(client.list_configuration_settings(key_filter="anything"))

    assert listing(store.keys["Secondary"]) == []
    with pytest.raises(ClientAuthenticationError):
        listing(stale)


@pytest.mark.parametrize("location", ["unitedstates", None])
def test_communication_keys_are_tested_on_the_host_arm_reports(cloud, verify, location):
    """Real connection strings carry the data location in the host, the spec example does not: hostName decides."""
    verify("required")
    _enroll(cloud, "communication")
    cloud.communication.items["communication-app"].data_location = location
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert _tested(cloud, "communication") == 1
    helpers.holds_live_key(cloud, SECRET)


# Container Registry: the admin password tested as docker login uses it (issue 28, item 2).


@pytest.mark.parametrize(
    ("kind", "token_requests"),
    [("containerregistry", 0), ("containerregistry-bearer-refusal", 0), ("containerregistry-token-only", 1)],
)
def test_a_registry_password_is_tested_under_each_answer_v2_may_give_basic_credentials(
    cloud, verify, kind, token_requests
):
    """/v2/ takes Basic credentials and refuses a wrong password with a Basic challenge (Azure/acr#651); the
    ACR team plans a Bearer challenge instead, and a 2019 report had /v2/ take none. Under each, a live
    password is published and a stale one refused; the tests above run under each too."""
    verify("required")
    _enroll(cloud, kind)
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    assert helpers.calls(cloud, "containerregistrydata.token") == token_requests
    helpers.holds_live_key(cloud, SECRET)
    registry = cloud.containerregistry.items["containerregistry-app"]
    parsed = parse_resource_id(registry.id)
    assert parsed is not None
    resource, product = Resource(parsed, PUBLIC), kind_for(registry.provider)
    stale = registry.keys["password"]
    registry.regenerate("password")
    with pytest.raises(KeyRefused):
        product.verify_key(resource, "password", stale, product.describe(resource))
    refused = cloud.calls("containerregistrydata.version_check")[-1]
    assert refused.status == 401
    helpers.assert_no_key_in(helpers.PRODUCED, ISSUED_KEYS)
    basic = base64.b64encode(f"{registry.name}:{stale}".encode()).decode()
    helpers.assert_no_key_in(helpers.PRODUCED, {basic})  # nor the Authorization header's value


@pytest.mark.parametrize("suffix", ["azurecr.io", "azurecr.cn", "azurecr.us"])
def test_a_registry_password_is_tested_on_the_login_server_arm_reports(cloud, verify, suffix):
    """loginServer, not a host built from the name: Azure China's and US Government's registries are
    <name>.azurecr.cn and <name>.azurecr.us (azure-cli's cloud suffixes)."""
    verify("required")
    _enroll(cloud, "containerregistry")
    cloud.containerregistry.items["containerregistry-app"].login_suffix = suffix
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    [tested] = cloud.calls("containerregistrydata.version_check")
    assert tested.host == f"containerregistry-app.{suffix}" and tested.status == 200
    assert helpers.calls(cloud, "containerregistry.get") == 1


def test_a_registry_whose_login_server_arm_spells_in_mixed_case_is_tested_end_to_end(cloud, verify):
    """RegistryGet.json spells loginServer myRegistry.azurecr.io: the token request sends back the challenge's
    service, whatever case ARM used."""
    verify("required")
    cloud.containerregistrydata.basic_on_v2 = False  # the two-request path
    registry = cloud.containerregistry.create("ContainerRegistry-App")
    helpers._enroll(cloud, registry, SECRET, credential="password")
    status, body = _rotate()
    assert status == 200 and body["status"] == "rotated", body
    [token] = cloud.calls("containerregistrydata.token")
    assert token.status == 200
    helpers.holds_live_key(cloud, SECRET)


@pytest.mark.parametrize(
    ("status", "challenge", "request_url"),
    [
        (
            401,
            'Bearer realm="https://reg.azurecr.io/oauth2/token",service="reg.azurecr.io"',
            "https://reg.azurecr.io/oauth2/token?service=reg.azurecr.io",
        ),
        (
            401,
            'Bearer realm="https://Reg.azurecr.io/oauth2/token?tenant=x", service="Reg.azurecr.io"',
            "https://Reg.azurecr.io/oauth2/token?tenant=x&service=Reg.azurecr.io",
        ),
        (401, 'Bearer realm="https://reg.azurecr.io/oauth2/token"', "https://reg.azurecr.io/oauth2/token"),
        (401, 'Bearer realm="https://elsewhere.example/oauth2/token",service="reg.azurecr.io"', None),
        (401, 'Bearer realm="http://reg.azurecr.io/oauth2/token"', None),
        (401, 'Bearer realm="https://reg.azurecr.io:8443/oauth2/token"', None),
        (401, 'Basic realm="Azure Container Registry"', None),
        (403, 'Bearer realm="https://reg.azurecr.io/oauth2/token"', None),
    ],
)
def test_the_password_goes_to_no_token_endpoint_but_the_registry_s_own(status, challenge, request_url):
    """A challenge cannot lead the admin password to another host, scheme or port; its service goes back as given."""
    from rotators.kinds.containerregistry import token_request

    assert token_request(status, challenge, "reg.azurecr.io") == request_url
