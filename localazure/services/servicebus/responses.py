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
from localazure.services.servicebus.models import KEY_TYPES, Rule
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
    return Response(200, _access_keys(servicebus, _rule(servicebus, request, match)))


def regenerate_keys(servicebus: ServiceBusBackend, request: Request, match: re.Match[str]) -> Response:
    rule = _rule(servicebus, request, match)
    body = request.json() or {}
    key_type = body.get(servicebus.key_field)
    if key_type not in KEY_TYPES:  # spelled as the enum spells it
        raise ApiError(400, "BadRequest", f"The value '{key_type}' is not valid for {servicebus.key_field}.")
    rule.keys[key_type] = str(body.get("key") or new_key())
    return Response(200, _access_keys(servicebus, rule))


def _rule(servicebus: ServiceBusBackend, request: Request, match: re.Match[str]) -> Rule:
    rule_id = request.path[: request.path.lower().rindex("/")]
    rule = servicebus.rules.get(rule_id.lower())
    if rule is None:
        servicebus.cloud.arm.find(servicebus.namespaces, match, servicebus.namespace_type.provider)  # its 404 first
        raise ApiError(404, "EntityNotFound", f"The authorization rule '{match['rule']}' could not be found.")
    return rule


def _access_keys(servicebus: ServiceBusBackend, rule: Rule) -> dict:
    entity = f";EntityPath={rule.entity[1]}" if rule.entity and servicebus.entity_path else ""
    base = (
        f"Endpoint=sb://{rule.namespace.name}.servicebus.windows.net/;SharedAccessKeyName={rule.name};SharedAccessKey="
    )
    return {
        "keyName": rule.name,
        "primaryConnectionString": base + rule.keys["PrimaryKey"] + entity,
        "secondaryConnectionString": base + rule.keys["SecondaryKey"] + entity,
        "primaryKey": rule.keys["PrimaryKey"],
        "secondaryKey": rule.keys["SecondaryKey"],
    }
