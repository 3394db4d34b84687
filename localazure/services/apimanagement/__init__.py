"""API Management subscriptions (Microsoft.ApiManagement/service/subscriptions) behind ARM.

Shapes from the spec examples of ``Microsoft.ApiManagement/stable/2024-05-01``:
``ApiManagementGetSubscription.json`` (``type``, ``name`` the subscription's ID, ``properties`` with
``ownerId``, ``scope``, ``displayName``, ``state``, ``createdDate``; no keys, no location),
``ApiManagementSubscriptionListSecrets.json`` (``primaryKey``, ``secondaryKey``) and
``ApiManagementSubscriptionRegeneratePrimaryKey.json`` / ``…SecondaryKey.json`` (no body; 204 with none).
A service here has one subscription, ``app-subscription``, ``active`` (the spec's states; ``keys_off``
makes it ``suspended``: "the subscription is blocked, and the subscriber cannot call any APIs").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from localazure.services.keyed import ChildBackend, KeyedApi, KeyedResource, child_path, keyed_service

SERVICE_TYPE = "Microsoft.ApiManagement/service"
SUBSCRIPTION = "app-subscription"


@dataclass
class Subscription(KeyedResource):
    """A service's subscription; ``name`` is the service's, as the stand-in keys its resources by it."""

    state: str = "active"  # the spec's SubscriptionState: active, suspended, submitted, rejected, cancelled, expired
    provider: ClassVar[str] = "Microsoft.ApiManagement/service/subscriptions"

    @property
    def service_id(self) -> str:
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
        return f"{group}/providers/{SERVICE_TYPE}/{self.name}"

    @property
    def id(self) -> str:
        return f"{self.service_id}/subscriptions/{SUBSCRIPTION}"


def _subscription_body(subscription: KeyedResource) -> dict[str, Any]:
    assert isinstance(subscription, Subscription)
    return {
        "id": subscription.id,
        "type": Subscription.provider,
        "name": SUBSCRIPTION,
        "properties": {
            "ownerId": f"{subscription.service_id}/users/1",
            "scope": f"{subscription.service_id}/apis",
            "displayName": "App",
            "state": "suspended" if subscription.keys_off else subscription.state,
            "createdDate": "2017-06-02T17:59:06.223Z",
        },
    }


class ApiManagementBackend(ChildBackend):
    """Subscriptions by their service's name (``create(name)`` makes the service and its subscription)."""

    parent = SERVICE_TYPE
    child = SUBSCRIPTION
    api = KeyedApi(
        Subscription,
        ("Primary", "Secondary"),
        "listSecrets",
        "regenerate(?P<key>Primary|Secondary)Key",  # regeneratePrimaryKey, regenerateSecondaryKey
        None,
        get_body=_subscription_body,
        keys_body=lambda subscription: {
            "primaryKey": subscription.keys["Primary"],
            "secondaryKey": subscription.keys["Secondary"],
        },
        regenerated_body=lambda subscription, key: None,
        regenerated_status=204,
    )


SERVICE = keyed_service(
    "apimanagement",
    ApiManagementBackend,
    frozenset({"2024-05-01"}),
    path=child_path(SERVICE_TYPE, "subscriptions"),
)
