"""Tokens the managed-identity endpoint issued, and for which audience."""

from __future__ import annotations

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
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._issued[token] = audience.rstrip("/")
        return token, int(time.time()) + 3600

    def audience(self, request_authorization: str) -> str | None:
        """The audience of the bearer token in an ``Authorization`` header, ``None`` for an unknown token."""
        return self._issued.get(bearer(request_authorization) or "")


def bearer(authorization: str) -> str | None:
    return authorization[7:] if authorization.lower().startswith("bearer ") else None
