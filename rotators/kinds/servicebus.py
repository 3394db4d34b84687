"""Azure Service Bus shared access policies: of a namespace, a queue or a topic.

Each authorization rule has a ``PrimaryKey`` and a ``SecondaryKey``; ``regenerateKeys`` with
``{"keyType"}`` is synchronous and answers with both keys and their connection strings
(spec examples ``SBNameSpaceAuthorizationRuleRegenerateKey.json``,
``SBQueueAuthorizationRuleRegenerateKey.json``, ``SBTopicAuthorizationRuleListKey.json``).
The rule reports no key generation time; the namespace says whether SAS is switched off
(``properties.disableLocalAuth``, ``SBNamespaceGet.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rotators.adapters import clients
from rotators.core.errors import UpstreamError
from rotators.core.keys import Description, key_in_connection_string
from rotators.kinds.base import Credential, Resource, arm_call, pair

if TYPE_CHECKING:
    from azure.mgmt.servicebus.models import AccessKeys

# Pinned like every client (README, "Azure API versions"): served in every cloud, with disableLocalAuth.
API_VERSION = "2021-11-01"
# The namespace's host in each cloud (Microsoft's "Azure Service Bus" endpoints per national cloud).
_HOSTS = {
    "AzureCloud": "servicebus.windows.net",
    "AzureChinaCloud": "servicebus.chinacloudapi.cn",
    "AzureUSGovernment": "servicebus.usgovcloudapi.net",
}


class ServiceBusRuleKind:
    """One kind per level of rule (namespace, queue, topic): they differ only in the SDK group they call."""

    display_name = "Service Bus authorization rule"
    # The service's keyType names, and the spellings of the listKeys answer.
    credentials: Mapping[str, Credential] = {
        **pair("PrimaryKey", "SecondaryKey"),
        **pair("Primary", "Secondary", keys=("PrimaryKey", "SecondaryKey")),
    }
    passwordless = "Microsoft Entra ID: give the app a managed identity and a Service Bus data role"
    role = (
        "the 'Service Bus Key Rotator' role (namespaces/read, authorizationRules/listkeys, "
        "authorizationRules/regenerateKeys)"
    )

    def __init__(self, resource_type: str, entity_group: str | None) -> None:
        self.resource_type = resource_type
        self._entity_group = entity_group  # "queues" or "topics"; None for a namespace rule

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read the namespace of"):
            namespace = _client(resource).namespaces.get(resource.resource_group, resource.parsed.names[0])
        disabled = namespace.properties.disable_local_auth if namespace.properties else None
        return Description({}, "disableLocalAuth is true" if disabled else None)

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = self._operations(resource).list_keys(resource.resource_group, *resource.parsed.names)
        return _values(keys)

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        with arm_call(self, resource, f"Regenerate {key} of"):
            keys = self._operations(resource).regenerate_keys(
                resource.resource_group,
                *resource.parsed.names,
                {"keyType": key},
                retry_total=0,  # a regeneration is sent once; the rotation decides whether to ask again
            )
        return _values(keys)

    def connection_string(self, resource: Resource, key_value: str) -> str:
        """As the service's own connection strings read; entity rules name their entity."""
        names = resource.parsed.names
        value = (
            f"Endpoint=sb://{names[0]}.{_HOSTS[resource.cloud.name]}/;"
            f"SharedAccessKeyName={resource.name};SharedAccessKey={key_value}"
        )
        return value + (f";EntityPath={names[1]}" if self._entity_group else "")

    def key_in_connection_string(self, value: str) -> str | None:
        return key_in_connection_string(value, "SharedAccessKey")

    def _operations(self, resource: Resource) -> Any:
        return getattr(_client(resource), self._entity_group or "namespaces")


def _client(resource: Resource) -> Any:
    return clients.management_client(
        "azure.mgmt.servicebus:ServiceBusManagementClient", API_VERSION, resource.subscription, resource.cloud
    )


def _values(keys: AccessKeys) -> dict[str, str]:
    values = {"PrimaryKey": keys.primary_key, "SecondaryKey": keys.secondary_key}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise UpstreamError(f"The authorization rule's key list lacks {', '.join(missing)}.")
    return {name: str(value) for name, value in values.items()}


NAMESPACE_RULE = ServiceBusRuleKind("Microsoft.ServiceBus/namespaces/authorizationRules", None)
QUEUE_RULE = ServiceBusRuleKind("Microsoft.ServiceBus/namespaces/queues/authorizationRules", "queues")
TOPIC_RULE = ServiceBusRuleKind("Microsoft.ServiceBus/namespaces/topics/authorizationRules", "topics")
