"""The stand-in: a TLS server for the Azure hosts, a CONNECT proxy in front of it, a
managed-identity endpoint, and the control surface tests and the demo drive it with.

Clients reach it only through standard settings (see :meth:`LocalAzure.environment`), so
the product runs with production endpoints, ``DefaultAzureCredential`` and default options.
"""

from __future__ import annotations

import http.client
import re
import secrets
import select
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from localazure import arm, keyvault
from localazure import azurite as azurite_module
from localazure.certs import Certificates
from localazure.model import (
    COSMOS_KEY_FIELDS,
    CosmosAccount,
    Fault,
    Operation,
    RequestRecord,
    SecretVersion,
    StorageAccount,
    Tokens,
    Vault,
    new_key,
    new_version,
)
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.azurite import Azurite

VAULT_SUFFIX = ".vault.azure.net"
ARM_HOST = "management.azure.com"
WRITE_ROUTES = frozenset(
    {"keyvault.set_secret", "keyvault.update_secret", "storage.regenerate_key", "cosmos.regenerate_key"}
)
_SECRET_PATH = re.compile(r"^/secrets(?:/(?P<name>[^/]+)(?:/(?P<version>[^/]*))?)?/?$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            host=(self.headers.get("Host") or "").split(":")[0].lower(),
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        response = self.server.cloud.dispatch(request, role=self.server.role)
        if response is None:
            self.close_connection = True
            return
        body = response.encode()
        self.send_response(response.status)
        headers = dict(response.headers)
        if "content-type" not in {name.lower() for name in headers}:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if self.command == "HEAD":
            self.send_header("Content-Length", headers.pop("Content-Length", "0"))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        if response.status == 401:
            headers["Connection"] = "close"
        for name, value in headers.items():
            self.send_header(name, value)
        if "x-ms-request-id" not in {name.lower() for name in headers}:
            self.send_header("x-ms-request-id", secrets.token_hex(8))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    cloud: LocalAzure
    role: str

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a killed process, a timeout) is part of the tests, not an error."""


class _Proxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy that tunnels the Azure host names to the TLS server."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.cloud = cloud


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: _Proxy

    def handle(self) -> None:
        line = self.rfile.readline(65537).decode("latin-1")
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = parts[1].rsplit(":", 1)[0].lower()
        if not self.server.cloud.serves(host):
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection(self.server.cloud.tls_address)
        self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        self.wfile.flush()
        _pipe(self.connection, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    try:
        while True:
            readable, _, _ = select.select([a, b], [], [], 60)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (b if source is a else a).sendall(data)
    except OSError:
        return
    finally:
        b.close()


class LocalAzure:
    """Key Vault, ARM (Storage, Cosmos DB) and a managed-identity endpoint on loopback."""

    def __init__(self, directory: Path | None = None) -> None:
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="localazure-")
        self.directory = directory or Path(self._tmp.name)
        self.certificates = Certificates(self.directory)
        self.identity_header = secrets.token_urlsafe(16)
        self.tokens = Tokens()
        self._lock = threading.RLock()
        self.reset()
        self._tls = self._server("azure")
        self._tls.socket = self.certificates.server_context().wrap_socket(self._tls.socket, server_side=True)
        self._identity = self._server("identity")
        self._blob = self._server("blob")
        self._proxy = _Proxy(self)
        self.blob_backend: tuple[str, int] | None = None
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True, name=f"localazure-{i}")
            for i, server in enumerate((self._tls, self._identity, self._blob, self._proxy))
        ]

    def _server(self, role: str) -> _Server:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.cloud = self
        server.role = role
        return server

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalAzure:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for server in (self._proxy, self._blob, self._identity, self._tls):
            server.shutdown()
            server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> LocalAzure:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def tls_address(self) -> tuple[str, int]:
        return self._tls.server_address[:2]

    def environment(self) -> dict[str, str]:
        """The standard settings that point the real SDKs at the stand-in."""
        return {
            "HTTPS_PROXY": f"http://127.0.0.1:{self._proxy.server_address[1]}",
            "NO_PROXY": "127.0.0.1,localhost",
            "REQUESTS_CA_BUNDLE": str(self.certificates.bundle_path),
            "SSL_CERT_FILE": str(self.certificates.bundle_path),
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{self._identity.server_address[1]}/msi/token",
            "IDENTITY_HEADER": self.identity_header,
        }

    def blob_connection_string(self, azurite: Azurite) -> str:
        """``AzureWebJobsStorage`` for Azurite's blob service, through the stand-in so that
        lease and blob calls show in the request log and take injected faults."""
        self.blob_backend = ("127.0.0.1", azurite.ports["blob"])
        account = azurite_module.ACCOUNT
        return (
            f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={azurite_module.ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self._blob.server_address[1]}/{account};"
        )

    def serves(self, host: str) -> bool:
        if host.endswith(VAULT_SUFFIX):
            return host[: -len(VAULT_SUFFIX)] in self.vaults
        return host in (ARM_HOST, "login.microsoftonline.com")

    # control surface ----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource, fault and logged request; issued tokens stay valid."""
        with self._lock:
            # Requests still stalled from before the reset are dropped, not applied to the new state.
            self.epoch = getattr(self, "epoch", 0) + 1
            self.vaults: dict[str, Vault] = {}
            self.storage_accounts: dict[str, StorageAccount] = {}
            self.cosmos_accounts: dict[str, CosmosAccount] = {}
            self.resource_groups: dict[str, set[str]] = {}
            self.operations: dict[str, Operation] = {}
            self.faults: list[Fault] = []
            self.requests: list[RequestRecord] = []
            self.page_size = 25
            self.cosmos_operation_delay = 0.2
            self.cosmos_retry_after = 0.05
            self._cosmos_failures = 0

    def create_vault(self, name: str) -> str:
        with self._lock:
            self.vaults.setdefault(name.lower(), Vault(name.lower()))
        return f"https://{name.lower()}{VAULT_SUFFIX}"

    def create_storage_account(
        self, name: str, *, subscription: str = "00000000-0000-0000-0000-000000000001", resource_group: str = "rg-demo"
    ) -> StorageAccount:
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        account = StorageAccount(subscription, resource_group, name)
        for key_name in ("key1", "key2", "kerb1", "kerb2"):
            account.keys[key_name] = new_key()
            account.created[key_name] = now
        with self._lock:
            self.storage_accounts[name.lower()] = account
            self.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
        return account

    def create_cosmos_account(
        self, name: str, *, subscription: str = "00000000-0000-0000-0000-000000000001", resource_group: str = "rg-demo"
    ) -> CosmosAccount:
        created = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        account = CosmosAccount(
            subscription,
            resource_group,
            name,
            keys={k: new_key() for k in COSMOS_KEY_FIELDS},
            generated=dict.fromkeys(COSMOS_KEY_FIELDS, created),
        )
        with self._lock:
            self.cosmos_accounts[name.lower()] = account
            self.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
        return account

    def seed_secret(
        self,
        vault: str,
        name: str,
        value: str,
        *,
        tags: dict[str, str] | None = None,
        content_type: str | None = None,
        created: datetime | None = None,
        expires: datetime | None = None,
        enabled: bool = True,
    ) -> str:
        """Add a secret version as if written at ``created``; returns its version id."""
        stamp = int((created or datetime.now(timezone.utc)).timestamp())
        item = SecretVersion(
            version=new_version(),
            value=value,
            created=stamp,
            updated=stamp,
            tags=dict(tags or {}),
            content_type=content_type,
            enabled=enabled,
            expires=int(expires.timestamp()) if expires else None,
        )
        with self._lock:
            self.vaults[vault.lower()].secrets.setdefault(name.lower(), []).append(item)
        return item.version

    def secret_versions(self, vault: str, name: str) -> list[SecretVersion]:
        with self._lock:
            return list(self.vaults[vault.lower()].secrets.get(name.lower(), []))

    def current_secret(self, vault: str, name: str) -> SecretVersion:
        return self.secret_versions(vault, name)[-1]

    def holds_live_key(self, vault: str, name: str) -> bool:
        """Whether the secret's current value holds the live key its tags name (as is or in a connection string)."""
        current = self.current_secret(vault, name)
        account_id = current.tags["ProviderAddress"].lower()
        accounts = [*self.storage_accounts.values(), *self.cosmos_accounts.values()]
        account = next(a for a in accounts if a.id.lower() == account_id)
        return account.key(current.tags["CredentialId"]) in current.value

    def inject(
        self,
        route: str,
        *,
        count: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        after: bool = False,
        skip: int = 0,
        code: str | None = None,
        inner: str | None = None,
        message: str = "Injected fault.",
    ) -> Fault:
        """Make the next ``count`` calls to ``route`` (a glob such as ``keyvault.*``) fail or stall, after ``skip``.

        ``code``, ``inner`` and ``message`` shape the error body as the service does
        (``{"error": {"code", "message", "innererror": {"code"}}}``).
        """
        fault = Fault(route, count, status, retry_after, delay, drop, after, skip, code, inner, message)
        with self._lock:
            self.faults.append(fault)
        return fault

    def fail_cosmos_operations(self, count: int = 1) -> None:
        with self._lock:
            self._cosmos_failures += count

    def take_cosmos_failure(self) -> bool:
        with self._lock:
            if self._cosmos_failures:
                self._cosmos_failures -= 1
                return True
        return False

    def calls(self, route: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def writes(self) -> list[RequestRecord]:
        """Requests that changed, or would have changed, a secret or a key."""
        return [r for r in self.calls() if r.route in WRITE_ROUTES]

    # dispatch ------------------------------------------------------------------------------

    def dispatch(self, request: Request, *, role: str) -> Response | None:
        """Answer one request, or ``None`` to drop the connection; every outcome is logged."""
        epoch = self.epoch
        route, handler, audience = self._route(request, role)
        if role == "identity":
            audience = request.query.get("resource")
        fault = self._take_fault(route)
        response: Response | None = None
        logged = False
        try:
            if fault is not None and fault.after:
                response = self._handle(handler, request)
                self._log(request, route, audience, response.status, epoch)
                logged = True
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.drop:
                response = None
                return None
            if fault is not None and fault.status and not fault.after:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                code = fault.code or _FAULT_CODES.get(fault.status, "ServiceUnavailable")
                raise ApiError(fault.status, code, fault.message, headers, inner=fault.inner)
            if response is None and epoch != self.epoch:
                return None
            if response is None:
                response = self._handle(handler, request)
        except ApiError as error:
            response = error.response()
        finally:
            if not logged:
                self._log(request, route, audience, response.status if response else 0, epoch)
        return response

    def _log(self, request: Request, route: str, audience: str | None, status: int, epoch: int) -> None:
        record = RequestRecord(request.method, request.host, request.path, route, audience, status)
        with self._lock:
            if epoch == self.epoch:
                self.requests.append(record)

    def _handle(self, handler: Callable[[Request], Response], request: Request) -> Response:
        try:
            if handler == self._forward_blob:
                return handler(request)
            with self._lock:
                return handler(request)
        except ApiError as error:
            return error.response()

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(route):
                    fault.count -= 1
                    fault.taken.set()
                    return fault
        return None

    def _route(self, request: Request, role: str) -> tuple[str, Callable[[Request], Response], str | None]:
        if role == "identity":
            return "identity.token", self._token, None
        if role == "blob":
            comp = request.query.get("comp") or request.method.lower()
            if comp == "lease":
                comp = f"lease.{request.headers.get('x-ms-lease-action', '')}"
            return f"blob.{comp}", self._forward_blob, None
        token = _bearer(request)
        audience = self.tokens.audience(token) if token else None
        if request.host.endswith(VAULT_SUFFIX):
            return self._vault_route(request, token, audience)
        if request.host == ARM_HOST:
            name, handler = arm.route(request)

            def guarded(req: Request) -> Response:
                arm.check_audience(audience, bool(token))
                return handler(self, req)

            return name, guarded, audience
        return (
            "unknown",
            lambda req: Response(404, {"error": {"code": "NotFound", "message": "Unknown host."}}),
            audience,
        )

    def _vault_route(
        self, request: Request, token: str | None, audience: str | None
    ) -> tuple[str, Callable[[Request], Response], str | None]:
        vault = self.vaults.get(request.host[: -len(VAULT_SUFFIX)])
        match = _SECRET_PATH.match(request.path)
        name = (match and match["name"]) or ""
        version = (match and match["version"]) or ""
        method = request.method
        if match is None:
            route, action = "keyvault.unknown", None
        elif not name and method == "GET":
            route, action = "keyvault.list_secrets", lambda req: keyvault.list_secrets(self, vault, req)
        elif version == "versions" and method == "GET":
            route, action = "keyvault.list_versions", lambda req: keyvault.list_versions(self, vault, req, name)
        elif method == "GET" and name:
            route, action = "keyvault.get_secret", lambda req: keyvault.get_secret(self, vault, req, name, version)
        elif method == "PUT" and name and not version:
            route, action = "keyvault.set_secret", lambda req: keyvault.set_secret(self, vault, req, name)
        elif method == "PATCH" and name:
            route, action = (
                "keyvault.update_secret",
                lambda req: keyvault.update_secret(self, vault, req, name, version),
            )
        else:
            route, action = "keyvault.unknown", None

        def guarded(req: Request) -> Response:
            if not req.query.get("api-version"):
                raise ApiError(400, "BadParameter", "The 'api-version' query parameter is required.")
            keyvault.check_audience(audience, bool(token))
            if action is None:
                raise ApiError(404, "NotFound", "The requested operation is not supported.")
            return action(req)

        return route, guarded, audience

    def _forward_blob(self, request: Request) -> Response:
        if self.blob_backend is None:
            raise ApiError(503, "ServiceUnavailable", "No blob backend attached.")
        connection = http.client.HTTPConnection(*self.blob_backend, timeout=30)
        try:
            query = f"?{urlencode(request.query)}" if request.query else ""
            connection.request(
                request.method,
                request.path + query,
                body=request.body or None,
                headers={k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP},
            )
            answer = connection.getresponse()
            body = answer.read()
            headers = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP}
        finally:
            connection.close()
        if request.method == "HEAD":
            headers["Content-Length"] = dict((k.lower(), v) for k, v in answer.getheaders()).get("content-length", "0")
        headers.setdefault("Content-Type", "application/octet-stream")
        return Response(answer.status, body, headers)

    def _token(self, request: Request) -> Response:
        if request.path != "/msi/token":
            raise ApiError(404, "NotFound", "Unknown identity route.")
        if request.headers.get("x-identity-header") != self.identity_header:
            raise ApiError(401, "Unauthorized", "The X-IDENTITY-HEADER header is missing or wrong.")
        resource = request.query.get("resource")
        if not resource or not request.query.get("api-version"):
            raise ApiError(400, "BadRequest", "Parameters 'resource' and 'api-version' are required.")
        token, expires_on = self.tokens.issue(resource)
        return Response(
            200,
            {"access_token": token, "expires_on": str(expires_on), "resource": resource, "token_type": "Bearer"},
        )


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
_FAULT_CODES = {
    400: "BadRequest",
    403: "AuthorizationFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:] if value.lower().startswith("bearer ") else None
