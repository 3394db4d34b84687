"""What a service of the stand-in is: a backend holding its state, the front door it sits
behind (a host with its authentication and api-version rules) and its table of URLs.

Each service is a package of three modules, as moto lays them out: ``models`` (the state),
``responses`` (the handlers, answering as the service's REST API does) and ``urls`` (the
table). Adding a service means one package and one line in :mod:`localazure.services`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

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


class KeyPropagation:
    """A data plane that accepts a key only ``propagation_seconds`` after Azure generated it, on its own
    clock (``advance`` moves it): a new key may take a while to work everywhere, and no Microsoft
    source says how long, so tests choose."""

    def __init__(self) -> None:
        self.propagation_seconds = 0.0
        self._skew = 0.0

    def advance(self, seconds: float) -> None:
        self._skew += seconds

    def accepts(self, generated: str | None) -> bool:
        """Whether a key Azure reports generated at ``generated`` (ISO time) works yet."""
        if generated is None or not self.propagation_seconds:
            return True
        at = datetime.fromisoformat(generated.replace("Z", "+00:00"))
        return (datetime.now(timezone.utc) - at).total_seconds() + self._skew >= self.propagation_seconds


Handler = Callable[[Any, Request, "re.Match[str]"], Response]


@dataclass(frozen=True)
class Url:
    """One operation: the route name the request log and fault injection use, and its handler.

    ``writes`` marks operations that change a secret or a key (what tests count as writes).
    ``method`` ``*`` takes any method.
    """

    route: str
    method: str
    pattern: str
    handler: Handler
    writes: bool = False
    names: Callable[[Request], str] | None = None  # names the route from the request instead

    def route_for(self, request: Request) -> str:
        return self.names(request) if self.names else self.route

    def match(self, path: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern, path, re.IGNORECASE)


@dataclass(frozen=True)
class Front:
    """A front door: which listener and hosts it answers, the checks before every operation
    behind it (token audience, api-version) and the answer to a path none of them knows."""

    name: str
    listener: str  # "azure" (the TLS server behind the proxy), "identity" or "blob"
    serves: Callable[[LocalAzure, str], bool]
    check: Callable[[LocalAzure, Request, Service | None], None]
    unknown: Callable[[LocalAzure, Request], Response]


@dataclass(frozen=True)
class Service:
    """A service behind a front door; its backend is reached in tests as ``cloud.<name>``."""

    name: str
    front: Front
    backend: Callable[[LocalAzure], Any]
    urls: tuple[Url, ...]
    api_versions: frozenset[str] = frozenset()  # what it accepts; empty: any
    serialized: bool = True  # handlers run under the cloud's lock (the blob forward does not)
