"""The stand-in: a TLS server for the Azure hosts, a CONNECT proxy in front of it, a
managed-identity endpoint, relays to Azurite's blob and queue services, and the control surface tests
and the demo drive it with.

Clients reach it only through standard settings (see :meth:`LocalAzure.environment`), so
the product runs with production endpoints, ``DefaultAzureCredential`` and default options.
What each service answers lives in its package under :mod:`localazure.services`; this
module routes a request to it, applies injected faults and logs the outcome.
"""

from __future__ import annotations

import re
import secrets
import select
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from localazure import azurite as azurite_module
from localazure.certs import Certificates
from localazure.faults import Fault, RequestRecord
from localazure.services import SERVICES
from localazure.services.base import Front, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.azurite import Azurite
    from localazure.services.arm.models import ArmBackend
    from localazure.services.blob.models import BlobBackend
    from localazure.services.cosmosdb.models import CosmosBackend
    from localazure.services.graph.models import GraphBackend
    from localazure.services.identity.models import IdentityBackend
    from localazure.services.keyvault.models import KeyVaultBackend
    from localazure.services.queue.models import QueueBackend
    from localazure.services.servicebus.models import ServiceBusBackend
    from localazure.services.storage.models import StorageBackend

WRITE_ROUTES = frozenset(url.route for service in SERVICES for url in service.urls if url.writes)
# State that outlives reset(): a process keeps its cached tokens, the relays keep their Azurite.
_PERSISTENT = ("identity", "blob", "queue")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # The reset a connection was opened in: the proxy opens its tunnel's TLS connection at CONNECT,
        # so a client's pooled connection stays stamped with the test that opened it.
        self.epoch = self.server.cloud.epoch

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
            raw_query=url.query,
        )
        response = self.server.cloud.dispatch(request, listener=self.server.listener, opened=self.epoch)
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
    listener: str

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
    """Every service of :mod:`localazure.services` on loopback; ``cloud.<service>`` is its backend."""

    # The backends, for readers and type checkers (set by reset()).
    identity: IdentityBackend
    blob: BlobBackend
    queue: QueueBackend
    keyvault: KeyVaultBackend
    arm: ArmBackend
    storage: StorageBackend
    cosmosdb: CosmosBackend
    servicebus: ServiceBusBackend
    graph: GraphBackend

    def __init__(self, directory: Path | None = None) -> None:
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="localazure-")
        self.directory = directory or Path(self._tmp.name)
        self.certificates = Certificates(self.directory)
        self.lock = threading.RLock()
        self.epoch = 0
        for service in SERVICES:
            if service.name in _PERSISTENT:
                setattr(self, service.name, service.backend(self))
        self.reset()
        self._tls = self._server("azure")
        self._tls.socket = self.certificates.server_context().wrap_socket(self._tls.socket, server_side=True)
        self._identity = self._server("identity")
        self._blob = self._server("blob")
        self._queue = self._server("queue")
        self._proxy = _Proxy(self)
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True, name=f"localazure-{i}")
            for i, server in enumerate((self._tls, self._identity, self._blob, self._queue, self._proxy))
        ]

    def _server(self, listener: str) -> _Server:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.cloud = self
        server.listener = listener
        return server

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalAzure:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for server in (self._proxy, self._queue, self._blob, self._identity, self._tls):
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
            "IDENTITY_HEADER": self.identity.header,
        }

    def blob_connection_string(self, azurite: Azurite) -> str:
        """``AzureWebJobsStorage`` for Azurite's blob and queue services, through the stand-in so
        that lease, blob and queue calls show in the request log and take injected faults."""
        self.blob.address = ("127.0.0.1", azurite.ports["blob"])
        self.queue.address = ("127.0.0.1", azurite.ports["queue"])
        account = azurite_module.ACCOUNT
        return (
            f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={azurite_module.ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self._blob.server_address[1]}/{account};"
            f"QueueEndpoint=http://127.0.0.1:{self._queue.server_address[1]}/{account};"
        )

    def serves(self, host: str) -> bool:
        """Whether the proxy tunnels ``host`` here (else it answers 502, as for an unknown host)."""
        return any(s.front.listener == "azure" and s.front.serves(self, host) for s in SERVICES)

    # control surface ----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource, fault and logged request; issued tokens stay valid, and the identity
        endpoint wants a new ``IDENTITY_HEADER`` (read :meth:`environment` again)."""
        with self.lock:
            # Requests still stalled from before the reset are dropped, not applied to the new state.
            self.epoch += 1
            self.identity.new_header()
            for service in SERVICES:
                if service.name not in _PERSISTENT:
                    setattr(self, service.name, service.backend(self))
            self.faults: list[Fault] = []
            self.requests: list[RequestRecord] = []

    def advance(self, seconds: float) -> None:
        """Azure's clock runs ``seconds`` ahead for every service with long-running operations."""
        for service in SERVICES:
            backend = getattr(self, service.name)
            if hasattr(backend, "advance"):
                backend.advance(seconds)

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
        with self.lock:
            self.faults.append(fault)
        return fault

    def calls(self, route: str | None = None) -> list[RequestRecord]:
        with self.lock:
            return [r for r in self.requests if route is None or r.route == route]

    def writes(self) -> list[RequestRecord]:
        """Requests that changed, or would have changed, a secret or a key."""
        return [r for r in self.calls() if r.route in WRITE_ROUTES]

    # dispatch ------------------------------------------------------------------------------

    def dispatch(self, request: Request, *, listener: str, opened: int | None = None) -> Response | None:
        """Answer one request, or ``None`` to drop the connection; every outcome is logged.

        A request on a connection ``opened`` before the last reset, or a token request with an earlier
        reset's ``IDENTITY_HEADER``, comes from a client of an earlier test (a background token request,
        a lease renewal finishing late): it is dropped unlogged, as a request stalled across the reset
        is, so it neither changes nor shows in the new state.
        """
        epoch = self.epoch
        if self._from_before_reset(request, listener, opened):
            return None  # before taking a fault the new test injected
        route, handler, serialized = self._route(request, listener)
        if listener == "identity":
            audience = request.query.get("resource")
        else:
            audience = self.identity.audience(request.headers.get("authorization", ""))
        fault = self._take_fault(route)
        response: Response | None = None
        logged = False
        try:
            if fault is not None and fault.after:
                response = self._handle(handler, request, serialized)
                self._log(request, route, audience, response.status, epoch)
                logged = True
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.drop:
                response = None
                return None
            if fault is not None and fault.status and not fault.after:
                raise fault.error(route)
            if response is None and epoch != self.epoch:
                return None
            if response is None:
                response = self._handle(handler, request, serialized)
        except ApiError as error:
            response = error.response()
        finally:
            if not logged:
                self._log(request, route, audience, response.status if response else 0, epoch)
        return response

    def _from_before_reset(self, request: Request, listener: str, opened: int | None) -> bool:
        if opened is not None and opened != self.epoch:
            return True
        # A credential built before the reset, on a connection opened after it.
        return listener == "identity" and self.identity.retired(request.headers.get("x-identity-header"))

    def _log(self, request: Request, route: str, audience: str | None, status: int, epoch: int) -> None:
        record = RequestRecord(request.method, request.host, request.path, route, audience, status)
        with self.lock:
            if epoch == self.epoch:
                self.requests.append(record)

    def _handle(self, handler: Callable[[Request], Response], request: Request, serialized: bool) -> Response:
        try:
            if not serialized:
                return handler(request)
            with self.lock:
                return handler(request)
        except ApiError as error:
            return error.response()

    def _take_fault(self, route: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(route):
                    fault.count -= 1
                    fault.taken.set()
                    return fault
        return None

    def _route(self, request: Request, listener: str) -> tuple[str, Callable[[Request], Response], bool]:
        """The route name, its handler (front-door checks first) and whether it runs under the lock."""
        fronts = [s for s in SERVICES if s.front.listener == listener and s.front.serves(self, request.host)]
        if not fronts:
            return (
                "unknown",
                lambda req: Response(404, {"error": {"code": "NotFound", "message": "Unknown host."}}),
                True,
            )
        front = fronts[0].front
        allowed: list[str] = []
        for service in (s for s in SERVICES if s.front is front):
            for url in service.urls:
                match = url.match(request.path)
                if match is None:
                    continue
                if url.method not in ("*", request.method):
                    allowed.append(url.route)
                    continue
                return url.route_for(request), self._operation(front, service, url, match), service.serialized
        if allowed:
            return allowed[0], self._refusal(front, _method_not_allowed), True
        return f"{front.name}.unknown", self._refusal(front, front.unknown), True

    def _operation(
        self, front: Front, service: Service, url: Url, match: re.Match[str]
    ) -> Callable[[Request], Response]:
        backend = getattr(self, service.name)

        def handle(request: Request) -> Response:
            front.check(self, request, service)
            if front.authorize is not None:
                front.authorize(self, request, url)
            return url.handler(backend, request, match)

        return handle

    def _refusal(self, front: Front, answer: Callable[[Any, Request], Response]) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            front.check(self, request, None)
            return answer(self, request)

        return handle


def _method_not_allowed(cloud: LocalAzure, request: Request) -> Response:
    raise ApiError(405, "MethodNotAllowed", "The requested resource does not support http method.")
