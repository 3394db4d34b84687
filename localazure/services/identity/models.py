"""Tokens the managed-identity endpoint issued, and for which audience."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localazure.server import LocalAzure


class IdentityBackend:
    """Issued tokens stay valid across :meth:`LocalAzure.reset`, as a process keeps its cached token."""

    def __init__(self, cloud: LocalAzure) -> None:
        self.header = secrets.token_urlsafe(16)
        self._retired: set[str] = set()  # the headers of earlier resets
        self.principal_id = str(uuid.uuid4())  # the managed identity's object ID, as ARM's refusals name it
        self._issued: dict[str, str] = {}
        self._lock = threading.Lock()

    def new_header(self) -> None:
        """A reset hands out a new ``IDENTITY_HEADER``: a credential of an earlier test still holds the old
        one, so its late token requests (finishing in the background) are told apart from the new test's."""
        with self._lock:
            self._retired.add(self.header)
            self.header = secrets.token_urlsafe(16)

    def retired(self, header: str | None) -> bool:
        with self._lock:
            return header in self._retired

    def issue(self, audience: str) -> tuple[str, int]:
        """A JWT-shaped token (unsigned here) whose ``oid`` claim is this identity's object ID, as Entra ID's access
        tokens carry it ("Access token claims reference": ``oid``, the object ID of the caller)."""
        claims = {"aud": audience.rstrip("/"), "oid": self.principal_id, "jti": secrets.token_urlsafe(16)}
        token = ".".join(_part(part) for part in ({"typ": "JWT", "alg": "none"}, claims)) + "." + _part({})
        with self._lock:
            self._issued[token] = audience.rstrip("/")
        return token, int(time.time()) + 3600

    def audience(self, request_authorization: str) -> str | None:
        """The audience of the bearer token in an ``Authorization`` header, ``None`` for an unknown token."""
        return self._issued.get(bearer(request_authorization) or "")


def _part(value: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def bearer(authorization: str) -> str | None:
    return authorization[7:] if authorization.lower().startswith("bearer ") else None
