"""Injected faults and the request log."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field

from localazure.wire import ApiError, Response, StorageError

# The error code each injected status carries unless the test names one (ARM's and the services' codes).
_CODES = {
    400: "BadRequest",
    403: "AuthorizationFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
# Azure Storage's own codes for the same statuses ("Common REST API error codes": 500 InternalError
# "The server encountered an internal error. Please retry the request.", 503 ServerBusy "The server is
# currently unable to receive requests. Please retry your request.").
_STORAGE_CODES = {500: "InternalError", 503: "ServerBusy"}


@dataclass(frozen=True)
class RequestRecord:
    method: str
    host: str
    path: str
    route: str
    audience: str | None
    status: int


@dataclass
class Fault:
    """What the next ``count`` calls to a route get instead of (or before) the real answer.

    ``after`` lets the call take effect and then stalls, drops or replaces the answer (with
    ``status``): a client that dies, times out or is told it failed then has changed the world
    without knowing it. ``taken`` is set when
    a call meets the fault, so a test can kill the caller at that moment.
    """

    route: str
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    after: bool = False
    skip: int = 0
    code: str | None = None
    inner: str | None = None
    message: str = "Injected fault."
    taken: threading.Event = field(default_factory=threading.Event)

    def matches(self, route: str) -> bool:
        """Whether this call meets the fault; the first ``skip`` matching calls pass untouched."""
        if self.count <= 0 or not fnmatch.fnmatchcase(route, self.route):
            return False
        if self.skip:
            self.skip -= 1
            return False
        return True

    def answer_after(self, route: str, served: Response) -> Response:
        """What the client gets of a call served before the fault: ``status``'s error, if the fault has one."""
        return self.error(route).response() if self.status else served

    def error(self, route: str) -> ApiError:
        """The error ``route``'s service answers with: Azure Storage's XML for the blob service, else JSON."""
        assert self.status is not None
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if route.startswith("blob."):
            code = self.code or _STORAGE_CODES.get(self.status, _CODES.get(self.status, "InternalError"))
            return StorageError(self.status, code, self.message, headers)
        code = self.code or _CODES.get(self.status, "ServiceUnavailable")
        return ApiError(self.status, code, self.message, headers, inner=self.inner)
