"""What a service of the stand-in is: a backend holding its state, the front door it sits
behind (a host with its authentication and api-version rules) and its table of URLs.

Each service is a package. A large one splits as moto lays them out: ``models`` (the state),
``responses`` (the handlers, answering as the service's REST API does) and ``urls`` (the table);
a small one keeps all three in its ``__init__`` (the keyed services state only their names, in a
:class:`~localazure.services.keyed.KeyedApi`). Adding a service means one package and one line in
:mod:`localazure.services`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from localazure.wire import Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

# Every key value the stand-in ever handed out, so tests can prove none leaked.
ISSUED_KEYS: set[str] = set()


def new_key() -> str:
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    ISSUED_KEYS.add(key)
    return key


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def hmac_signature(key: str, text: str) -> str:
    """Base64 HMAC-SHA256 of ``text`` under a base64 key: how Storage's Shared Key ("Authorize with
    Shared Key") and Cosmos DB's master-key token ("Access control in Azure Cosmos DB") are signed."""
    return base64.b64encode(hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()).decode()


def signed_by_any(signature: str, text: str, keys: Iterable[str]) -> bool:
    """Whether ``signature`` is :func:`hmac_signature` of ``text`` under one of ``keys`` (compared in constant time)."""
    return any(hmac.compare_digest(signature, hmac_signature(key, text)) for key in keys)


def hmac_request_signed(request: Request, signature: str, signed_headers: str, keys: Iterable[str]) -> bool:
    """Whether a request carries a valid HMAC-SHA256 signature, as App Configuration ("HMAC authentication -
    REST API reference") and Communication Services ("Sign an HTTP request") define it: the base64
    HMAC-SHA256, under a base64-decoded key, of ``<METHOD>\n<path and query>\n<the signed headers'
    values joined by ;>``, where ``x-ms-date``, ``host`` and ``x-ms-content-sha256`` (the body's
    base64 SHA-256) must be signed. Communication's SDK may sign the query URL-decoded: both are taken."""
    names = [name.strip().lower() for name in signed_headers.split(";")]
    body_hash = base64.b64encode(hashlib.sha256(request.body).digest()).decode()
    if not {"x-ms-date", "host", "x-ms-content-sha256"} <= set(names) or not hmac.compare_digest(
        request.headers.get("x-ms-content-sha256", ""), body_hash
    ):
        return False
    values = ";".join(request.host if name == "host" else request.headers.get(name, "") for name in names)
    paths = {request.path + (f"?{query}" if query else "") for query in (request.raw_query, unquote(request.raw_query))}
    return any(signed_by_any(signature, f"{request.method}\n{path}\n{values}", keys) for path in paths)


def hmac_arguments(authorization: str) -> dict[str, str] | None:
    """``Credential``, ``SignedHeaders`` and ``Signature`` of an ``HMAC-SHA256`` Authorization header."""
    if not authorization.startswith("HMAC-SHA256 "):
        return None
    return dict(part.partition("=")[::2] for part in authorization[len("HMAC-SHA256 ") :].split("&"))


# The standard headers of a Shared Key string-to-sign, in order: Storage's "Authorize with Shared Key"
# (versions 2009-09-19 and later) and Batch's "Authenticate requests to the Azure Batch service".
_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


# What Storage and Batch both answer (403 AuthenticationFailed) to a signature made with a key they do not hold.
SHARED_KEY_REFUSED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly "
    "including the signature."
)


def shared_key_signed(
    request: Request, account: str, keys: Iterable[str], *, prefix: str, blank_zero_length: bool
) -> bool:
    """Whether ``Authorization`` is ``SharedKey <account>:<signature>`` signed with one of ``keys``."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    name, _, signature = credential.rpartition(":")
    text = _string_to_sign(request, account, prefix=prefix, blank_zero_length=blank_zero_length)
    return scheme == "SharedKey" and name == account and signed_by_any(signature, text, keys)


def _string_to_sign(request: Request, account: str, *, prefix: str, blank_zero_length: bool) -> str:
    """The Shared Key string-to-sign both services document: the verb, the eleven standard headers, the
    ``prefix`` headers (``x-ms-`` for Storage, ``ocp-`` for Batch) lower-cased and sorted, then
    ``/<account><path>`` and the query parameters lower-cased, decoded and sorted.

    ``blank_zero_length``: Storage signs a ``Content-Length: 0`` as empty (versions 2015-02-21 and later);
    Batch signs the header as sent.
    """
    headers = {name.lower(): value for name, value in request.headers.items()}
    if blank_zero_length and headers.get("content-length") == "0":
        headers.pop("content-length")
    standard = "".join(headers.get(name, "") + "\n" for name in _SIGNED_HEADERS)
    canonical_headers = "".join(
        f"{name}:{headers[name]}\n" for name in sorted(h for h in headers if h.startswith(prefix))
    )
    resource = f"/{account}{request.path}" + "".join(
        f"\n{name.lower()}:{unquote(value)}" for name, value in sorted(request.query.items())
    )
    return f"{request.method}\n{standard}{canonical_headers}{resource}"


class Clock:
    """A backend's own clock: the wall clock plus every ``advance`` (``LocalAzure.advance`` moves them all)."""

    def __init__(self) -> None:
        self._skew = 0.0

    def advance(self, seconds: float) -> None:
        self._skew += seconds

    def now(self) -> datetime:
        """The time on this backend's clock (the wall clock plus every ``advance``)."""
        return datetime.now(timezone.utc) + timedelta(seconds=self._skew)


