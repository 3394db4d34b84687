"""The Microsoft identity platform's v2.0 endpoints on the login hosts, for the client credentials grant.

What MSAL (and so ``azure.identity.ClientSecretCredential``) asks for, checked by running it here: the
tenant's OpenID configuration ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (MSAL skips instance
discovery before it for the well-known login hosts, msal ``authority.py``), then ``POST
/{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``, ``client_id``, ``client_secret`` and
``scope`` form-encoded; after a refusal, ``GET /common/discovery/instance`` on the same host (MSAL looks
for the host's aliases; without an answer the credential's error says only "HTTP Error: 404"). The
discovery documents answer what MSAL.js keeps as its copy of Microsoft's answers
(AzureAD/microsoft-authentication-library-for-js ``lib/msal-common/src/authority/AuthorityMetadata.ts``).

Answers (entra-docs ``identity-platform/v2-oauth2-client-creds-grant-flow.md``,
``identity-platform/reference-error-codes.md``): a token ``{"token_type": "Bearer", "expires_in": 3599,
"ext_expires_in": 3599, "access_token"}``; refusals ``{"error", "error_description", "error_codes",
"timestamp", "trace_id", "correlation_id", "error_uri"}`` whose description starts with the AADSTS code
and ends with the trace and correlation IDs and timestamp, as recorded answers show:

* 401 ``invalid_client`` AADSTS7000215 for a wrong, removed or not yet propagated secret
  (OfficeDev/microsoft-365-agents-toolkit#8621, Azure/sap-automation#418; "not yet" looks the same,
  hashicorp/vault-plugin-secrets-azure#57);
* 401 ``invalid_client`` AADSTS7000222 for an expired one (liprec/vsts-release-aas#119), or 7000215
  (option ``GraphBackend.expired_secret_code``);
* 400 ``unauthorized_client`` AADSTS700016 for a client ID the tenant does not know
  (Azure/azure-sdk-for-python#8314, hashicorp/terraform-provider-vault#580);
* 400 ``invalid_tenant`` AADSTS90002 for an unknown tenant, on the token and the discovery endpoints
  (Azure/azure-cli#22145, microsoftgraph/windowsupdates-webapplication-sample#6);
* 400 ``invalid_scope`` AADSTS1002012 for a scope without ``/.default`` (the client credentials doc
  requires the suffix); 400 ``unsupported_grant_type`` for another grant (RFC 6749 section 5.2).

No body is logged anywhere: the request log keeps method, host, path and status only.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from localazure.services.graph.models import GRAPH_LOGIN_HOSTS
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.graph.models import Application, GraphBackend, LoginBackend

TOKEN_LIFETIME = 3599
_JSON = {"Content-Type": "application/json; charset=utf-8"}


class OAuthError(ApiError):
    """An error of the identity platform's token and discovery endpoints, in their documented shape."""

    def __init__(self, status: int, error: str, aadsts: int, message: str, *, host: str) -> None:
        super().__init__(status, error, message)
        self.aadsts = aadsts
        self.host = host

    def response(self) -> Response:
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        description = (
            f"AADSTS{self.aadsts}: {self.message}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}"
            f"\r\nTimestamp: {timestamp}"
        )
        body = {
            "error": self.code,
            "error_description": description,
            "error_codes": [self.aadsts],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://{self.host}/error?code={self.aadsts}",
        }
        return Response(self.status, body, dict(_JSON))


def _tenant(login: LoginBackend, request: Request, match: re.Match[str]) -> GraphBackend:
    graph = login.cloud.graph
    tenant = match["tenant"]
    if tenant.lower() != graph.tenant_id.lower():
        raise OAuthError(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
            "the correct cloud. Check with your subscription administrator, this may happen if there are no active "
            "subscriptions for the tenant.",
            host=request.host,
        )
    return graph


