"""Key Vault's secrets data plane, as the REST API (7.x) answers it."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from localazure.services.keyvault.models import SecretVersion, new_version
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.keyvault.models import KeyVaultBackend, Vault


def _target(keyvault: KeyVaultBackend, request: Request, match: re.Match[str]) -> tuple[Vault, str, str]:
    vault = keyvault.vault_of(request.host)
    if vault is None:  # the proxy tunnels only to vaults that exist
        raise ApiError(404, "NotFound", "Unknown vault.")
    groups = match.groupdict()
    return vault, groups.get("name") or "", groups.get("version") or ""


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


def _page(keyvault: KeyVaultBackend, request: Request, items: list[dict]) -> Response:
    size = min(int(request.query.get("maxresults") or keyvault.page_size), keyvault.page_size)
    start = int(request.query.get("$skiptoken") or 0)
    page = items[start : start + size]
    next_link = None
    if start + size < len(items):
        api = request.query.get("api-version", "")
        next_link = (
            f"https://{request.host}{request.path}?api-version={api}&$skiptoken={start + size}&maxresults={size}"
        )
    return Response(200, {"value": page, "nextLink": next_link})


def _valid_tags(tags: object) -> dict:
    """At most 15 tags ("About Azure Key Vault secrets", Secret tags); more are refused 400 BadParameter
    "Property has invalid value" (hashicorp/terraform-provider-azurerm#16780 and #16947;
    aztfmod/terraform-azurerm-caf#821 recorded the same answer for a certificate)."""
    tags = dict(tags) if isinstance(tags, dict) else {}
    if len(tags) > 15:
        raise ApiError(400, "BadParameter", "Property has invalid value")
    return tags


def _valid_name(name: str) -> None:
    if not name or len(name) > 127 or not all(c.isalnum() or c == "-" for c in name):
        raise ApiError(400, "BadParameter", "The request URI contains an invalid name: " + name)


def get_secret(keyvault: KeyVaultBackend, request: Request, match: re.Match[str]) -> Response:
    vault, name, version = _target(keyvault, request, match)
    item = vault.find(name, version) if version else vault.latest(name)
    if item is None:
        raise _not_found(name, version)
    if not item.enabled:
        # Key Vault answers a disabled version with 403 and innererror SecretDisabled (Microsoft's
        # Key Vault error reference; team notes in shared/README.md).
        raise ApiError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled")
    # Key Vault logs each read with the caller's object ID ("Azure Key Vault logging"): here the caller is always the
    # function's own identity, the only holder of the stand-in's tokens.
    cloud = keyvault.cloud
    cloud.loganalytics.secret_get(cloud.identity.principal_id, vault.name, name, item.version, versionless=not version)
    return Response(200, _bundle(request, name, item))


def set_secret(keyvault: KeyVaultBackend, request: Request, match: re.Match[str]) -> Response:
    vault, name, _ = _target(keyvault, request, match)
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
        tags=_valid_tags(body.get("tags")),
        content_type=body.get("contentType"),
        enabled=attributes.get("enabled", True),
        expires=attributes.get("exp"),
        not_before=attributes.get("nbf"),
    )
    vault.secrets.setdefault(name.lower(), []).append(item)
    return Response(200, _bundle(request, name, item))


def update_secret(keyvault: KeyVaultBackend, request: Request, match: re.Match[str]) -> Response:
    vault, name, version = _target(keyvault, request, match)
    item = vault.find(name, version) if version else vault.latest(name)
    if item is None:
        raise _not_found(name, version)
    body = request.json() or {}
    tags = _valid_tags(body["tags"]) if "tags" in body else item.tags  # refused before anything changes
    attributes = body.get("attributes") or {}
    if "enabled" in attributes:
        item.enabled = attributes["enabled"]
    if "exp" in attributes:
        item.expires = attributes["exp"]
    if "nbf" in attributes:
        item.not_before = attributes["nbf"]
    item.tags = tags
    if "contentType" in body:
        item.content_type = body["contentType"]
    item.updated = int(time.time())
    return Response(200, _bundle(request, name, item, value=False))


def list_versions(keyvault: KeyVaultBackend, request: Request, match: re.Match[str]) -> Response:
    vault, name, _ = _target(keyvault, request, match)
    versions = vault.secrets.get(name.lower())
    if not versions:
        raise _not_found(name)
    return _page(keyvault, request, [_bundle(request, name, item, value=False) for item in versions])


def list_secrets(keyvault: KeyVaultBackend, request: Request, match: re.Match[str]) -> Response:
    vault, _, _ = _target(keyvault, request, match)
    items = []
    for key in sorted(vault.secrets):
        latest = vault.secrets[key][-1]
        item = _bundle(request, key, latest, value=False)
        item["id"] = f"https://{request.host}/secrets/{key}"
        items.append(item)
    return _page(keyvault, request, items)
