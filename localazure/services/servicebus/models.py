"""Service Bus namespaces and their shared access policies (namespace, queue and topic rules).

Event Hubs, Relay and Notification Hubs share the design (their own specs' ``AuthorizationRules.json``,
``notificationhubs.json``), so their backends are this one under another provider
(:mod:`localazure.services.eventhubs`, :mod:`localazure.services.relay`,
:mod:`localazure.services.notificationhubs`), with the differences their specs show: the body field
that names the key, and whether an entity rule's connection strings name the entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from localazure.services.arm.models import DEFAULT_SUBSCRIPTION, ArmResource
from localazure.services.base import new_key

if TYPE_CHECKING:
    from localazure.server import LocalAzure

KEY_TYPES = ("PrimaryKey", "SecondaryKey")


@dataclass
class Namespace(ArmResource):
    disable_local_auth: bool = False

    provider: ClassVar[str] = "Microsoft.ServiceBus/namespaces"


@dataclass
class Rule:
    """An authorization rule; ``entity`` is ``("queues", name)``, ``("topics", name)`` or ``None``."""

    namespace: Namespace
    name: str
    entity: tuple[str, str] | None = None
    keys: dict[str, str] = field(default_factory=lambda: {key: new_key() for key in KEY_TYPES})

    @property
    def provider(self) -> str:
        entity = f"/{self.entity[0]}" if self.entity else ""
        return f"{self.namespace.provider}{entity}/authorizationRules"

    @property
    def id(self) -> str:
        entity = f"/{self.entity[0]}/{self.entity[1]}" if self.entity else ""
        return f"{self.namespace.id}{entity}/authorizationRules/{self.name}"


class ServiceBusBackend:
    namespace_type: type[Namespace] = Namespace
    type_name = "Microsoft.ServiceBus/Namespaces"  # as the namespace GET spells it (SBNameSpaceGet.json)
    key_field = "keyType"  # regenerateKeys' body field (RegenerateAccessKeyParameters)
    # An entity rule's connection strings end in EntityPath= (SBQueueAuthorizationRuleRegenerateKey.json).
    entity_path = True

    def __init__(self, cloud: LocalAzure) -> None:
        self.cloud = cloud
        self.namespaces: dict[str, Namespace] = {}
        self.rules: dict[str, Rule] = {}  # by lower-cased rule ID

    def create_rule(
        self,
        namespace: str,
        rule: str = "RootManageSharedAccessKey",
        *,
        entity: tuple[str, str] | None = None,
        subscription: str = DEFAULT_SUBSCRIPTION,
        resource_group: str = "rg-demo",
    ) -> Rule:
        """A rule (and its namespace, if new): of the namespace, or of an entity ``("queues", name)``."""
        with self.cloud.lock:
            owner = self.namespaces.get(namespace.lower()) or self.cloud.arm.add(
                self.namespaces, self.namespace_type(subscription, resource_group, namespace)
            )
            created = Rule(owner, rule, entity)
            self.rules[created.id.lower()] = created
            return created

    def resources(self) -> list[Rule]:
        return list(self.rules.values())
