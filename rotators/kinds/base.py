"""The protocol every resource kind implements: what the core needs of it
(:class:`~rotators.core.resources.ContractKind`), and the calls to Azure that rotate its keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from rotators.adapters.upstream import calling
from rotators.core.errors import ResourceNotFound
from rotators.core.keys import Description
from rotators.core.resources import ContractKind, Resource


@dataclass(frozen=True)
class Role:
    """The custom role the function's identity holds on a kind's resources: exactly the actions the kind calls.

    Stated once, by the kind. infra/modules/key-rotators.json, which the deployment reads, is generated
    from every kind's role (:mod:`rotators.kinds.roles`), and an ARM 403 names it (``str``: its name and
    its actions, each without the provider and ``/action``).
    """

    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        named = (action.partition("/")[2].removesuffix("/action") for action in self.actions)
        return f"the '{self.name}' role ({', '.join(named)})"


def missing_resource(resource: Resource) -> Callable[[], ResourceNotFound]:
    return lambda: ResourceNotFound(
        f"Tag 'ProviderAddress' names {resource.id}, which does not exist (or the function cannot see it)."
    )


def arm_call(kind: KeyKind, resource: Resource, what: str) -> AbstractContextManager[None]:
    """One ARM call on a kind's resource: named for messages, with the role a 403 names and the 404 it means."""
    return calling(
        f"{what} {kind.display_name} {resource.name}",
        role=f"{kind.role} on {resource.name}",
        not_found=missing_resource(resource),
    )


class KeyKind(ContractKind, Protocol):
    """A resource with two interchangeable keys, regenerated one at a time by one ARM call.

    ``describe`` reads the resource once: Azure's generation time for each key where the
    service reports one, whether it refuses key authentication, and the hosts it reports for
    itself (what ``connection_string`` and a key test use: no other read). ``list_keys`` lists
    every key by the service's key name. ``regenerate`` asks Azure once (the SDK never
    re-sends it) and returns the keys as the answer lists them, or ``None`` when Azure
    accepted a long-running operation: that runs on Azure's clock, and ``describe`` and
    ``list_keys`` tell when it is done.
    """

    @property
    def role(self) -> Role:
        """What the function's identity needs on the resource, as infra/ grants it."""
        ...

    def describe(self, resource: Resource) -> Description: ...

    def list_keys(self, resource: Resource) -> Mapping[str, str]: ...

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None: ...

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        """The service's connection string around ``key_value``, from what ``describe`` read. Raises
        :class:`~rotators.core.errors.NotRotatable` (naming the fix) for a resource that has none of
        the kind's form, and :class:`~rotators.core.errors.UpstreamError` when Azure reported no host."""
        ...


@runtime_checkable
class Verifiable(Protocol):
    """A kind that can prove a key works with the service's own data-plane SDK, before it is published.

    ``verify_key`` makes one cheap authenticated read with ``value``, on the host ``described``
    reports; it raises :class:`~rotators.core.errors.KeyRefused` when the service refuses the key
    (401/403) and :class:`~rotators.core.errors.DataPlaneUnreachable` when the service cannot be
    reached. It returns ``None`` once the key was accepted, or why this resource offers no read to
    test with (a Storage account without a Blob endpoint): the key is then published untested.
    """

    def verify_key(self, resource: Resource, key: str, value: str, described: Description) -> str | None: ...