class KeyPropagation(Clock):
    """A data plane that accepts a key only ``propagation_seconds`` after Azure generated it, on its own
    clock (``advance`` moves it): a new key may take a while to work everywhere, and no Microsoft
    source says how long, so tests choose."""

    def __init__(self) -> None:
        super().__init__()
        self.propagation_seconds = 0.0

    def accepts(self, generated: str | None) -> bool:
        """Whether a key Azure reports generated at ``generated`` (ISO time) works yet."""
        if generated is None or not self.propagation_seconds:
            return True
        at = datetime.fromisoformat(generated.replace("Z", "+00:00"))
        return (self.now() - at).total_seconds() >= self.propagation_seconds


class DataPlane(KeyPropagation):
    """A data plane's backend and its options where Microsoft documents nothing: ``propagation_seconds``
    (a key regenerated less than that long ago, on this backend's clock, is still refused: a new key
    may take a while to work everywhere) and ``reachable`` (False: the host cannot be reached, as
    behind a firewall the function is outside of; the proxy refuses the tunnel)."""

    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__()
        self.cloud = cloud
        self.reachable = True

    def live_keys(self, keys: Mapping[str, str], generated: Mapping[str, str | None]) -> list[str]:
        """The values of ``keys`` (by name) that work on the data plane yet, per their generation times."""
        return [value for name, value in keys.items() if self.accepts(generated.get(name))]


Handler = Callable[[Any, Request, "re.Match[str]"], Response]


@dataclass(frozen=True)
class Url:
    """One operation: the route name the request log and fault injection use, and its handler.

    ``writes`` marks operations that change a secret or a key (what tests count as writes).
    ``method`` ``*`` takes any method. ``action`` is the RBAC action ARM checks for it, where
    Microsoft names one that ARM's naming of the URL would not give (``localazure.services.arm``).
    """

    route: str
    method: str
    pattern: str
    handler: Handler
    writes: bool = False
    names: Callable[[Request], str] | None = None  # names the route from the request instead
    action: str | None = None

    def route_for(self, request: Request) -> str:
        return self.names(request) if self.names else self.route

    def match(self, path: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern, path, re.IGNORECASE)


@dataclass(frozen=True)
class Front:
    """A front door: which listener and hosts it answers, the checks before every operation
    behind it (token audience, api-version), the answer to a path none of them knows, and (ARM's)
    the authorization of each operation."""

    name: str
    listener: str  # "azure" (the TLS server behind the proxy), "identity", "blob" or "queue"
    serves: Callable[[LocalAzure, str], bool]
    check: Callable[[LocalAzure, Request, Service | None], None]
    unknown: Callable[[LocalAzure, Request], Response]
    authorize: Callable[[LocalAzure, Request, Url], None] | None = None


@dataclass(frozen=True)
class Service:
    """A service behind a front door; its backend is reached in tests as ``cloud.<name>``."""

    name: str
    front: Front
    backend: Callable[[LocalAzure], Any]
    urls: tuple[Url, ...]
    api_versions: frozenset[str] = frozenset()  # what it accepts; empty: any
    serialized: bool = True  # handlers run under the cloud's lock (the blob forward does not)


def data_plane_service(
    name: str,
    host: re.Pattern[str],
    backend: Callable[[LocalAzure], DataPlane],
    check: Callable[[LocalAzure, Request, Service | None], None],
    urls: tuple[Url, ...],
    *,
    unknown: Callable[[LocalAzure, Request], Response],
) -> Service:
    """The data plane ``cloud.<name>``: a front door of its own for ``host``'s names, while the backend
    is reachable (otherwise the proxy refuses the tunnel), its checks and its URLs."""

    def serves(cloud: LocalAzure, served: str) -> bool:
        return bool(host.fullmatch(served)) and getattr(cloud, name).reachable

    return Service(name, Front(name, "azure", serves, check, unknown), backend, urls)
