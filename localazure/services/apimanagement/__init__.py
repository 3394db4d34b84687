"""Microsoft.ApiManagement services behind ARM, and their named values that reference Key Vault.

As the REST spec (api-version 2022-08-01) and its examples show them: ``NamedValue_Get``
(``ApiManagementGetNamedValueWithKeyVault.json``: ``properties.keyVault`` ``{secretIdentifier,
identityClientId, lastStatus: {code, timeStampUtc}}``, ``secret: true``, never the value),
``NamedValue_RefreshSecret`` (``ApiManagementRefreshNamedValue.json``: 202 with a ``location``),
``NamedValue_ListByService`` and ``ApiManagementService_List``/``ListByResourceGroup`` (``{"value": [...]}``).
Microsoft's "Use named values in Azure API Management policies" says a named value fetches the
secret's latest version every four hours, and a refresh fetches it at once; each fetch by the
service's identity is a ``SecretGet`` in the vault's audit trail.

Options where Microsoft says nothing: per named value ``refresh_delay`` (the refresh's fetch lands that
many seconds later, on this backend's clock, ``advance``) and ``vault_access`` (False: the fetch fails and
``lastStatus.code`` is ``failure_code``, whose value no source gives).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote

from localazure.services import arm
from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, RG
from localazure.services.base import Clock, Service, Url
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

FETCH_EVERY = timedelta(hours=4)
_PROVIDER = "Microsoft.ApiManagement/service"
_IDENTIFIER = re.compile(r"https://(?P<vault>[^./]+)\.vault\.azure\.net/secrets/(?P<secret>[^/]+)/?(?P<version>[^/]*)")


@dataclass
class NamedValue:
    name: str
    secret_identifier: str
    status: dict[str, str] | None = None  # lastStatus, once a fetch happened
    fetched_at: datetime | None = None
    pending_at: datetime | None = None  # a refresh's fetch lands then
    refresh_delay: float = 0.0
    vault_access: bool = True


@dataclass
class ApiService:
    subscription: str
    resource_group: str
    name: str
    principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    named_values: dict[str, NamedValue] = field(default_factory=dict)  # by lower-cased id

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/{_PROVIDER}/{self.name}"
        )


class ApiManagementBackend(Clock):
    def __init__(self, cloud: LocalAzure) -> None:
        super().__init__()
        self.cloud = cloud
        self.services: dict[str, ApiService] = {}
        self.failure_code = "Forbidden"

    def create(
        self,
        service: str,
        named_values: dict[str, str],
        *,
        resource_group: str = "rg-apps",
        subscription: str = DEFAULT_SUBSCRIPTION,
    ) -> ApiService:
        """A service with named values by id, each referencing a secret identifier, fetched once now."""
        created = ApiService(subscription, resource_group, service)
        with self.cloud.lock:
            self.services[service.lower()] = created
            self.cloud.arm.resource_groups.setdefault(subscription.lower(), set()).add(resource_group.lower())
            for name, identifier in named_values.items():
                created.named_values[name.lower()] = NamedValue(name, identifier)
                self.fetch(created, created.named_values[name.lower()])
        return created

    def fetch(self, service: ApiService, named: NamedValue) -> None:
        """The service reads the secret from Key Vault, as its identity."""
        at = self.now()
        named.fetched_at = at
        reference = _IDENTIFIER.fullmatch(named.secret_identifier)
        versions = (
            self.cloud.keyvault.secret_versions(reference["vault"], reference["secret"])
            if reference and reference["vault"].lower() in self.cloud.keyvault.vaults
            else []
        )
        if not named.vault_access or not versions or reference is None:
            named.status = {"code": self.failure_code, "timeStampUtc": _iso(at)}
            return
        version = reference["version"] or versions[-1].version
        self.cloud.loganalytics.secret_get(
            service.principal_id, reference["vault"], reference["secret"], version, versionless=not reference["version"]
        )
        named.status = {"code": "Success", "timeStampUtc": _iso(at)}

    def settle(self, service: ApiService, named: NamedValue) -> None:
        now = self.now()
        if named.pending_at is not None and now >= named.pending_at:
            named.pending_at = None
            self.fetch(service, named)
        elif named.fetched_at is not None and now - named.fetched_at >= FETCH_EVERY:
            self.fetch(service, named)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _service(backend: ApiManagementBackend, match: re.Match[str]) -> ApiService:
    name, group = unquote(match["service"]), unquote(match["rg"])
    service = backend.services.get(name.lower())
    if service is None or service.resource_group.lower() != group.lower():
        raise backend.cloud.arm.missing(match["sub"], group, _PROVIDER, name)
    return service


def _named(backend: ApiManagementBackend, match: re.Match[str]) -> tuple[ApiService, NamedValue]:
    service = _service(backend, match)
    named = service.named_values.get(unquote(match["named"]).lower())
    if named is None:
        raise ApiError(404, "ResourceNotFound", "Named value not found.")
    backend.settle(service, named)
    return service, named


def _body(service: ApiService, named: NamedValue) -> dict[str, object]:
    key_vault: dict[str, object] = {"secretIdentifier": named.secret_identifier, "identityClientId": None}
    if named.status is not None:
        key_vault["lastStatus"] = dict(named.status)
    return {
        "id": f"{service.id}/namedValues/{named.name}",
        "type": f"{_PROVIDER}/namedValues",
        "name": named.name,
        "properties": {"displayName": named.name, "keyVault": key_vault, "tags": [], "secret": True},
    }


def get_named_value(backend: ApiManagementBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, _body(*_named(backend, match)))


def refresh_secret(backend: ApiManagementBackend, request: Request, match: re.Match[str]) -> Response:
    service, named = _named(backend, match)
    if named.refresh_delay:
        named.pending_at = backend.now() + timedelta(seconds=named.refresh_delay)
    else:
        backend.fetch(service, named)
    location = f"https://{arm.HOST}{request.path}?api-version=2022-08-01&asyncId={uuid.uuid4().hex[:24]}&asyncCode=201"
    return Response(202, None, {"location": location})


def list_named_values(backend: ApiManagementBackend, request: Request, match: re.Match[str]) -> Response:
    service = _service(backend, match)
    for named in service.named_values.values():
        backend.settle(service, named)
    return Response(200, {"value": [_body(service, named) for named in service.named_values.values()]})


def list_services(backend: ApiManagementBackend, request: Request, match: re.Match[str]) -> Response:
    group = unquote(match["rg"]) if match.groupdict().get("rg") else None
    listed = [
        {
            "id": s.id,
            "name": s.name,
            "type": _PROVIDER,
            "identity": {"type": "SystemAssigned", "principalId": s.principal_id},
        }
        for s in backend.services.values()
        if s.subscription.lower() == match["sub"].lower()
        and (group is None or s.resource_group.lower() == group.lower())
    ]
    return Response(200, {"value": listed})


_SERVICES = r"/providers/Microsoft\.ApiManagement/service"
_SERVICE = RG + _SERVICES + r"/(?P<service>[^/]+)"
_NAMED = _SERVICE + r"/namedValues/(?P<named>[^/]+)"
SERVICE = Service(
    "apimanagement",
    arm.FRONT,
    ApiManagementBackend,
    (
        Url("apimanagement.get_named_value", "GET", _NAMED, get_named_value),
        Url("apimanagement.refresh_secret", "POST", _NAMED + "/refreshSecret", refresh_secret),
        Url("apimanagement.list_named_values", "GET", _SERVICE + "/namedValues", list_named_values),
        Url("apimanagement.list_services", "GET", r"/subscriptions/(?P<sub>[^/]+)" + _SERVICES, list_services),
        Url("apimanagement.list_services", "GET", RG + _SERVICES, list_services),
    ),
    frozenset({"2022-08-01"}),
)
