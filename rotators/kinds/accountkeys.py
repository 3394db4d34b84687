"""Resources whose two keys are listed and regenerated on the resource itself.

Such services differ only in names: the SDK's operation group and methods, the body that picks
the key, the fields of the key list, the property that switches keys off, the hosts the resource
reports, and whether the regeneration is long-running. Each kind's module states those names in
a :class:`KeyApi` (with the spec examples it follows), and its connection string, if the service
documents one, in a :class:`ConnectionFormat`; :class:`AccountKeyKind` does the calls, the error
mapping and the checks every kind shares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from rotators.adapters import clients
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, key_in_connection_string
from rotators.core.resources import Credential, Resource
from rotators.kinds.base import Role, arm_call


@dataclass(frozen=True)
class KeyApi:
    """How one service's management SDK reads a resource, lists its keys and regenerates one."""

    client: str  # "package:ClientClass", imported on first use
    api_version: str
    read: str  # "operation_group.method" that reads the resource: (resource group, name)
    list_keys: str  # "operation_group.method" that lists its keys: (resource group, name)
    fields: Mapping[str, str]  # the service's key name -> attribute of the key list
    regenerate: Callable[[Any, Resource, str], Any]  # (client, resource, key name) -> its answer
    keys_off: Callable[[Any], str | None]  # the resource as read -> why keys are refused, or None
    # The resource as read -> the hosts it reports for itself, by name (Description.endpoints).
    endpoints: Callable[[Any], Mapping[str, str | None]] = lambda _: {}
    retiring: str | None = None  # when Microsoft retires the service, and what replaces it (Description.retiring)
    answers_both: bool = True  # False: regenerate answers the new key only, so the keys are listed after it
    # A long-running regeneration: ``regenerate`` starts it without polling (``polling=False``) and
    # the rotation watches the keys, as for Cosmos DB, whether Azure answered 200 or 202.
    long_running: bool = False


@dataclass(frozen=True)
class ConnectionFormat:
    """A connection string the service documents: how to write one around a key and find the key in one.

    ``write`` takes the resource, the key and the host the resource reports (the endpoint named
    ``host``, among those ``KeyApi.endpoints`` reads; ``None`` for a service whose connection
    string names no host ARM reports, such as Redis's).
    """

    write: Callable[[Resource, str, str | None], str]
    field: str  # the name of the key's ``name=value`` pair
    separator: str = ";"
    host: str | None = None  # which of the resource's endpoints the string is written around


@dataclass(frozen=True, eq=False)
class AccountKeyKind:
    """A kind whose keys live on the resource: its names, its :class:`KeyApi`, and its connection string
    when the service documents one."""

    resource_type: str
    display_name: str
    credentials: Mapping[str, Credential]
    api: KeyApi
    _: KW_ONLY
    passwordless: str
    role: Role
    connection: ConnectionFormat | None = None

    @property
    def has_connection_string(self) -> bool:
        return self.connection is not None

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            read = self._call(resource, self.api.read)
        endpoints = {name: str(value) for name, value in self.api.endpoints(read).items() if value}
        return Description({}, self.api.keys_off(read), endpoints, retiring=self.api.retiring)

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = self._call(resource, self.api.list_keys)
        return self._values(keys)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        with arm_call(self, resource, f"Regenerate {key} of"):
            answer = self.api.regenerate(self._client(resource), resource, key)
        if self.api.long_running:
            return None
        return self._values(answer) if self.api.answers_both else self.list_keys(resource)

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        if self.connection is None:  # read_contract refuses ConnectionString for such a kind first
            raise ValueError(f"A {self.display_name} has no connection string.")
        host = None
        if self.connection.host is not None:
            host = described.endpoints.get(self.connection.host)
            if not host:
                raise UpstreamError(
                    f"Azure reported no {self.connection.host} for {resource.name}: its connection string is unknown."
                )
        return self.connection.write(resource, key_value, host)

    def key_in_connection_string(self, value: str) -> str | None:
        if self.connection is None:
            return None
        return key_in_connection_string(value, self.connection.field, separator=self.connection.separator)

    def _client(self, resource: Resource) -> Any:
        return clients.management_client(self.api.client, self.api.api_version, resource.subscription, resource.cloud)

    def _call(self, resource: Resource, path: str) -> Any:
        group, _, method = path.partition(".")
        return getattr(getattr(self._client(resource), group), method)(resource.resource_group, resource.name)

    def _values(self, keys: Any) -> dict[str, str]:
        values = {name: getattr(keys, attribute, None) for name, attribute in self.api.fields.items()}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise UpstreamError(f"The {self.display_name}'s key list lacks {', '.join(missing)}.")
        return {name: str(value) for name, value in values.items()}


# How a kind tests a new key on its data plane: (the kind, the resource, the key's name, its value,
# what describe read).
Verifier = Callable[[AccountKeyKind, Resource, str, str, Description], None]


@dataclass(frozen=True, eq=False)
class VerifiedAccountKeyKind(AccountKeyKind):
    """An :class:`AccountKeyKind` whose new keys are tested on the data plane before they are published
    (:class:`~rotators.kinds.base.Verifiable`): a separate class, so that only these kinds are Verifiable."""

    verify: Verifier = field(kw_only=True)

    def verify_key(self, resource: Resource, key: str, value: str, described: Description) -> str | None:
        self.verify(self, resource, key, value, described)
        return None


# The keyword every regeneration call carries: sent once; the rotation decides whether to ask again.
ONCE: dict[str, Any] = {"retry_total": 0}
# A long-running one is never followed: the rotation reads the keys (Microsoft documents no status
# URL role, and the 200-or-202 choice is Azure's).
STARTED: dict[str, Any] = {"retry_total": 0, "polling": False}


def flag(name: str, value: Any) -> str | None:
    """A key switch that reads true: named as the resource spells it."""
    return f"{name} is true" if value else None
