"""Microsoft Entra ID application passwords (client secrets), through Microsoft Graph.

Unlike the keys, a password is never regenerated: a rotation adds one (``addPassword``), tests it with a
client credentials token request, publishes it, and then removes the passwords this product added for the
same secret that neither the new version nor the previous one holds (``removePassword``). Sources:

* ``POST /applications/{id}/addPassword``: 200 with a ``passwordCredential`` whose ``secretText`` Graph
  returns in this answer only; ``removePassword`` with ``{"keyId"}``: 204 (learn
  ``graph/api/application-addpassword``, ``graph/api/application-removepassword``). Neither takes an
  idempotency key, so addPassword is sent once (``retry_total=0``: azure-core retries a POST on 500/503/504)
  and a lost answer is recognised afterwards by the password's display name.
* ``GET /applications/{id}`` (or ``(appId='…')``) with ``$select``: ``passwordCredentials`` carry ``keyId``,
  ``displayName``, dates and ``hint``, the secret's first three characters (learn ``graph/api/application-get``,
  ``graph/api/resources/passwordcredential``).
* Refusals, by Graph's ``error.code``: 403 ``Authorization_RequestDenied`` (Azure CLI's live recording
  ``test_app_credential.yaml``), 400 ``CredentialInvalidLifetimeAsPerAppPolicy`` (a real body in
  OfficeDev/microsoft-365-agents-toolkit#10998), ``CredentialTypeNotAllowedAsPerAppPolicy`` (the code Teams
  Toolkit handles), ``TooManyAppPasswords`` (a real body in Azure/azure-cli#12946).
* The token test: ``AADSTS7000215`` answers a wrong secret and one that has not propagated alike
  (hashicorp/vault-plugin-secrets-azure#57); only time tells them apart. MSAL caches a 400 answer for 60 s
  and a token per client, so each attempt builds a new ``ClientSecretCredential``.

Graph permissions are not Azure RBAC: this kind has no ARM role (README, "Entra ID applications", says how
the function's identity gets ``Application.ReadWrite.OwnedBy`` and becomes an owner).
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core import deadline
from rotators.core.clouds import Cloud, VaultAddress
from rotators.core.errors import AccessDenied, AzureAnswer, NotRotatable, ResourceNotFound, UpstreamError
from rotators.core.parsing import GRAPH_APPLICATIONS, ApplicationPath
from rotators.core.resources import Credential, Resource
from rotators.core.settings import DOD_GRAPH_HOST, get_settings

if TYPE_CHECKING:
    from azure.core.rest import HttpResponse

# Every password of an application is one "key" for the lock: one secret rotates an application's passwords.
PASSWORDS = "passwords"
PRODUCT = "key-rotators"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = "%Y%m%dT%H%M%SZ"
STAGING_SUFFIX = "-next-password"
STAGING_OWNER = "PasswordOf"  # the staging version's tag naming the secret whose password it keeps
# Key Vault secret names: 1-127 letters, digits and hyphens.
MAX_SECRET_NAME = 127 - len(STAGING_SUFFIX)
_AADSTS = re.compile(r"AADSTS([0-9]{5,7})")
# Key Vault's challenge names the tenant: Bearer authorization="https://login.microsoftonline.com/<tenant>"
# (a live recording in shared/recordings, azure-sdk-assets keyvault 7.6).
_CHALLENGE_TENANT = re.compile(r'authorization(?:_uri)?="https://[a-z0-9.-]+/([0-9a-f-]{36})"', re.IGNORECASE)
_NOT_YET = "7000215"  # "Invalid client secret provided": wrong, or not propagated yet


class _KeyIds(Mapping[str, Credential]):
    """``CredentialId`` of an application: the ``keyId`` (a GUID) of the password the version holds.

    Any GUID is a valid value; the password's existence is checked against Graph, not here. Each
    credential's key is :data:`PASSWORDS`, so a contract's key pair, and its lock, is the application's.
    """

    def __getitem__(self, tag: str) -> Credential:
        if not _GUID.fullmatch(tag):
            raise KeyError(tag)
        return Credential(tag, PASSWORDS, tag)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def values(self) -> Any:  # what a refusal lists as expected
        return [Credential("the keyId (a GUID) of the application password the secret holds", PASSWORDS, "")]


@dataclass(frozen=True)
class Password:
    """One password as Graph lists it; ``hint`` is the secret's first three characters (never shown)."""

    key_id: str
    display_name: str | None
    end: str | None
    hint: str = field(repr=False)

    @property
    def ends(self) -> datetime:
        """When the password stops working (Graph writes ``…Z``); never, for one listed without an end."""
        if not self.end:
            return datetime.max.replace(tzinfo=timezone.utc)
        return datetime.fromisoformat(self.end.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Application:
    """What one read of the application tells: its client ID, who may sign in, its passwords."""

    app_id: str
    sign_in_audience: str
    passwords: tuple[Password, ...]

    def password(self, key_id: str) -> Password | None:
        return next((p for p in self.passwords if p.key_id.lower() == key_id.lower()), None)


@dataclass(frozen=True)
class NewPassword:
    key_id: str
    secret_text: str = field(repr=False)


@dataclass(frozen=True)
class Naming:
    """The display names of the passwords this product adds for one secret: product, vault, secret, and the
    rotation's start (``key-rotators kv-app/orders 20261207T134500Z``). Only passwords named so are ever
    removed; the start tells one rotation's password (or the orphan of a lost answer) from another's."""

    vault: str
    secret: str

    @property
    def prefix(self) -> str:
        """Lower-cased: Key Vault names ignore case, so ``Orders`` and ``orders`` name one secret and one prefix."""
        return f"{PRODUCT} {self.vault}/{self.secret} ".lower()

    def of(self, started: datetime) -> str:
        return self.prefix + started.strftime(_STAMP)

    @property
    def staging(self) -> str:
        """The secret that keeps a new password's text between triggers, until it is tested and published: in Key
        Vault only, and never as a version of the rotated secret itself (a versionless reference reads the newest)."""
        return f"{self.secret}{STAGING_SUFFIX}"

    def ours(self, password: Password) -> bool:
        """Whether the product added ``password`` for this secret (matched ignoring case, as names written under
        another spelling of the secret's name were)."""
        name = (password.display_name or "").lower()
        if not name.startswith(self.prefix):
            return False
        try:
            datetime.strptime(name.removeprefix(self.prefix).upper(), _STAMP)
        except ValueError:
            return False
        return True

    def named(self, password: Password, started: datetime) -> bool:
        """Whether ``password`` is the one a rotation started at ``started`` added (its name, ignoring case)."""
        return (password.display_name or "").lower() == self.of(started).lower()


def holds(password: Password, value: str) -> bool:
    """Whether a secret's ``value`` may be ``password``: its first three characters are the password's hint (in
    constant time). Graph never returns a password's text again, so this is the only check there is."""
    return bool(password.hint) and hmac.compare_digest(value[:3].encode(), password.hint.encode())


def adopted(application: Application, value: str, key_id: str | None, resource: Resource) -> Password:
    """The password a secret's ``value`` is, to enrol it: the one ``key_id`` names, else the only one whose hint
    matches; refused (naming the fix) when there is none or the choice is ambiguous."""
    listed = ", ".join(p.key_id for p in application.passwords) or "none"
    if key_id is not None:
        password = application.password(key_id)
        if password is None:
            raise NotRotatable(
                f"Application {resource.name} has no password {key_id}; its passwords are: {listed}. Name the keyId "
                "of the password the secret holds."
            )
        if not holds(password, value):
            raise NotRotatable(
                f"The secret's value is not password {key_id} of application {resource.name} (its first characters "
                "differ from the password's hint). Store that password's text in the secret, or name the keyId of "
                "the password it holds."
            )
        return password
    matching = [p for p in application.passwords if holds(p, value)]
    if len(matching) != 1:
        found = "none of its passwords" if not matching else "several of its passwords by their hints"
        raise NotRotatable(
            f"The secret's value matches {found} of application {resource.name} (passwords: {listed}). Name the "
            "keyId of the password the secret holds (--credential)."
        )
    return matching[0]


class ApplicationPasswords:
    """The kind: an Entra ID application, whose passwords are added, tested and removed through Graph."""

    resource_type = GRAPH_APPLICATIONS
    display_name = "Entra ID application"
    credentials: Mapping[str, Credential] = _KeyIds()
    passwordless = "a managed identity or a federated identity credential (workload identity federation)"
    has_connection_string = False

    def key_in_connection_string(self, value: str) -> str | None:
        return None

    def read(self, resource: Resource) -> Application:
        with _graph_call(f"Read {self.display_name} {resource.name}", resource):
            answer = _send(resource, "GET", f"{resource.id}?$select=id,appId,signInAudience,passwordCredentials")
        body = answer.json()
        return Application(
            str(body.get("appId") or ""),
            str(body.get("signInAudience") or ""),
            tuple(
                Password(str(p["keyId"]).lower(), p.get("displayName"), p.get("endDateTime"), str(p.get("hint") or ""))
                for p in body.get("passwordCredentials") or ()
            ),
        )

    def canonical(self, resource: Resource) -> Resource:
        """The application by the object ID Graph gives it, whatever form ProviderAddress uses: ``/applications/<id>``,
        a bare ID and ``/applications(appId='…')`` of one application share one lock, one claim and one record."""
        parsed = resource.parsed
        if not isinstance(parsed, ApplicationPath) or not parsed.by_client_id:
            return resource
        return Resource(ApplicationPath(_object_id(resource)), resource.cloud)

    def add_password(self, resource: Resource, display_name: str, end: datetime, *, lifetime_days: int) -> NewPassword:
        """Ask Graph once for a new password ending at ``end``; a refusal names its fix and added nothing."""
        operation = f"Add a password to {self.display_name} {resource.name}"
        body = {"passwordCredential": {"displayName": display_name, "endDateTime": _iso(end)}}
        with _graph_call(operation, resource, lifetime_days=lifetime_days):
            answer = _send(resource, "POST", f"{resource.id}/addPassword", body, retry_total=0)
        added = answer.json()
        return NewPassword(str(added["keyId"]).lower(), str(added["secretText"]))

    def remove_password(self, resource: Resource, key_id: str) -> None:
        """Remove one password; one Graph no longer lists (read lag, a retry) counts as removed."""
        with _graph_call(f"Remove password {key_id} of {self.display_name} {resource.name}", resource, gone_ok=True):
            _send(resource, "POST", f"{resource.id}/removePassword", {"keyId": key_id})

    def accepts(self, resource: Resource, app_id: str, secret_text: str, tenant: str, *, reserve: float) -> bool:
        """Whether Entra ID issues a client credentials token for the application with ``secret_text``; False
        for AADSTS7000215 (not propagated yet, or wrong: only time tells); any other refusal is an error.

        One try, no SDK retry (the caller retries with backoff), whose timeouts end ``reserve`` seconds before the
        trigger's deadline: the rotation still has time to record where it is."""
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import ClientSecretCredential

        from rotators.adapters.bounds import DeadlineCredential

        graph_host, login_host = hosts(resource.cloud)
        options = {**clients.transport_options(), "retry_total": 0}
        if (left := deadline.remaining()) is not None:
            try_seconds = max(left - reserve, 0.1)
            for timeout in ("connection_timeout", "read_timeout"):
                options[timeout] = min(options[timeout], try_seconds)
        credential = ClientSecretCredential(tenant, app_id, secret_text, authority=login_host, **options)
        try:
            with calling(f"Test the new password of {self.display_name} {resource.name}"):
                try:
                    DeadlineCredential(credential).get_token(f"https://{graph_host}/.default")
                except ClientAuthenticationError as refused:
                    codes = _AADSTS.findall(str(refused.message or ""))
                    if _NOT_YET in codes:
                        return False
                    if not codes:
                        raise
                    raise NotRotatable(
                        f"Entra ID refused a token for application {app_id} in tenant {tenant} with the new "
                        f"password (AADSTS{codes[0]}): check that the application has a service principal in that "
                        "tenant (AADSTS700016: az ad sp create --id <client id>), is enabled and not blocked by "
                        "Conditional Access, and that AZURE_TENANT_ID names its tenant. The password stays "
                        "unpublished; the next trigger tests it again."
                    ) from refused
        finally:
            credential.close()
        return True


KIND = ApplicationPasswords()


def hosts(cloud: Cloud) -> tuple[str, str]:
    """The Graph and login hosts of the vault's cloud (DoD's Graph when ROTATION_GRAPH_HOST names it)."""
    if get_settings().dod_graph and cloud.graph_host == "graph.microsoft.us":
        return DOD_GRAPH_HOST, cloud.login_host
    return cloud.graph_host, cloud.login_host


def tenant(vault: VaultAddress) -> str:
    """The applications' tenant: AZURE_TENANT_ID, else the one the vault's Key Vault challenge names.

    Not the ``tid`` of the function's Graph token: Microsoft says not to read tokens for APIs one does not
    own (entra-docs, "remind-not-to-validate-access-tokens").
    """
    return get_settings().tenant_id or _challenged_tenant(vault.url)


@functools.cache
def _challenged_tenant(vault_url: str) -> str:
    """One request without a token: Key Vault answers 401 with the challenge that names its tenant."""
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.rest import HttpRequest

    options = clients.client_options()
    client: PipelineClient[Any, Any] = PipelineClient(
        vault_url, policies=[*options["per_call_policies"], RetryPolicy(retry_total=1)]
    )
    with calling(f"Read the tenant of {vault_url}"):
        answer = client.send_request(
            HttpRequest("GET", f"{vault_url}/secrets?api-version={clients.KEY_VAULT_API_VERSION}")
        )
    found = _CHALLENGE_TENANT.search(answer.headers.get("WWW-Authenticate", ""))
    if answer.status_code != 401 or found is None:
        raise UpstreamError(
            f"Key Vault {vault_url} did not name its tenant in its challenge (status {answer.status_code}); "
            "set AZURE_TENANT_ID to the tenant of the Entra ID applications."
        )
    return found.group(1).lower()


@functools.cache
def _object_id(resource: Resource) -> str:
    """The object ID of the application a client ID names (one read per process: the two are bound for the
    application's life, and a client ID is never reused)."""
    with _graph_call(f"Read the object ID of {KIND.display_name} {resource.name}", resource):
        answer = _send(resource, "GET", f"{resource.id}?$select=id")
    object_id = str(answer.json().get("id") or "").lower()
    if not _GUID.fullmatch(object_id):
        raise UpstreamError(f"Graph gave application {resource.id} no object ID.")
    return object_id


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _send(resource: Resource, method: str, path: str, body: object = None, **options: Any) -> HttpResponse:
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    client = clients.graph_client(hosts(resource.cloud)[0])
    request = HttpRequest(method, f"{client._base_url}/v1.0{path}", json=body)
    answer = client.send_request(request, **options)
    answer.read()
    if answer.status_code >= 400:
        raise HttpResponseError(response=answer)
    return answer


def _refusals(application: str, lifetime_days: int | None) -> dict[str, str]:
    """The fix for each Graph refusal of a password change, by ``error.code``."""
    lifetime = f" of {lifetime_days} days (ValidityPeriodDays)" if lifetime_days else ""
    return {
        "Authorization_RequestDenied": (
            f"the function's identity is not an owner of application {application}, or lacks the Microsoft Graph "
            "application permission Application.ReadWrite.OwnedBy. Grant both: python -m rotators grant-graph "
            "--identity <its principal ID> --application <object ID>, run with your own credential (or the az rest "
            "commands in README, 'Entra ID applications'). A grant made in the last hours may not have reached the "
            "managed identity yet: its tokens keep the roles they were issued with, cached for up to 24 hours"
        ),
        "CredentialInvalidLifetimeAsPerAppPolicy": (
            f"an app management policy of the tenant or the application caps password lifetime below the "
            f"lifetime{lifetime} asked for. Lower the secret's ValidityPeriodDays to the policy's maximum (ask the "
            "tenant's administrator), or have the application excluded from the policy; nothing was added, and "
            "the product never retries with a shorter lifetime"
        ),
        "CredentialTypeNotAllowedAsPerAppPolicy": (
            "an app management policy blocks adding passwords to this application. Move its clients to a "
            "certificate or a federated identity credential and remove the rotation tags, or have the application "
            "excluded from the policy; nothing was added"
        ),
        "TooManyAppPasswords": (
            f"application {application} accepts personal Microsoft accounts and holds the most passwords Graph "
            "allows such an application (2); the product never removes one to make room, since a live version "
            "may hold it. Remove a password no app uses by hand (status lists which version holds which), or set "
            "its signInAudience to AzureADMyOrg or AzureADMultipleOrgs; nothing was added"
        ),
    }


@contextmanager
def _graph_call(
    operation: str, resource: Resource, *, lifetime_days: int | None = None, gone_ok: bool = False
) -> Iterator[None]:
    """One Graph call: its refusals by ``error.code`` become refusals naming the fix (Graph changed nothing), a 404
    means the application is not there (or, with ``gone_ok``, that the password is already gone), and anything
    else goes through :func:`~rotators.adapters.upstream.calling`."""
    from azure.core.exceptions import HttpResponseError

    with calling(operation, role="Application.ReadWrite.OwnedBy and ownership of the application"):
        try:
            yield
        except HttpResponseError as error:
            code = str(getattr(getattr(error, "error", None), "code", None) or "")
            answer = AzureAnswer(operation, error.status_code, code or None)
            if gone_ok and error.status_code in (400, 404) and code != "TooManyAppPasswords":
                return  # Graph documents no answer for a keyId it does not hold: 204, 400 and 404 all mean gone
            if error.status_code == 404:
                raise ResourceNotFound(
                    f"Tag 'ProviderAddress' names application {resource.id}, which does not exist in the tenant "
                    "(or the function cannot see it).",
                    answer=answer,
                ) from error
            fix = _refusals(resource.name, lifetime_days).get(code)
            if fix is None:
                raise
            refusal = AccessDenied if code == "Authorization_RequestDenied" else NotRotatable
            raise refusal(
                f"{operation}: Graph refused with {error.status_code} {code}: {fix}.", answer=answer
            ) from error