# The issuer host where it differs from the login host (AuthorityMetadata.ts: Azure China).
_ISSUER_HOSTS = {"login.chinacloudapi.cn": "login.partner.microsoftonline.cn"}
# The instance discovery metadata: each cloud's login host aliases (AuthorityMetadata.ts).
_CLOUD_ALIASES = (
    {
        "preferred_network": "login.microsoftonline.com",
        "preferred_cache": "login.windows.net",
        "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
    },
    {
        "preferred_network": "login.partner.microsoftonline.cn",
        "preferred_cache": "login.partner.microsoftonline.cn",
        "aliases": ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
    },
    {
        "preferred_network": "login.microsoftonline.de",
        "preferred_cache": "login.microsoftonline.de",
        "aliases": ["login.microsoftonline.de"],
    },
    {
        "preferred_network": "login.microsoftonline.us",
        "preferred_cache": "login.microsoftonline.us",
        "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
    },
    {
        "preferred_network": "login-us.microsoftonline.com",
        "preferred_cache": "login-us.microsoftonline.com",
        "aliases": ["login-us.microsoftonline.com"],
    },
)


def openid_configuration(login: LoginBackend, request: Request, match: re.Match[str]) -> Response:
    """The tenant's OpenID configuration: endpoints on the host asked, the issuer on the cloud's issuer host
    (AuthorityMetadata.ts), the other fields as the documented sample (entra-docs
    ``identity-platform/v2-protocols-oidc.md``). MSAL reads ``authorization_endpoint``, ``token_endpoint``
    and ``issuer``."""
    graph = _tenant(login, request, match)
    base = f"https://{request.host}/{graph.tenant_id}"
    issuer_host = _ISSUER_HOSTS.get(request.host, request.host)
    graph_host = next(host for host, login_host in GRAPH_LOGIN_HOSTS.items() if login_host == request.host)
    body: dict[str, Any] = {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": f"https://{issuer_host}/{graph.tenant_id}/v2.0",
        "userinfo_endpoint": f"https://{graph_host}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
    }
    return Response(200, body, _JSON)


def instance_discovery(login: LoginBackend, request: Request, match: re.Match[str]) -> Response:
    """``GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...``: where the authority's
    tenant configuration is, and each cloud's aliases (AuthorityMetadata.ts)."""
    authority = urlsplit(request.query.get("authorization_endpoint", ""))
    tenant = authority.path.strip("/").split("/")[0] or "common"
    body = {
        "tenant_discovery_endpoint": f"https://{authority.hostname or request.host}/{tenant}/v2.0/.well-known/"
        "openid-configuration",
        "api-version": "1.1",
        "metadata": list(_CLOUD_ALIASES),
    }
    return Response(200, body, _JSON)


def _form(request: Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.body.decode("utf-8", "replace")).items()}


def token(login: LoginBackend, request: Request, match: re.Match[str]) -> Response:
    """A token for a live password of the application, after ``propagation_seconds``; refusals as documented."""
    graph = _tenant(login, request, match)
    form = _form(request)
    grant_type, scope = form.get("grant_type", ""), form.get("scope", "")
    if grant_type != "client_credentials":
        raise OAuthError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
            host=request.host,
        )
    if not scope.endswith("/.default"):
        raise OAuthError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
            "with /.default suffixed to the resource identifier (application ID URI).",
            host=request.host,
        )
    client_id = form.get("client_id", "")
    application = graph.by_client_id(request.host, client_id)
    if application is None:
        raise OAuthError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{graph.tenant_id}'. This can "
            "happen if the application has not been installed by the administrator of the tenant or consented to by "
            "any user in the tenant. You may have sent your authentication request to the wrong tenant.",
            host=request.host,
        )
    verdict = graph.secret_verdict(application, form.get("client_secret", ""))
    if verdict != "live":
        raise _refused(graph, application, request.host, expired=verdict == "expired")
    body = {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": secrets.token_urlsafe(48),
    }
    return Response(200, body, {**_JSON, "Cache-Control": "no-store"})


def _refused(graph: GraphBackend, application: Application, host: str, *, expired: bool) -> OAuthError:
    if expired and graph.expired_secret_code == 7000222:
        return OAuthError(
            401,
            "invalid_client",
            7000222,
            f"The provided client secret keys for app '{application.app_id}' are expired. Visit the Azure portal to "
            "create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials "
            "for added security: https://aka.ms/certCreds.",
            host=host,
        )
    return OAuthError(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not "
        f"the client secret ID, for a secret added to app '{application.app_id}'.",
        host=host,
    )


def unknown(request: Request) -> ApiError:
    """A path the login hosts do not serve here (what they answer is not part of any documented flow)."""
    return ApiError(404, "NotFound", f"The login endpoint {request.path} is not served by the stand-in.")
