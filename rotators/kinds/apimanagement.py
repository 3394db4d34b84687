"""API Management subscription keys (``Microsoft.ApiManagement/service/subscriptions``).

Spec ``specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/
apimsubscriptions.json``: ``Subscription_RegeneratePrimaryKey`` and ``Subscription_RegenerateSecondaryKey``
take no body and answer 204 with none (examples ``ApiManagementSubscriptionRegeneratePrimaryKey.json``,
``…SecondaryKey.json``); ``Subscription_ListSecrets`` answers ``SubscriptionKeysContract`` (``primaryKey``,
``secondaryKey``: example ``ApiManagementSubscriptionListSecrets.json``). A subscription's GET
(``ApiManagementGetSubscription.json``) carries no key, no generation time and no switch for keys, and no
switch of the service refuses subscription keys (whether an API asks for one is the API's or the product's
``subscriptionRequired``, not the subscription's). What refuses a subscription's keys is its ``state``: only
``active`` calls APIs ("suspended - the subscription is blocked, and the subscriber cannot call any APIs of
the product"; ``submitted``, ``rejected``, ``cancelled``, ``expired`` likewise, the spec's ``state``).

Apps send the key alone (``Ocp-Apim-Subscription-Key`` header or ``subscription-key`` query): no connection
string. No key test: the gateway has no call that checks a key without running an API behind it (README,
*Verify before publish*). No new SDK: azure-mgmt-apimanagement is not a dependency (:mod:`rotators.kinds.armrest`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rotators.core.resources import pair
from rotators.kinds.armrest import RestKeyApi, RestKeyKind
from rotators.kinds.base import Role

API_VERSION = "2024-05-01"  # GA; the subscription operations have kept this shape since 2019-12-01
ACTIVE = "active"  # the only state whose keys call APIs


def _not_active(subscription: Mapping[str, Any]) -> str | None:
    state = str(subscription.get("state") or "")
    if not state or state.lower() == ACTIVE:
        return None
    return f"its state is {state}, and only an active subscription calls APIs"


KIND = RestKeyKind(
    "Microsoft.ApiManagement/service/subscriptions",
    "API Management subscription",
    {**pair("Primary", "Secondary"), **pair("PrimaryKey", "SecondaryKey", keys=("Primary", "Secondary"))},
    RestKeyApi(
        API_VERSION,
        "listSecrets",
        {"Primary": "primaryKey", "Secondary": "secondaryKey"},
        keys_off=_not_active,
        regenerate=lambda key: (f"regenerate{key}Key", None),  # regeneratePrimaryKey, regenerateSecondaryKey
        accept=(204,),
        long_running=False,
    ),
    passwordless=(
        "Microsoft Entra ID: give the app a managed identity and have the API check its token "
        "(the validate-azure-ad-token policy) instead of a subscription key"
    ),
    # Granted on the service, which holds its subscriptions.
    role=Role(
        "API Management Subscription Key Rotator",
        (
            "Microsoft.ApiManagement/service/subscriptions/read",
            "Microsoft.ApiManagement/service/subscriptions/listSecrets/action",
            "Microsoft.ApiManagement/service/subscriptions/regeneratePrimaryKey/action",
            "Microsoft.ApiManagement/service/subscriptions/regenerateSecondaryKey/action",
        ),
    ),
)
