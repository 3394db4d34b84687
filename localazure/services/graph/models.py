"""Entra ID applications as Microsoft Graph and the token endpoint see them: their passwords, owners,
the roles granted to callers, and the tenant's app management policies.

Sources of what is modelled (each handler cites the answer it gives):

* Graph deployments and their login hosts, one directory per national cloud; "Access tokens acquired
  for a national cloud deployment are not interchangeable" (microsoft-graph-docs-contrib
  ``concepts/deployments.md``).
* ``passwordCredential``: ``keyId``, ``displayName``, ``startDateTime`` (default now), ``endDateTime``
  (default start + 2 years), ``hint`` (the secret's first 3 characters), ``secretText`` (returned by
  ``addPassword`` only), ``customKeyIdentifier`` null (learn ``graph/api/application-addpassword``,
  ``graph/api/resources/passwordcredential``). Secrets are 40 characters of ``A-Za-z0-9._~-`` shaped
  like ``Q_e8Q~ZDWJD.bkgajbREp-VFFUayCuEk8b1hDcr9`` (the example of Microsoft's
  ``Add-MgApplicationPassword`` doc).
* Two passwords at most for the audiences that accept personal Microsoft accounts, no limit otherwise
  (entra-docs ``identity-platform/supported-accounts-validation.md``).
* ``Application.ReadWrite.OwnedBy`` "cannot update any apps that it is not an owner of"; the other
  application permissions act on every application (learn ``graph/permissions-reference``).
* App management policies: a tenant default, and per-application policies that "allow individual
  applications to be included or excluded from the tenant default policy"; restrictions
  ``passwordAddition`` and ``passwordLifetime`` (``maxLifetime``), each applying to applications created
  after ``restrictForAppsCreatedAfterDateTime`` (learn ``graph/api/resources/applicationauthenticationmethodpolicy``,
  ``graph/api/resources/passwordcredentialconfiguration``).

Options where Microsoft documents nothing (tests choose; the product must be right under each):

* ``propagation_seconds``: a password added less than that long ago, on this backend's clock, is refused
  by the token endpoint as a wrong one is. Microsoft gives no figure ("There are no documented
  replication SLAs", a Microsoft maintainer in microsoftgraph/msgraph-bicep-types#193); users measured
  seconds to minutes (microsoftgraph/microsoft-graph-docs#17966, hashicorp/vault#27593).
* ``read_lag_seconds``: for that long after a write, ``GET`` still shows the application as it was ("A
  successful write to Microsoft Entra does not guarantee that an immediate read will reflect that
  change", devblogs.microsoft.com/identity "Designing for Eventual Consistency for Microsoft Entra").
* ``unknown_key_removal``: what ``removePassword`` answers for a ``keyId`` the application does not
  hold: ``"204"`` (as for a known one), ``"400"`` or ``"404"``. Nothing documented or recorded.
* ``owned_by_reads_others``: whether ``Application.ReadWrite.OwnedBy`` may read applications it does
  not own (True: as a Tech Community report says listing all applications worked with it; False: 403).
* ``expired_secret_code``: the AADSTS code for an expired password, 7000222 as recorded answers show
  (microsoft/botframework-sdk#6221, liprec/vsts-release-aas#119) or 7000215 as a user reports for
  "either a non-existent or expired client secret" (MicrosoftDocs/azure-docs#33356).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from localazure.services.base import ISSUED_KEYS, KeyPropagation
from localazure.services.keyvault import TENANT

if TYPE_CHECKING:
    from localazure.server import LocalAzure

# Each Graph deployment and the login host its tokens come from (concepts/deployments.md): global,
# US Government L4 (GCC High), US Government L5 (DoD), and Azure China operated by 21Vianet.
GRAPH_LOGIN_HOSTS = {
    "graph.microsoft.com": "login.microsoftonline.com",
    "graph.microsoft.us": "login.microsoftonline.us",
    "dod-graph.microsoft.us": "login.microsoftonline.us",
    "microsoftgraph.chinacloudapi.cn": "login.chinacloudapi.cn",
}
LOGIN_HOSTS = frozenset(GRAPH_LOGIN_HOSTS.values())

OWNED_BY = "Application.ReadWrite.OwnedBy"
# What granting an app role to a service principal needs: "AppRoleAssignment.ReadWrite.All and Application.Read.All"
# (learn graph/api/serviceprincipal-post-approleassignments).
ASSIGN = "AppRoleAssignment.ReadWrite.All"
# Microsoft Graph's appId in every tenant, and the IDs of the app roles its service principal defines
# (learn graph/permissions-reference: Application.ReadWrite.OwnedBy, Application.ReadWrite.All).
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
APP_ROLE_IDS = {
    OWNED_BY: "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
}
# Application permissions over every application (permissions reference; application-get and
# application-addpassword list them as the higher privileges).
WRITE_ANY = frozenset({"Application.ReadWrite.All", "Directory.ReadWrite.All"})
READ_ANY = WRITE_ANY | {"Application.Read.All", "Directory.Read.All"}
ROLES = READ_ANY | {OWNED_BY, ASSIGN}

PERSONAL_ACCOUNT_AUDIENCES = frozenset({"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"})
SIGN_IN_AUDIENCES = PERSONAL_ACCOUNT_AUDIENCES | {"AzureADMyOrg", "AzureADMultipleOrgs"}
PERSONAL_ACCOUNT_PASSWORD_LIMIT = 2

_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"


def new_secret_text() -> str:
    """A secret shaped like Graph's (3 characters, a version mark ``8Q~``, 34 more), remembered so that
    tests can prove none leaked (:data:`localazure.services.base.ISSUED_KEYS`)."""
    text = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(3)) + "8Q~"
    text += "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(34))
    ISSUED_KEYS.add(text)
    return text


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def two_years_after(start: datetime) -> datetime:
    """addPassword's default ``endDateTime``: "2 years from the startDateTime"."""
    try:
        return start.replace(year=start.year + 2)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 2, day=28)


