"""Requests and responses as the route handlers see them, and the services' error shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""  # as sent, for signatures computed over it (App Configuration's HMAC)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ApiError(400, "BadParameter", "The request body is not valid JSON.") from None


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, *, inner: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner = inner

    def response(self) -> Response:
        error: dict = {"code": self.code, "message": self.message}
        if self.inner:  # Key Vault nests the telling code (SecretDisabled, ForbiddenByRbac, AccessDenied)
            error["innererror"] = {"code": self.inner}
        return Response(self.status, {"error": error}, self.headers)


class StorageError(ApiError):
    """Azure Storage's error shape ("Status and Error Codes", Azure Storage REST API): an XML body
    ``<Error><Code>…</Code><Message>…</Message></Error>`` and, from version 2017-07-29, the code in
    the ``x-ms-error-code`` header."""

    def response(self) -> Response:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
        ).encode()
        headers = {"Content-Type": "application/xml", "x-ms-error-code": self.code, **self.headers}
        return Response(self.status, body, headers)
