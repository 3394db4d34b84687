"""API Management subscriptions (Microsoft.ApiManagement/service/subscriptions) behind ARM (the services and
their named values are :mod:`localazure.services.apimanagement`).

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

from localazure.services.keyed import (
    ChildBackend,
    ChildResource,
    KeyedApi,
    KeyedResource,
    keyed_service,
    primary_secondary,
)


@dataclass
class Subscription(ChildResource):
    """A service's subscription."""

    state: str = "active"  # the spec's SubscriptionState: active, suspended, submitted, rejected, cancelled, expired
    provider: ClassVar[str] = "Microsoft.ApiManagement/service/subscriptions"
    parent: ClassVar[str] = "Microsoft.ApiManagement/service"
    segment: ClassVar[str] = "subscriptions"
    child: ClassVar[str] = "app-subscription"


def _subscription_body(subscription: KeyedResource) -> dict[str, Any]:
    assert isinstance(subscription, Subscription)
    state = "suspended" if subscription.keys_off else subscription.state
    owner, scope = f"{subscription.parent_id}/users/1", f"{subscription.parent_id}/apis"
    created = "2017-06-02T17:59:06.223Z"
    return subscription.body(
        {"ownerId": owner, "scope": scope, "displayName": "App", "state": state, "createdDate": created}
    )


class ApiSubscriptionsBackend(ChildBackend):
    """Subscriptions by their service's name (``create(name)`` makes the service and its subscription)."""

    api = KeyedApi(
        Subscription,
        ("Primary", "Secondary"),
        "listSecrets",
        "regenerate(?P<key>Primary|Secondary)Key",  # regeneratePrimaryKey, regenerateSecondaryKey
        None,
        get_body=_subscription_body,
        keys_body=primary_secondary,
        regenerated_body=lambda subscription, key: None,
        regenerated_status=204,
    )


SERVICE = keyed_service(
    "apimsubscriptions", ApiSubscriptionsBackend, frozenset({"2024-05-01"}), path=Subscription.path()
)
