"""What every ARM resource provider shares: resource groups, resources with a key pair, and the
role assignments ARM authorizes each call against."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeVar

from localazure.wire import ApiError

if TYPE_CHECKING:
    from localazure.server import LocalAzure

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
RG = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"


@dataclass
class ArmResource:
    """A resource some provider serves: its place in ARM, its region and its keys by service key name."""

    subscription: str
    resource_group: str
    name: str
    location: str = "eastus"
    keys: dict[str, str] = field(default_factory=dict)

    provider: ClassVar[str] = ""

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/{self.provider}/{self.name}"
        )


Resource = TypeVar("Resource", bound=ArmResource)


class ArmBackend:
    """The resource groups that exist, so a missing resource gets ARM's two different 404s, and the
    caller's role assignments.

    ``assignments`` is ``None`` until a test calls :meth:`assign`: every call is then authorized, as
    for an identity holding every role the deployment grants. ``checked_as`` maps a route to the
    action ARM checks for it where Microsoft publishes none (the App Service refresh): tests choose.
    """

    def __init__(self, cloud: LocalAzure) -> None:
        self.resource_groups: dict[str, set[str]] = {}
        self.assignments: list[tuple[str, tuple[str, ...]]] | None = None
        self.checked_as: dict[str, str] = {}

    def assign(self, scope: str, actions: Iterable[str]) -> None:
        """A role assignment: ``actions`` (as a role definition lists them, ``*`` a wildcard) on ``scope``
        and everything under it. The first one ends "every call authorized"."""
        self.assignments = [*(self.assignments or []), (scope.rstrip("/"), tuple(actions))]

    def allows(self, action: str, scope: str) -> bool:
        """Whether an assignment covers ``action`` on ``scope`` (both matched ignoring case, as Azure RBAC does)."""
        if self.assignments is None:
            return True
        return any(
            _within(scope, assigned) and any(_matches(action, pattern) for pattern in patterns)
            for assigned, patterns in self.assignments
        )

    def add(self, resources: dict[str, Resource], resource: Resource) -> Resource:
        resources[resource.name.lower()] = resource
        self.resource_groups.setdefault(resource.subscription.lower(), set()).add(resource.resource_group.lower())
        return resource

    def find(self, resources: dict[str, Resource], match: re.Match[str], provider: str) -> Resource:
        """The resource a URL names, or ARM's 404 for it (``ResourceGroupNotFound`` or ``ResourceNotFound``)."""
        resource = resources.get(match["name"].lower())
        if resource is not None and resource.resource_group.lower() == match["rg"].lower():
            return resource
        raise self.missing(match["sub"], match["rg"], provider, match["name"])

    def missing(self, subscription: str, group: str, provider: str, name: str) -> ApiError:
        if group.lower() not in self.resource_groups.get(subscription.lower(), set()):
            return ApiError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
        return ApiError(
            404,
            "ResourceNotFound",
            f"The Resource '{provider}/{name}' under resource group '{group}' was not found. "
            "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )


def _within(scope: str, assigned: str) -> bool:
    scope, assigned = scope.lower(), assigned.lower()
    return scope == assigned or scope.startswith(assigned + "/")


def _matches(action: str, pattern: str) -> bool:
    """Azure's wildcard: ``*`` stands for any run of characters, ``/`` included."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), action, re.IGNORECASE) is not None
