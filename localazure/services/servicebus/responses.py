"""Microsoft.ServiceBus namespace GET and authorization rules' listKeys and regenerateKeys.

Shapes from the spec examples (Microsoft.ServiceBus stable 2021-11-01 to 2026-01-01):
``SBNameSpaceGet.json``, ``SBNameSpaceAuthorizationRuleListKey.json``,
``SBNameSpaceAuthorizationRuleRegenerateKey.json``, ``SBQueueAuthorizationRuleRegenerateKey.json``,
``SBTopicAuthorizationRuleListKey.json``: both synchronous, 200 with ``AccessKeys``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.base import new_key
from localazure.services.servicebus.models import Rule
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.services.servicebus.models import ServiceBusBackend


def get_namespace(servicebus: ServiceBusBackend, request: Request, match: re.Match[str]) -> Response:
    namespace = servicebus.cloud.arm.find(servicebus.namespaces, match, servicebus.namespace_type.provider)
    return Response(
        200,
        {
            "id": namespace.id,
            "name": namespace.name,
            "type": servicebus.type_name,
            "location": namespace.location,
            "sku": {"name": "Standard", "tier": "Standard"},
            "properties": {
                "provisioningState": "Succeeded",
                "disableLocalAuth": namespace.disable_local_auth,
                "serviceBusEndpoint": f"https://{namespace.name}.servicebus.windows.net:443/",
                "minimumTlsVersion": "1.2",
            },
        },
    )


def list_keys(servicebus: ServiceBusBackend, request: Request, match: re.Match[str]) -> Response:
    return Response(200, access_keys(_rule(servicebus, request, match)))


def regenerate_keys(servicebus: ServiceBusBackend, request: Request, match: re.Match[str]) -> Response:
    rule = _rule(servicebus, request, match)
    body = request.json() or {}
    key_type, key = servicebus.requested_key(body)
    if key_type is None:
        named = body.get(servicebus.key_field)
        raise ApiError(400, "BadRequest", f"The value '{named}' is not valid for {servicebus.key_field}.")
    rule.keys[key_type] = str(key or new_key())
    return Response(200, access_keys(rule))


def _rule(servicebus: ServiceBusBackend, request: Request, match: re.Match[str]) -> Rule:
    rule_id = request.path[: request.path.lower().rindex("/")]
    rule = servicebus.rules.get(rule_id.lower())
    if rule is None:
        servicebus.cloud.arm.find(servicebus.namespaces, match, servicebus.namespace_type.provider)  # its 404 first
        raise ApiError(404, "EntityNotFound", f"The authorization rule '{match['rule']}' could not be found.")
    return rule


def access_keys(rule: Rule) -> dict[str, str]:
    """The ``AccessKeys`` (``ResourceListKeys``) answer of listKeys and regenerateKeys."""
    return {
        "keyName": rule.name,
        "primaryConnectionString": rule.connection_string("PrimaryKey"),
        "secondaryConnectionString": rule.connection_string("SecondaryKey"),
        "primaryKey": rule.keys["PrimaryKey"],
        "secondaryKey": rule.keys["SecondaryKey"],
    }
