"""The stand-in's Microsoft Graph ``applications`` and Entra ID token endpoint answer the real clients as
Microsoft documents and recorded them: azure-core's pipeline with the managed identity for Graph (as the
product's Entra kind will call it), ``azure.identity.ClientSecretCredential`` for the client credentials
grant, reached only through ``HTTPS_PROXY``, ``REQUESTS_CA_BUNDLE`` and ``IDENTITY_ENDPOINT``.

A new ``ClientSecretCredential`` serves each attempt: MSAL caches a 400 answer for 60 s and a token per
client, so reusing one would test the cache, not the endpoint.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
import requests
from azure.core import PipelineClient
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.rest import HttpRequest, HttpResponse
from azure.identity import ClientSecretCredential, DefaultAzureCredential

from localazure.services.base import ISSUED_KEYS
from localazure.services.keyvault import TENANT
from tests import helpers

GRAPH = "graph.microsoft.com"
# Each cloud's Graph host and the login host its applications sign in at (Graph "National cloud deployments").
CLOUDS = [
    ("graph.microsoft.com", "login.microsoftonline.com"),
    ("graph.microsoft.us", "login.microsoftonline.us"),
    ("dod-graph.microsoft.us", "login.microsoftonline.us"),
    ("microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn"),
]
# The fields of addPassword's answer as Azure CLI recorded it live (test_app_credential.yaml, 2022-05-07).
RECORDED_PASSWORD_FIELDS = {
    "@odata.context",
    "customKeyIdentifier",
    "displayName",
    "endDateTime",
    "hint",
    "keyId",
    "secretText",
    "startDateTime",
}


def graph_client(host: str = GRAPH, *, retries: int = 0) -> PipelineClient:
    """Graph through azure-core with a managed-identity token for ``host``, as the product's kind will call it."""
    policies = [
        RetryPolicy(retry_total=retries, retry_backoff_factor=0.01),
        BearerTokenCredentialPolicy(DefaultAzureCredential(), f"https://{host}/.default"),
    ]
    return PipelineClient(f"https://{host}", policies=policies)


def call(client: PipelineClient, method: str, path: str, body: object = None) -> HttpResponse:
    request = HttpRequest(method, f"{client._base_url}/v1.0{path}", json=body)
    response = client.send_request(request)
    response.read()
    return response


def token(cloud, application, secret_text: str, *, login: str = "login.microsoftonline.com", scope: str = "") -> str:
    """A client-credentials token for the application, with a new credential (no MSAL cache in between)."""
    credential = ClientSecretCredential(TENANT, application.app_id, secret_text, authority=login)
    return credential.get_token(scope or f"https://{application.graph_host}/.default").token


def refusal(cloud, application, secret_text: str, **options) -> ClientAuthenticationError:
    with pytest.raises(ClientAuthenticationError) as refused:
        token(cloud, application, secret_text, **options)
    helpers.PRODUCED.append(str(refused.value))
    return refused.value


def graph_error(response: HttpResponse, status: int, code: str) -> dict:
    """Graph's envelope: the code, a message, and innerError with the date and request IDs."""
    assert response.status_code == status, response.text()
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert response.headers["request-id"] == error["innerError"]["request-id"]
    return error


def add(client: PipelineClient, application, **password) -> HttpResponse:
    return call(client, "POST", f"{application.path}/addPassword", {"passwordCredential": password})


# Graph ------------------------------------------------------------------------------------------------


