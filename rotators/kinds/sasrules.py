"""Shared access policies of the Service Bus family: Service Bus and Event Hubs rules.

Both services share one design (spec ``AuthorizationRules.json`` of each): every
authorization rule, of a namespace or of one of its entities, has a ``PrimaryKey`` and a
``SecondaryKey``; ``regenerateKeys`` with ``{"keyType"}`` is synchronous and answers with
both keys and their connection strings; rules report no key generation time; the
namespace says whether SAS is switched off (``properties.disableLocalAuth``). A kind is
one instance of :class:`SasRuleKind` per level of rule, built by the service's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Protocol

from rotators.adapters import clients
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, key_in_connection_string
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds.base import Role, arm_call

# The service's keyType names, and the spellings of the listKeys answer.
CREDENTIALS: Mapping[str, Credential] = {
    **pair("PrimaryKey", "SecondaryKey"),
    **pair("Primary", "Secondary", keys=("PrimaryKey", "SecondaryKey")),
}


class _AccessKeys(Protocol):
    primary_key: str | None
    secondary_key: str | None


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
        return _values(keys)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        with arm_call(self, resource, f"Regenerate {key} of"):
            keys = self._operations(resource).regenerate_keys(
                resource.resource_group,
                *resource.arm.names,
                {"keyType": key},
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        return _values(keys)

    def connection_string(self, resource: Resource, key_value: str, described: Description) -> str:
        """As the service's own connection strings read; entity rules name their entity."""
        names = resource.arm.names
        value = (
            f"Endpoint=sb://{names[0]}.{resource.cloud.servicebus_suffix}/;"
            f"SharedAccessKeyName={resource.name};SharedAccessKey={key_value}"
        )
        return value + (f";EntityPath={names[1]}" if self.entity_group else "")

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "SharedAccessKey")

    def _management(self, resource: Resource) -> Any:
        return clients.management_client(self.client, self.api_version, resource.subscription, resource.cloud)

    def _operations(self, resource: Resource) -> Any:
        return getattr(self._management(resource), self.entity_group or "namespaces")


def _values(keys: _AccessKeys) -> dict[str, str]:
    values = {"PrimaryKey": keys.primary_key, "SecondaryKey": keys.secondary_key}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise UpstreamError(f"The authorization rule's key list lacks {', '.join(missing)}.")
    return {name: str(value) for name, value in values.items()}