@dataclass
class PasswordCredential:
    """One password of an application. ``added`` is when Graph added it on the backend's clock (ISO; None
    for passwords that existed before the test: they work at once); ``removed`` when it was removed."""

    key_id: str
    secret_text: str = field(repr=False)
    display_name: str | None
    start: datetime
    end: datetime
    added: str | None = None
    removed: datetime | None = None

    @property
    def hint(self) -> str:
        return self.secret_text[:3]

    def body(self, *, with_secret: bool = False) -> dict[str, Any]:
        """As Graph lists it; ``secretText`` is null except in the answer to ``addPassword``."""
        return {
            "customKeyIdentifier": None,
            "displayName": self.display_name,
            "endDateTime": iso(self.end),
            "hint": self.hint,
            "keyId": self.key_id,
            "secretText": self.secret_text if with_secret else None,
            "startDateTime": iso(self.start),
        }


@dataclass
class Application:
    """An application registration in the stand-in's one tenant, in the directory of ``graph_host``."""

    object_id: str
    app_id: str
    display_name: str
    sign_in_audience: str
    graph_host: str
    created: datetime
    owners: set[str] = field(default_factory=set)
    credentials: list[PasswordCredential] = field(default_factory=list)  # removed ones included, flagged
    policy_id: str | None = None

    @property
    def path(self) -> str:
        """The application's Graph path, as the product's ``ProviderAddress`` names it."""
        return f"/applications/{self.object_id}"

    @property
    def login_host(self) -> str:
        return GRAPH_LOGIN_HOSTS[self.graph_host]

    def present(self) -> list[PasswordCredential]:
        return [credential for credential in self.credentials if credential.removed is None]

    def password(self, key_id: str) -> PasswordCredential | None:
        return next((p for p in self.present() if p.key_id.lower() == key_id.lower()), None)


@dataclass(frozen=True)
class AppManagementPolicy:
    """The password restrictions of a tenant default or per-application policy (``None``: not restricted)."""

    id: str
    max_lifetime: timedelta | None = None
    block_password_addition: bool = False
    applies_after: datetime | None = None  # restrictForAppsCreatedAfterDateTime

    def covers(self, application: Application) -> bool:
        return self.applies_after is None or application.created >= self.applies_after


