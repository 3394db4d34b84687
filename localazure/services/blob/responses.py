"""The blob service is Azurite itself (the npm package users run); the stand-in only relays
each call, so lease and blob calls show in the request log and take injected faults."""

from __future__ import annotations

import http.client
import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.blob.models import BlobBackend

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def operation(request: Request) -> str:
    """``blob.<comp>`` (``blob.lease.acquire``, ``blob.get``…): what tests inject faults on."""
    comp = request.query.get("comp") or request.method.lower()
    if comp == "lease":
        comp = f"lease.{request.headers.get('x-ms-lease-action', '')}"
    return f"blob.{comp}"


def forward(blob: BlobBackend, request: Request, match: re.Match[str]) -> Response:
    if blob.address is None:
        raise ApiError(503, "ServiceUnavailable", "No blob backend attached.")
    connection = http.client.HTTPConnection(*blob.address, timeout=30)
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
