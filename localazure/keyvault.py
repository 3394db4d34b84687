"""Key Vault secrets data plane, as the 7.x REST API answers it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from localazure.model import SecretVersion, Vault, new_version
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

AUDIENCE = "https://vault.azure.net"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="{AUDIENCE}"'


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "Unauthorized", message, {"WWW-Authenticate": CHALLENGE})


def check_audience(audience: str | None, has_token: bool) -> None:
    if not has_token:
        raise unauthorized("AKV10000: Request is missing a Bearer or PoP token.")
    if audience is None:
        raise unauthorized("AKV10032: Invalid issuer or unknown token.")
    if audience != AUDIENCE:
        raise unauthorized(f"AKV10022: Invalid audience. Expected {AUDIENCE}, found: {audience}.")


def _not_found(name: str, version: str = "") -> ApiError:
    which = f"{name}/{version}" if version else name
    return ApiError(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {which} was not found in this key vault. If you recently deleted this "
        "secret you may be able to recover it using the correct recovery command. For help resolving this "
        "issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )


def _bundle(request: Request, name: str, item: SecretVersion, *, value: bool = True) -> dict:
    body: dict = {
        "id": f"https://{request.host}/secrets/{name}/{item.version}",
        "attributes": item.attributes(),
        "tags": dict(item.tags),
    }
    if value:
        body["value"] = item.value
    if item.content_type is not None:
        body["contentType"] = item.content_type
    return body


def _page(cloud: LocalAzure, request: Request, items: list[dict]) -> Response:
    size = min(int(request.query.get("maxresults") or cloud.page_size), cloud.page_size)
    start = int(request.query.get("$skiptoken") or 0)
    page = items[start : start + size]
    next_link = None
    if start + size < len(items):
        api = request.query.get("api-version", "")
        next_link = (
            f"https://{request.host}{request.path}?api-version={api}&$skiptoken={start + size}&maxresults={size}"
        )
    return Response(200, {"value": page, "nextLink": next_link})


def _valid_name(name: str) -> None:
    if not name or len(name) > 127 or not all(c.isalnum() or c == "-" for c in name):
        raise ApiError(400, "BadParameter", "The request URI contains an invalid name: " + name)


def get_secret(cloud: LocalAzure, vault: Vault, request: Request, name: str, version: str = "") -> Response:
    item = vault.find(name, version) if version else vault.latest(name)
    if item is None:
        raise _not_found(name, version)
    if not item.enabled:
        # Key Vault answers a disabled version with 403 and innererror SecretDisabled (Microsoft's
        # Key Vault error reference; team notes in shared/README.md).
        raise ApiError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled")
    return Response(200, _bundle(request, name, item))


def set_secret(cloud: LocalAzure, vault: Vault, request: Request, name: str) -> Response:
    _valid_name(name)
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        raise ApiError(400, "BadParameter", "Property 'value' is required.")
    attributes = body.get("attributes") or {}
    now = int(time.time())
    item = SecretVersion(
        version=new_version(),
        value=body["value"],
        created=now,
        updated=now,
        tags=dict(body.get("tags") or {}),
        content_type=body.get("contentType"),
        enabled=attributes.get("enabled", True),
        expires=attributes.get("exp"),
        not_before=attributes.get("nbf"),
    )
    vault.secrets.setdefault(name.lower(), []).append(item)
    return Response(200, _bundle(request, name, item))


def update_secret(cloud: LocalAzure, vault: Vault, request: Request, name: str, version: str) -> Response:
    item = vault.find(name, version) if version else vault.latest(name)
    if item is None:
        raise _not_found(name, version)
    body = request.json() or {}
    attributes = body.get("attributes") or {}
    if "enabled" in attributes:
        item.enabled = attributes["enabled"]
    if "exp" in attributes:
        item.expires = attributes["exp"]
    if "nbf" in attributes:
        item.not_before = attributes["nbf"]
    if "tags" in body:
        item.tags = dict(body["tags"] or {})
    if "contentType" in body:
        item.content_type = body["contentType"]
    item.updated = int(time.time())
    return Response(200, _bundle(request, name, item, value=False))


def list_versions(cloud: LocalAzure, vault: Vault, request: Request, name: str) -> Response:
    versions = vault.secrets.get(name.lower())
    if not versions:
        raise _not_found(name)
    return _page(cloud, request, [_bundle(request, name, item, value=False) for item in versions])


def list_secrets(cloud: LocalAzure, vault: Vault, request: Request) -> Response:
    items = []
    for key in sorted(vault.secrets):
        latest = vault.secrets[key][-1]
        item = _bundle(request, key, latest, value=False)
        item["id"] = f"https://{request.host}/secrets/{key}"
        items.append(item)
    return _page(cloud, request, items)
