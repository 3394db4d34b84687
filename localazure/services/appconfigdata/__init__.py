"""App Configuration stores' data plane: key-values at ``https://<store>.azconfig.io/kv/<key>``.

As Microsoft's App Configuration REST reference describes it: ``GET`` and ``PUT /kv/{key}`` with
an optional ``label`` (spec examples ``GetKeyValue.json``, ``PutKeyValue.json`` under
``appconfiguration/data-plane/Microsoft.AppConfiguration/stable/2023-11-01``: body ``etag``,
``key``, ``label``, ``content_type``, ``value``, ``tags``, ``locked``, ``last_modified``; content
type ``application/vnd.microsoft.appconfig.kv+json``); 404 for a key never set. Microsoft Entra
authorization ("Microsoft Entra authorization - REST API reference"): a bearer token for the
audience ``https://azconfig.io`` (401 otherwise), and a principal without App Configuration Data
Owner gets 403 (option ``denied``: the stores whose data the function may not write). Tests read
the key-values (``cloud.appconfigdata.values``).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from localazure.services.base import Front, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

AUDIENCE = "https://azconfig.io"
API_VERSIONS = frozenset({"1.0", "2023-10-01", "2023-11-01"})
_HOST = re.compile(r"(?P<store>[a-z0-9-]{5,50})\.azconfig\.io")
CONTENT_TYPE = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"


@dataclass
class KeyValue:
    value: str | None
    content_type: str | None
    tags: dict[str, str]
    etag: str
    last_modified: datetime

    def body(self, key: str, label: str | None) -> dict[str, Any]:
        return {
            "etag": self.etag,
            "key": key,
            "label": label,
            "content_type": self.content_type,
            "value": self.value,
            "tags": self.tags,
            "locked": False,
            "last_modified": self.last_modified.isoformat(),
        }


class AppConfigDataBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.values: dict[tuple[str, str, str | None], KeyValue] = {}  # (store, key, label)
        self.denied: set[str] = set()

    def get(self, store: str, key: str, label: str | None = None) -> KeyValue | None:
        return self.values.get((store.lower(), key, label))


def _store(cloud: LocalAzure, request: Request) -> str:
    match = _HOST.fullmatch(request.host)
    return match["store"] if match else ""


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    if request.query.get("api-version") not in API_VERSIONS:
        raise ApiError(400, "BadRequest", "The api-version query parameter is missing or not supported.")
    authorization = request.headers.get("authorization", "")
    audience = cloud.identity.audience(authorization) if authorization.lower().startswith("bearer ") else None
    if audience is None or audience.rstrip("/") != AUDIENCE:
        raise ApiError(401, "Unauthorized", "The access token is missing or not for App Configuration.")
    if _store(cloud, request) in cloud.appconfigdata.denied:
        raise ApiError(403, "Forbidden", "The principal does not have the permissions required for this operation.")


def _unknown(cloud: LocalAzure, request: Request) -> Response:
    raise ApiError(404, "NotFound", "The requested resource was not found.")


def _label(request: Request) -> str | None:
    label = request.query.get("label")
    return None if label in (None, "", "\0") else label


def _answer(key: str, label: str | None, item: KeyValue) -> Response:
    headers = {
        "Content-Type": CONTENT_TYPE,
        "ETag": f'"{item.etag}"',
        "Last-Modified": format_datetime(item.last_modified, usegmt=True),
    }
    return Response(200, item.body(key, label), headers=headers)


def get_key_value(backend: AppConfigDataBackend, request: Request, match: re.Match[str]) -> Response:
    store, key, label = _store(backend.cloud, request), unquote(match["key"]), _label(request)
    item = backend.get(store, key, label)
    if item is None:
        return Response(404, None)
    return _answer(key, label, item)


def put_key_value(backend: AppConfigDataBackend, request: Request, match: re.Match[str]) -> Response:
    store, key, label = _store(backend.cloud, request), unquote(match["key"]), _label(request)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, "InvalidRequest", "The request body is not valid JSON.") from None
    item = KeyValue(
        value=body.get("value"),
        content_type=body.get("content_type"),
        tags=dict(body.get("tags") or {}),
        etag=secrets.token_urlsafe(20),
        last_modified=datetime.now(timezone.utc).replace(microsecond=0),
    )
    backend.values[(store, key, label)] = item
    return _answer(key, label, item)


def _serves(cloud: LocalAzure, host: str) -> bool:
    match = _HOST.fullmatch(host)
    return match is not None and match["store"] in cloud.appconfiguration.items


FRONT = Front("appconfigdata", "azure", _serves, _check, _unknown)
SERVICE = Service(
    "appconfigdata",
    FRONT,
    AppConfigDataBackend,
    (
        Url("appconfigdata.get_key_value", "GET", r"/kv/(?P<key>[^/?]+)", get_key_value),
        Url("appconfigdata.put_key_value", "PUT", r"/kv/(?P<key>[^/?]+)", put_key_value),
    ),
    API_VERSIONS,
)