def test_an_application_is_read_by_object_id_or_client_id_with_select(cloud):
    application = cloud.graph.create_application(display_name="orders", sign_in_audience="AzureADMultipleOrgs")
    older = cloud.graph.seed_password(application, display_name="older")
    newer = cloud.graph.seed_password(application, display_name="newer")
    client = graph_client()

    whole = call(client, "GET", application.path)
    assert whole.status_code == 200
    assert whole.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    body = whole.json()
    assert body["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#applications/$entity"
    assert (body["id"], body["appId"]) == (application.object_id, application.app_id)
    assert (body["displayName"], body["signInAudience"]) == ("orders", "AzureADMultipleOrgs")
    # Newest first, as recorded; the secret itself never again.
    assert [p["keyId"] for p in body["passwordCredentials"]] == [newer.key_id, older.key_id]
    assert all(p["secretText"] is None and len(p["hint"]) == 3 for p in body["passwordCredentials"])

    selected = call(client, "GET", f"/applications(appId='{application.app_id}')?$select=id,appId,passwordCredentials")
    assert selected.status_code == 200
    assert set(selected.json()) == {"@odata.context", "id", "appId", "passwordCredentials"}
    assert selected.json()["@odata.context"].endswith("#applications(id,appId,passwordCredentials)/$entity")
    quoted = call(client, "GET", f"/applications(appId=%27{application.app_id}%27)?$select=signInAudience")
    assert quoted.json()["signInAudience"] == "AzureADMultipleOrgs"

    typo = call(client, "GET", f"{application.path}?$select=passwordCredential")
    assert "Could not find a property named 'passwordCredential'" in graph_error(typo, 400, "BadRequest")["message"]


def test_add_password_answers_the_secret_once_as_recorded(cloud):
    application = cloud.graph.create_application()
    client = graph_client()

    answer = add(client, application, displayName="rotated by kv-app/orders", endDateTime="2027-03-01T00:00:00Z")
    assert answer.status_code == 200
    password = answer.json()
    assert set(password) == RECORDED_PASSWORD_FIELDS
    assert password["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential"
    assert password["customKeyIdentifier"] is None and password["displayName"] == "rotated by kv-app/orders"
    assert password["endDateTime"] == "2027-03-01T00:00:00Z"
    secret_text = password["secretText"]
    assert len(secret_text) == 40 and password["hint"] == secret_text[:3]
    assert secret_text in ISSUED_KEYS

    listed = call(client, "GET", f"{application.path}?$select=passwordCredentials").json()["passwordCredentials"]
    assert [(p["keyId"], p["secretText"]) for p in listed] == [(password["keyId"], None)]
    [held] = cloud.graph.passwords(application)
    helpers.same(held.secret_text, secret_text, "the secret Graph holds")

    default = add(client, application).json()  # no dates: from now, for two years
    start = helpers.now().fromisoformat(default["startDateTime"].replace("Z", "+00:00"))
    end = helpers.now().fromisoformat(default["endDateTime"].replace("Z", "+00:00"))
    assert abs((start - helpers.now()).total_seconds()) < 60 and 729 <= (end - start).days <= 731
    assert default["displayName"] is None


def test_remove_password_answers_204_and_the_password_is_gone(cloud):
    application = cloud.graph.create_application()
    kept, removed = cloud.graph.seed_password(application), cloud.graph.seed_password(application)
    client = graph_client()

    answer = call(client, "POST", f"{application.path}/removePassword", {"keyId": removed.key_id})
    assert answer.status_code == 204 and answer.text() == ""
    assert [p.key_id for p in cloud.graph.passwords(application)] == [kept.key_id]
    assert [r.route for r in cloud.writes()] == ["graph.remove_password"]


@pytest.mark.parametrize("unknown_key_removal", ["204", "400", "404"])
def test_removing_a_key_the_application_does_not_hold_is_an_option(cloud, unknown_key_removal):
    """Nothing documents or records this answer: each plausible one is offered."""
    cloud.graph.unknown_key_removal = unknown_key_removal
    application = cloud.graph.create_application()
    held = cloud.graph.seed_password(application)

    answer = call(graph_client(), "POST", f"{application.path}/removePassword", {"keyId": _guid()})
    if unknown_key_removal == "204":
        assert answer.status_code == 204
    else:
        code = "Request_BadRequest" if unknown_key_removal == "400" else "Request_ResourceNotFound"
        graph_error(answer, int(unknown_key_removal), code)
    assert [p.key_id for p in cloud.graph.passwords(application)] == [held.key_id]


def test_an_identity_that_does_not_own_the_application_is_refused_as_recorded(cloud):
    mine = cloud.graph.create_application()
    theirs = cloud.graph.create_application(owners=[_guid()])
    client = graph_client()

    refused = add(client, theirs)
    error = graph_error(refused, 403, "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."
    removal = call(client, "POST", f"{theirs.path}/removePassword", {"keyId": _guid()})
    graph_error(removal, 403, "Authorization_RequestDenied")
    assert cloud.graph.passwords(theirs) == []
    assert add(client, mine).status_code == 200

    # Whether OwnedBy reads applications it does not own is not settled: both ways are offered.
    assert call(client, "GET", theirs.path).status_code == 200
    cloud.graph.owned_by_reads_others = False
    graph_error(call(client, "GET", theirs.path), 403, "Authorization_RequestDenied")

    cloud.graph.grant("Application.ReadWrite.All")  # every application, owner or not
    assert add(client, theirs).status_code == 200


def test_an_identity_without_the_graph_permission_is_refused(cloud):
    application = cloud.graph.create_application()
    cloud.graph.revoke("Application.ReadWrite.OwnedBy")
    client = graph_client()

    graph_error(call(client, "GET", application.path), 403, "Authorization_RequestDenied")
    graph_error(add(client, application), 403, "Authorization_RequestDenied")
    assert cloud.graph.passwords(application) == []

    cloud.graph.grant("Application.ReadWrite.OwnedBy")
    assert add(client, application).status_code == 200
    with pytest.raises(ValueError, match="unknown Graph application permission"):
        cloud.graph.grant("Application.ReadWrite.Everything")


def test_an_unknown_application_is_404_as_graph_answers(cloud):
    client = graph_client()
    missing = _guid()
    error = graph_error(call(client, "GET", f"/applications/{missing}"), 404, "Request_ResourceNotFound")
    assert error["message"] == (
        f"Resource '{missing}' does not exist or one of its queried reference-property objects are not present."
    )
    graph_error(
        call(client, "POST", f"/applications(appId='{missing}')/addPassword", {}), 404, "Request_ResourceNotFound"
    )
    graph_error(call(client, "GET", "/applicationz"), 400, "BadRequest")


def test_a_policy_capping_the_lifetime_refuses_a_longer_password(cloud):
    application = cloud.graph.create_application()
    policy = cloud.graph.set_policy(max_lifetime=timedelta(days=90))
    client = graph_client()
    start = helpers.now()

    too_long = add(client, application, startDateTime=_iso(start), endDateTime=_iso(start + timedelta(days=91)))
    error = graph_error(too_long, 400, "CredentialInvalidLifetimeAsPerAppPolicy")
    assert error["message"] == f"Credential lifetime exceeds the max value allowed as per assigned policy '{policy}'."
    assert error["details"] == [{"code": "InvalidKeyEndDate", "message": error["message"], "target": "EndDate"}]
    graph_error(add(client, application), 400, "CredentialInvalidLifetimeAsPerAppPolicy")  # default: two years
    assert cloud.graph.passwords(application) == []
    fits = add(client, application, startDateTime=_iso(start), endDateTime=_iso(start + timedelta(days=90)))
    assert fits.status_code == 200

    # An application's own policy replaces the tenant default; one created before a restriction applies is free.
    exempt = cloud.graph.create_application()
    cloud.graph.set_policy(application=exempt)
    older = cloud.graph.create_application(created=start - timedelta(days=400))
    cloud.graph.set_policy(max_lifetime=timedelta(days=90), applies_after=start - timedelta(days=1))
    assert add(client, exempt).status_code == 200
    assert add(client, older).status_code == 200


def test_a_policy_blocking_passwords_refuses_any(cloud):
    application = cloud.graph.create_application()
    cloud.graph.set_policy(block_password_addition=True, application=application)

    graph_error(add(graph_client(), application), 400, "CredentialTypeNotAllowedAsPerAppPolicy")
    assert cloud.graph.passwords(application) == []


@pytest.mark.parametrize("audience", ["AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"])
def test_applications_for_personal_accounts_hold_two_passwords(cloud, audience):
    limited = cloud.graph.create_application(sign_in_audience=audience)
    unlimited = cloud.graph.create_application(sign_in_audience="AzureADMyOrg")
    client = graph_client()
    for _ in range(2):
        assert add(client, limited).status_code == 200
        assert add(client, unlimited).status_code == 200

    error = graph_error(add(client, limited), 400, "TooManyAppPasswords")
    assert error["message"] == "Not allowed to add 3 passwords. You can only add a maximum of 2 passwords."
    assert error["details"] == [{"target": "passwordCredentials", "code": "TooManyAppPasswords"}]
    assert len(cloud.graph.passwords(limited)) == 2
    assert add(client, unlimited).status_code == 200


def test_throttling_and_a_lost_answer_come_from_fault_injection(cloud):
    application = cloud.graph.create_application()
    cloud.inject("graph.add_password", status=429, retry_after=3)
    throttled = add(graph_client(), application)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert cloud.graph.passwords(application) == []

    # The password is added, its answer lost: the secret is gone with it.
    cloud.inject("graph.add_password", after=True, drop=True)
    with pytest.raises(ServiceRequestError):
        add(graph_client(), application)
    assert len(cloud.graph.passwords(application)) == 1


def test_reads_may_lag_writes_as_an_option(cloud):
    cloud.graph.read_lag_seconds = 30
    application = cloud.graph.create_application()
    client = graph_client()

    def listed() -> list[str]:
        answer = call(client, "GET", f"{application.path}?$select=passwordCredentials").json()
        return [p["keyId"] for p in answer["passwordCredentials"]]

    added = add(client, application).json()["keyId"]
    assert listed() == []
    cloud.advance(31)
    assert listed() == [added]
    call(client, "POST", f"{application.path}/removePassword", {"keyId": added})
    assert listed() == [added] and cloud.graph.passwords(application) == []
    cloud.advance(31)
    assert listed() == []


def test_graph_accepts_only_a_managed_identity_token_for_its_own_host(cloud):
    application = cloud.graph.create_application()
    url = f"https://{GRAPH}/v1.0{application.path}"

    def bearer(resource: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {DefaultAzureCredential().get_token(f'{resource}/.default').token}"}

    empty = requests.get(url, timeout=5)
    assert empty.status_code == 401 and empty.json()["error"]["message"] == "Access token is empty."
    for resource in ("https://vault.azure.net", "https://graph.microsoft.us"):
        wrong = requests.get(url, headers=bearer(resource), timeout=5)
        assert wrong.status_code == 401
        assert wrong.json()["error"] == {**wrong.json()["error"], "code": "InvalidAuthenticationToken"}
        assert wrong.json()["error"]["message"] == "Access token validation failure. Invalid audience."
    # The application's own token from the login endpoint is not the managed identity's.
    secret_text = cloud.graph.seed_password(application).secret_text
    foreign = requests.get(
        url, headers={"Authorization": f"Bearer {token(cloud, application, secret_text)}"}, timeout=5
    )
    assert foreign.status_code == 401 and foreign.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert requests.get(url, headers=bearer(f"https://{GRAPH}"), timeout=5).status_code == 200


# The token endpoint -------------------------------------------------------------------------------------


def test_a_new_password_is_refused_while_it_propagates_then_accepted(cloud):
    cloud.graph.propagation_seconds = 60
    application = cloud.graph.create_application()
    secret_text = add(graph_client(), application).json()["secretText"]

    assert "AADSTS7000215: Invalid client secret provided." in refusal(cloud, application, secret_text).message
    cloud.advance(61)
    assert token(cloud, application, secret_text)


def test_a_removed_a_wrong_or_another_applications_password_is_refused(cloud):
    application = cloud.graph.create_application()
    other = cloud.graph.create_application()
    client = graph_client()
    answer = add(client, application).json()
    assert token(cloud, application, answer["secretText"])

    assert "AADSTS7000215" in refusal(cloud, application, "Q_e8Q~not-the-secret").message
    assert "AADSTS7000215" in refusal(cloud, other, answer["secretText"]).message
    call(client, "POST", f"{application.path}/removePassword", {"keyId": answer["keyId"]})
    assert "AADSTS7000215" in refusal(cloud, application, answer["secretText"]).message


@pytest.mark.parametrize("code", [7000222, 7000215])
def test_an_expired_password_is_refused_with_the_code_chosen(cloud, code):
    cloud.graph.expired_secret_code = code
    application = cloud.graph.create_application()
    expired = cloud.graph.seed_password(application, end=helpers.now() + timedelta(hours=1))
    assert token(cloud, application, expired.secret_text)
    cloud.advance(3601)

    assert f"AADSTS{code}:" in refusal(cloud, application, expired.secret_text).message


def test_the_token_endpoint_refuses_as_documented(cloud):
    application = cloud.graph.create_application()
    secret_text = cloud.graph.seed_password(application).secret_text
    endpoint = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": application.app_id,
        "client_secret": "Q_e8Q~not-the-secret",
        "scope": "https://graph.microsoft.com/.default",
    }
    expectations = [
        ({}, 401, "invalid_client", 7000215),
        ({"client_id": _guid()}, 400, "unauthorized_client", 700016),
        ({"scope": "https://graph.microsoft.com/Application.ReadWrite.OwnedBy"}, 400, "invalid_scope", 1002012),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ]
    for change, status, error, code in expectations:
        answer = requests.post(endpoint, data={**form, **change}, timeout=5)
        body = answer.json()
        assert (answer.status_code, body["error"], body["error_codes"]) == (status, error, [code]), body
        assert set(body) == {
            "error",
            "error_description",
            "error_codes",
            "timestamp",
            "trace_id",
            "correlation_id",
            "error_uri",
        }
        assert body["error_description"].startswith(f"AADSTS{code}: ")
        assert f"Trace ID: {body['trace_id']}" in body["error_description"]
        assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"

    unknown_tenant = requests.post(endpoint.replace(TENANT, _guid()), data=form, timeout=5)
    assert unknown_tenant.status_code == 400 and unknown_tenant.json()["error_codes"] == [90002]
    # MSAL words this refusal of its discovery request itself.
    with pytest.raises(ClientAuthenticationError, match="Unable to get authority configuration"):
        ClientSecretCredential(_guid(), application.app_id, secret_text).get_token(
            "https://graph.microsoft.com/.default"
        )
    in_another_cloud = cloud.graph.create_application(graph_host="graph.microsoft.us")
    assert "AADSTS700016" in refusal(cloud, in_another_cloud, secret_text, scope=f"https://{GRAPH}/.default").message
    granted = requests.post(endpoint, data={**form, "client_secret": secret_text}, timeout=5).json()
    assert granted["token_type"] == "Bearer" and granted["expires_in"] == 3599 and granted["access_token"]


def test_discovery_documents_point_each_cloud_at_its_own_host(cloud):
    for login in ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"):
        configuration = requests.get(
            f"https://{login}/{TENANT}/v2.0/.well-known/openid-configuration", timeout=5
        ).json()
        assert configuration["token_endpoint"] == f"https://{login}/{TENANT}/oauth2/v2.0/token"
        assert configuration["authorization_endpoint"] == f"https://{login}/{TENANT}/oauth2/v2.0/authorize"
        issuer = "login.partner.microsoftonline.cn" if login == "login.chinacloudapi.cn" else login
        assert configuration["issuer"] == f"https://{issuer}/{TENANT}/v2.0"
        instances = requests.get(
            f"https://{login}/common/discovery/instance",
            params={"api-version": "1.1", "authorization_endpoint": f"https://{login}/common/oauth2/authorize"},
            timeout=5,
        ).json()
        assert instances["tenant_discovery_endpoint"] == f"https://{login}/common/v2.0/.well-known/openid-configuration"
        assert any(login in group["aliases"] for group in instances["metadata"])


@pytest.mark.parametrize(("graph_host", "login"), CLOUDS)
def test_each_cloud_has_its_own_graph_and_login_hosts(cloud, graph_host, login):
    application = cloud.graph.create_application(graph_host=graph_host)
    client = graph_client(graph_host)

    assert call(client, "GET", application.path).json()["@odata.context"].startswith(f"https://{graph_host}/v1.0/")
    secret_text = add(client, application).json()["secretText"]
    assert token(cloud, application, secret_text, login=login)
    # Another cloud's directory does not hold it.
    elsewhere = next(other for other, other_login in CLOUDS if other_login != login)
    graph_error(call(graph_client(elsewhere), "GET", application.path), 404, "Request_ResourceNotFound")
    other_login = next(other_login for _, other_login in CLOUDS if other_login != login)
    assert "AADSTS700016" in refusal(cloud, application, secret_text, login=other_login).message


def test_no_secret_reaches_the_stand_ins_log_or_any_log_line(cloud, caplog):
    caplog.set_level(logging.DEBUG)
    application = cloud.graph.create_application()
    client = graph_client()
    answer = add(client, application).json()
    token(cloud, application, answer["secretText"])
    refusal(cloud, application, answer["secretText"][::-1])
    call(client, "POST", f"{application.path}/removePassword", {"keyId": answer["keyId"]})

    logged = [repr(record) for record in cloud.calls()] + [record.getMessage() for record in caplog.records]
    assert any("addPassword" in line for line in logged) and any("oauth2/v2.0/token" in line for line in logged)
    leaked = sum(1 for line in logged if answer["secretText"] in line or answer["secretText"][::-1] in line)
    assert leaked == 0, f"{leaked} log line(s) carry a client secret"


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _guid() -> str:
    return str(uuid.uuid4())