class GraphBackend(KeyPropagation):
    """Applications, role grants and policies; ``cloud.graph``. The login hosts read it too.

    Until a test revokes it, the managed identity holds ``Application.ReadWrite.OwnedBy`` (what the
    deployment grants) and owns every application created without ``owners``.
    """

    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__()
        self.cloud = cloud
        self.tenant_id = TENANT  # the tenant the Key Vault challenge names
        self.applications: dict[str, Application] = {}
        self.grants: dict[str, set[str]] = {cloud.identity.principal_id: {OWNED_BY}}
        # The tenant's service principals: Microsoft Graph's, and the identities that may be granted its app roles.
        self.graph_service_principal = str(uuid.uuid4())
        self.service_principals: set[str] = {cloud.identity.principal_id}
        self.tenant_policy: AppManagementPolicy | None = None
        self.policies: dict[str, AppManagementPolicy] = {}
        self.read_lag_seconds = 0.0
        self.unknown_key_removal = "204"
        self.owned_by_reads_others = True
        self.expired_secret_code = 7000222

    # control surface ----------------------------------------------------------------------

    def create_application(
        self,
        *,
        display_name: str = "app",
        sign_in_audience: str = "AzureADMyOrg",
        owners: Iterable[str] | None = None,
        graph_host: str = "graph.microsoft.com",
        created: datetime | None = None,
        object_id: str | None = None,
        app_id: str | None = None,
    ) -> Application:
        """An application; ``owners`` are principal object IDs (default: the managed identity)."""
        if sign_in_audience not in SIGN_IN_AUDIENCES or graph_host not in GRAPH_LOGIN_HOSTS:
            raise ValueError(f"unknown sign-in audience {sign_in_audience!r} or Graph host {graph_host!r}")
        application = Application(
            object_id=object_id or str(uuid.uuid4()),
            app_id=app_id or str(uuid.uuid4()),
            display_name=display_name,
            sign_in_audience=sign_in_audience,
            graph_host=graph_host,
            created=created or self.now(),
            owners=set(owners) if owners is not None else {self.cloud.identity.principal_id},
        )
        with self.cloud.lock:
            self.applications[application.object_id] = application
        return application

    def seed_password(
        self,
        application: Application,
        *,
        display_name: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> PasswordCredential:
        """A password the application already had (it works at once, whatever ``propagation_seconds``)."""
        begins = start or self.now() - timedelta(days=1)
        credential = PasswordCredential(
            str(uuid.uuid4()), new_secret_text(), display_name, begins, end or two_years_after(begins)
        )
        with self.cloud.lock:
            application.credentials.append(credential)
        return credential

    def passwords(self, application: Application) -> list[PasswordCredential]:
        """The passwords the application holds now (whatever ``read_lag_seconds`` lets GET show)."""
        with self.cloud.lock:
            return application.present()

    def add_owner(self, application: Application, principal: str | None = None) -> None:
        with self.cloud.lock:
            application.owners.add(principal or self.cloud.identity.principal_id)

    def remove_owner(self, application: Application, principal: str | None = None) -> None:
        with self.cloud.lock:
            application.owners.discard(principal or self.cloud.identity.principal_id)

    def create_service_principal(self) -> str:
        """Another identity's service principal (a function app's managed identity); returns its object ID."""
        principal = str(uuid.uuid4())
        with self.cloud.lock:
            self.service_principals.add(principal)
        return principal

    def grant(self, role: str, principal: str | None = None) -> None:
        """An app role of Microsoft Graph (``Application.ReadWrite.OwnedBy``, ...) for a principal (default:
        the managed identity), as ``appRoleAssignedTo`` grants it."""
        if role not in ROLES:
            raise ValueError(f"unknown Graph application permission {role!r}")
        with self.cloud.lock:
            self.grants.setdefault(principal or self.cloud.identity.principal_id, set()).add(role)

    def revoke(self, role: str, principal: str | None = None) -> None:
        with self.cloud.lock:
            self.grants.get(principal or self.cloud.identity.principal_id, set()).discard(role)

    def set_policy(
        self,
        *,
        max_lifetime: timedelta | None = None,
        block_password_addition: bool = False,
        applies_after: datetime | None = None,
        application: Application | None = None,
    ) -> str:
        """The tenant default policy, or ``application``'s own; returns the policy's ID (the lifetime
        refusal names it)."""
        policy = AppManagementPolicy(str(uuid.uuid4()), max_lifetime, block_password_addition, applies_after)
        with self.cloud.lock:
            if application is None:
                self.tenant_policy = policy
            else:
                self.policies[policy.id] = policy
                application.policy_id = policy.id
        return policy.id

    # what the handlers ask -----------------------------------------------------------------

    def roles(self, principal: str) -> set[str]:
        return self.grants.get(principal, set())

    def policy_for(self, application: Application) -> AppManagementPolicy | None:
        """The application's own policy if it has one, else the tenant default; only if it covers the app."""
        policy = self.policies.get(application.policy_id or "") or self.tenant_policy
        return policy if policy is not None and policy.covers(application) else None

    def visible(self, application: Application) -> list[PasswordCredential]:
        """The passwords a read shows: newest first (as recorded in azure-cli's ``test_app_credential.yaml``,
        2022-05-07), lagging writes by ``read_lag_seconds``."""
        now = self.now()
        lag = timedelta(seconds=self.read_lag_seconds)
        shown = [
            credential
            for credential in application.credentials
            if (credential.added is None or now - _parse(credential.added) >= lag)
            and (credential.removed is None or now - credential.removed < lag)
        ]
        return shown[::-1]

    def find(self, graph_host: str, *, object_id: str | None = None, app_id: str | None = None) -> Application | None:
        for application in self.applications.values():
            if application.graph_host != graph_host:
                continue
            if (object_id and application.object_id.lower() == object_id.lower()) or (
                app_id and application.app_id.lower() == app_id.lower()
            ):
                return application
        return None

    def by_client_id(self, login_host: str, client_id: str) -> Application | None:
        return next(
            (
                a
                for a in self.applications.values()
                if a.login_host == login_host and a.app_id.lower() == client_id.lower()
            ),
            None,
        )

    def secret_verdict(self, application: Application, secret_text: str) -> str:
        """``"live"``, ``"expired"`` or ``"refused"`` (wrong, removed, not started, or not propagated yet)."""
        match = next(
            (p for p in application.present() if hmac.compare_digest(p.secret_text.encode(), secret_text.encode())),
            None,
        )
        if match is None or not self.accepts(match.added) or self.now() < match.start:
            return "refused"
        return "expired" if self.now() >= match.end else "live"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class LoginBackend:
    """The login hosts hold no state of their own: they read ``cloud.graph``."""

    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
