"""The protocol every resource kind implements, and the credential pairs it rotates between."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from rotators.core.clouds import Cloud
from rotators.core.errors import ResourceNotFound
from rotators.core.parsing import ResourceId


@dataclass(frozen=True)
class Credential:
    """One value of the ``CredentialId`` tag: the service's key name and the other member of its pair."""

    tag: str
    key: str
    alternate: str


def pair(first: str, second: str, *, keys: tuple[str, str] | None = None) -> dict[str, Credential]:
    """Both directions of a pair, keyed by lower-cased tag value."""
    first_key, second_key = keys or (first, second)
    return {
        first.lower(): Credential(first, first_key, second),
        second.lower(): Credential(second, second_key, first),
    }


@dataclass(frozen=True)
class Resource:
    """A resource whose keys are rotated, in the cloud of the vault that holds its secret.

    Every ARM call is built from these parsed parts, never from the tag's text.
    """

    parsed: ResourceId
    cloud: Cloud

    @property
    def id(self) -> str:
        return str(self.parsed)

    @property
    def subscription(self) -> str:
        return self.parsed.subscription

    @property
    def resource_group(self) -> str:
        return self.parsed.resource_group

    @property
    def name(self) -> str:
        return self.parsed.name


OperationStarted = Callable[[str], None]


def missing_resource(resource: Resource) -> Callable[[], ResourceNotFound]:
    return lambda: ResourceNotFound(
        f"Tag 'ProviderAddress' names {resource.id}, which does not exist (or the function cannot see it)."
    )


class KeyKind(Protocol):
    """A resource with two interchangeable keys.

    ``regenerate`` returns the new key value, or ``None`` when a long-running operation is
    still going after ``wait_seconds``; it calls ``on_started`` with a continuation token as
    soon as it has one, so a later trigger resumes instead of regenerating again.
    """

    resource_type: str
    display_name: str
    credentials: Mapping[str, Credential]

    def regenerate(
        self, resource: Resource, key: str, *, resume: str | None, on_started: OperationStarted, wait_seconds: float
    ) -> str | None: ...

    def read_key(self, resource: Resource, key: str) -> str: ...

    def operation_in_progress(self, resource: Resource) -> bool:
        """Whether Azure is still working on the resource, perhaps on a regeneration we lost track of."""
        ...

    def connection_string(self, resource: Resource, key_value: str) -> str: ...
