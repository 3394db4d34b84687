"""Shared access policies of the Service Bus family: Service Bus, Event Hubs, Relay and Notification Hubs rules.

The services share one design (spec ``AuthorizationRules.json`` of each, Notification Hubs'
``notificationhubs.json``): every authorization rule, of a namespace or of one of its entities, has a
``PrimaryKey`` and a ``SecondaryKey``; ``regenerateKeys`` naming one of them is synchronous and answers
with both keys and their connection strings; rules report no key generation time. Service Bus and Event
Hubs namespaces say whether SAS is switched off (``properties.disableLocalAuth``); Relay and Notification
Hubs namespaces have no such switch at their pinned versions. A kind is one instance per level of rule,
built by the service's module: :class:`SasRuleKind` through the service's management SDK,
:class:`RestSasRuleKind` through :mod:`rotators.kinds.armrest` for a service whose SDK is not a dependency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

from rotators.adapters import clients
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, key_in_connection_string
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds import armrest
from rotators.kinds.accountkeys import ONCE
from rotators.kinds.base import Role, arm_call

# The service's keyType names, and the spellings of the listKeys answer.
CREDENTIALS: Mapping[str, Credential] = {
    **pair("PrimaryKey", "SecondaryKey"),
    **pair("Primary", "Secondary", keys=("PrimaryKey", "SecondaryKey")),
}


@dataclass(frozen=True, eq=False)
class SasRuleKind:
    """One level of rule: they differ only in the SDK operation group they call."""

    credentials = CREDENTIALS
    has_connection_string = True

    resource_type: str
    entity_group: str | None  # the SDK's operation group of the entity; None for a namespace rule
    _: KW_ONLY
    display_name: str
    client: str  # "package:ClientClass", imported on first use
    api_version: str
    passwordless: str
    role: Role

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read the namespace of"):
            namespace = self._management(resource).namespaces.get(resource.resource_group, resource.arm.names[0])
        disabled = namespace.properties.disable_local_auth if namespace.properties else None
        return Description({}, "disableLocalAuth is true" if disabled else None)

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = self._operations(resource).list_keys(resource.resource_group, *resource.arm.names)
        return _values(keys.primary_key, keys.secondary_key)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        with arm_call(self, resource, f"Regenerate {key} of"):
            keys = self._operations(resource).regenerate_keys(
                resource.resource_group,
                *resource.arm.names,
                {"keyType": key},
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        return _values(keys.primary_key, keys.secondary_key)

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        """As the service's own connection strings read; entity rules name their entity."""
        return _connection_string(resource, key_value, entity_path=self.entity_group is not None)

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "SharedAccessKey")

    def _management(self, resource: Resource) -> Any:
        return clients.management_client(self.client, self.api_version, resource.subscription, resource.cloud)

    def _operations(self, resource: Resource) -> Any:
        return getattr(self._management(resource), self.entity_group or "namespaces")


@dataclass(frozen=True, eq=False)
class RestSasRuleKind:
    """One level of rule of a service whose management SDK is not a dependency (Relay, Notification Hubs).

    Nothing is read before the keys: the namespace has no switch that refuses them, and the connection
    string is written on the cloud's Service Bus host, as the service's own are.
    """

    credentials = CREDENTIALS
    has_connection_string = True

    resource_type: str
    _: KW_ONLY
    display_name: str
    api_version: str
    key_field: str  # the regenerateKeys body's field that names the key
    entity_path: bool  # whether listKeys' connection strings name the rule's entity (EntityPath=)
    passwordless: str
    role: Role

    def describe(self, resource: Resource) -> Description:
        return Description()

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = armrest.send(resource, "POST", armrest.path(resource.arm, self.api_version, "listKeys"))
        return _listed(keys)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        with arm_call(self, resource, f"Regenerate {key} of"):
            url_path = armrest.path(resource.arm, self.api_version, "regenerateKeys")
            keys = armrest.send(resource, "POST", url_path, {self.key_field: key}, **ONCE)
        return _listed(keys)

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        """As ``listKeys`` writes them (the spec's examples)."""
        return _connection_string(resource, key_value, entity_path=self.entity_path)

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "SharedAccessKey")


def _connection_string(resource: Resource, key_value: str, *, entity_path: bool) -> str:
    names = resource.arm.names
    value = (
        f"Endpoint=sb://{names[0]}.{resource.cloud.servicebus_suffix}/;"
        f"SharedAccessKeyName={resource.name};SharedAccessKey={key_value}"
    )
    return value + (f";EntityPath={names[1]}" if entity_path and len(names) > 2 else "")


def _listed(keys: Any) -> dict[str, str]:
    """The keys of an ``AccessKeys`` (``ResourceListKeys``) answer read as JSON."""
    listed = keys if isinstance(keys, dict) else {}
    return _values(listed.get("primaryKey"), listed.get("secondaryKey"))


def _values(primary: str | None, secondary: str | None) -> dict[str, str]:
    values = {"PrimaryKey": primary, "SecondaryKey": secondary}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise UpstreamError(f"The authorization rule's key list lacks {', '.join(missing)}.")
    return {name: str(value) for name, value in values.items()}
