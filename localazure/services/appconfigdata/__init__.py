"""App Configuration stores' data plane: key-values at ``https://<store>.azconfig.io/kv/<key>``.

As Microsoft's App Configuration REST reference describes it: ``GET`` and ``PUT /kv/{key}`` with
an optional ``label`` (spec examples ``GetKeyValue.json``, ``PutKeyValue.json`` under
``appconfiguration/data-plane/Microsoft.AppConfiguration/stable/2023-11-01``: body ``etag``,
``key``, ``label``, ``content_type``, ``value``, ``tags``, ``locked``, ``last_modified``; content
type ``application/vnd.microsoft.appconfig.kv+json``); 404 for a key never set; and ``GET /kv``
with a ``key`` filter (``GetKeyValues.json``: ``{"items": [...]}``). Two ways in:

- Microsoft Entra ID ("Microsoft Entra authorization - REST API reference"): a bearer token for
  the audience ``https://azconfig.io``; a principal without App Configuration Data Owner gets 403
  (option ``denied``: the stores whose data the function may not write).
- An access key ("HMAC authentication - REST API reference"): ``Authorization: HMAC-SHA256
  Credential=<key id>&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64
  HMAC-SHA256 of "<METHOD>\n<path and query>\n<the signed headers' values joined by ;>" under the
  base64-decoded key>``, ``x-ms-content-sha256`` the body's SHA-256; only the store's live keys
  (the ARM stand-in's) sign, a read-only key only reads. Anything else: 401 with
  ``WWW-Authenticate: HMAC-SHA256 error="invalid_token"``, as the doc's errors show.

Tests read the key-values (``cloud.appconfigdata.values``); the options of every stand-in data
plane apply (:class:`~localazure.services.base.DataPlane`).
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

from localazure.services.appconfiguration.models import ConfigurationStore
from localazure.services.base import DataPlane, Service, Url, data_plane_service, hmac_arguments, hmac_request_signed
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

AUDIENCE = "https://azconfig.io"
API_VERSIONS = frozenset({"1.0", "2023-10-01", "2023-11-01"})
_HOST = re.compile(r"(?P<store>[a-z0-9-]{5,50})\.azconfig\.io")
CONTENT_TYPE = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"
LIST_CONTENT_TYPE = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"


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


class AppConfigDataBackend(DataPlane):
    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__(cloud)
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
    store = cloud.appconfiguration.items.get(_store(cloud, request))
    if store is None:
        raise ApiError(404, "NotFound", "The configuration store does not exist.")
    authorization = request.headers.get("authorization", "")
    signed = hmac_arguments(authorization)
    if signed is not None:
        _check_hmac(cloud.appconfigdata, store, request, signed)
        return
    audience = cloud.identity.audience(authorization) if authorization.lower().startswith("bearer ") else None
    if audience is None or audience.rstrip("/") != AUDIENCE:
        raise ApiError(401, "Unauthorized", "The access token is missing or not for App Configuration.")
    if store.name in cloud.appconfigdata.denied:
        raise ApiError(403, "Forbidden", "The principal does not have the permissions required for this operation.")


def _check_hmac(
    backend: AppConfigDataBackend, store: ConfigurationStore, request: Request, hmac: dict[str, str]
) -> None:
    key_name = next((name for name, key_id in store.ids.items() if key_id == hmac.get("Credential")), None)
    live = [store.keys[key_name]] if key_name and backend.accepts(store.modified.get(key_name)) else []
    if not hmac_request_signed(request, hmac.get("Signature", ""), hmac.get("SignedHeaders", ""), live):
        raise ApiError(
            401,
            "Unauthorized",
            "Invalid Signature",
            {"WWW-Authenticate": 'HMAC-SHA256 error="invalid_token" error_description="Invalid Signature", Bearer'},
        )
    if request.method != "GET" and "Read Only" in (key_name or ""):
        raise ApiError(403, "Forbidden", "A read-only key cannot write.")


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


def list_key_values(backend: AppConfigDataBackend, request: Request, match: re.Match[str]) -> Response:
    store, wanted, label = _store(backend.cloud, request), request.query.get("key", "*"), _label(request)
    items = [
        item.body(key, item_label)
        for (item_store, key, item_label), item in backend.values.items()
        if item_store == store and wanted in ("*", key) and item_label == label
    ]
    return Response(200, {"items": items}, headers={"Content-Type": LIST_CONTENT_TYPE})


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


SERVICE = data_plane_service(
    "appconfigdata",
    _HOST,
    AppConfigDataBackend,
    _check,
    (
        Url("appconfigdata.list_key_values", "GET", r"/kv/?", list_key_values),
        Url("appconfigdata.get_key_value", "GET", r"/kv/(?P<key>[^/?]+)", get_key_value),
        Url("appconfigdata.put_key_value", "PUT", r"/kv/(?P<key>[^/?]+)", put_key_value),
    ),
    unknown=_unknown,
)
