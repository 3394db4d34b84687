"""What the core knows of a resource and its kind: plain values and the narrow protocols a contract
is read against. Pure: the kinds themselves (``rotators.kinds``) call Azure and implement these
protocols; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from rotators.core.clouds import Cloud
from rotators.core.parsing import ApplicationPath, ResourceId


@dataclass(frozen=True)
class Credential:
    """One value of the ``CredentialId`` tag: the service's key name and the other member of its pair."""

    tag: str
    key: str
    alternate: str


def credential_key(tag: str) -> str:
    """How a ``CredentialId`` value is matched: case-insensitively, spaces ignored ("Primary Read Only")."""
    return tag.replace(" ", "").lower()


def pair(first: str, second: str, *, keys: tuple[str, str] | None = None) -> dict[str, Credential]:
    """Both directions of a pair, keyed by :func:`credential_key`."""
    first_key, second_key = keys or (first, second)
    return {
        credential_key(first): Credential(first, first_key, second),
        credential_key(second): Credential(second, second_key, first),
    }


@dataclass(frozen=True)
class Resource:
    """A resource whose keys are rotated, in the cloud of the vault that holds its secret: an ARM resource, or an
    Entra ID application (whose subscription and resource group read as empty).

    Every call is built from these parsed parts, never from the tag's text.
    """

    parsed: ResourceId | ApplicationPath
    cloud: Cloud

    @property
    def id(self) -> str:
        return str(self.parsed)

    @property
    def arm(self) -> ResourceId:
        """The parsed ARM ID, for the kinds of ARM resources (an Entra ID application has none)."""
        if not isinstance(self.parsed, ResourceId):
            raise TypeError(f"{self.parsed} is not an ARM resource")
        return self.parsed

    @property
    def type(self) -> str:
        """The resource type (ARM's, or ``Microsoft.Graph/applications``), as spelled in the ID (the registry
        matches it ignoring case)."""
        return self.parsed.resource_type

    @property
    def subscription(self) -> str:
        return self.parsed.subscription

    @property
    def resource_group(self) -> str:
        return self.parsed.resource_group

    @property
    def name(self) -> str:
        return self.parsed.name


class ContractKind(Protocol):
    """What a contract needs of a resource kind: its names and rules, nothing that calls Azure.

    ``credentials`` maps each ``CredentialId`` value (by :func:`credential_key`) to its key;
    ``passwordless`` names what to use instead of keys; ``has_connection_string`` says whether the
    service documents one (``ValueFormat=ConnectionString``), and ``key_in_connection_string``
    finds the key inside one.
    """

    @property
    def resource_type(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def credentials(self) -> Mapping[str, Credential]: ...

    @property
    def passwordless(self) -> str: ...

    @property
    def has_connection_string(self) -> bool: ...

    def key_in_connection_string(self, value: str) -> str | None: ...


class Kinds(Protocol):
    """The kinds a contract may name, by ARM resource type (``rotators.kinds.KINDS``)."""

    @property
    def supported(self) -> tuple[str, ...]:
        """Every supported ARM resource type, as Microsoft spells it."""
        ...

    def get(self, resource_type: str) -> ContractKind | None:
        """The kind of a resource type (matched ignoring case), or ``None`` when none rotates it."""
        ...
