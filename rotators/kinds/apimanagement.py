"""API Management subscription keys (``Microsoft.ApiManagement/service/subscriptions``).

Spec ``specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/
apimsubscriptions.json``: ``Subscription_RegeneratePrimaryKey`` and ``Subscription_RegenerateSecondaryKey``
take no body and answer 204 with none (examples ``ApiManagementSubscriptionRegeneratePrimaryKey.json``,
``…SecondaryKey.json``); ``Subscription_ListSecrets`` answers ``SubscriptionKeysContract`` (``primaryKey``,
``secondaryKey``: example ``ApiManagementSubscriptionListSecrets.json``). A subscription's GET
(``ApiManagementGetSubscription.json``) carries no key, no generation time and no switch for keys: the
service has none ("Subscriptions in Azure API Management" offers other mechanisms, OAuth 2.0, client
certificates, beside keys, never instead of them). What refuses a subscription's keys is its ``state``: only
``active`` calls APIs ("suspended - the subscription is blocked, and the subscriber cannot call any APIs of
the product"; ``submitted``, ``rejected``, ``cancelled``, ``expired`` likewise, the spec's ``state``).

Apps send the key alone (``Ocp-Apim-Subscription-Key`` header or ``subscription-key`` query): no connection
string. No key test: the gateway has no call that checks a key without running an API behind it (README,
*Verify before publish*). No new SDK: azure-mgmt-apimanagement is not a dependency (:mod:`rotators.kinds.armrest`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from rotators.core.errors import RotationError
from rotators.core.keys import Description
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds.armrest import ArmApi, KeyAlone, listed_keys, properties
from rotators.kinds.base import Role, arm_call

API_VERSION = "2024-05-01"  # GA; the subscription operations have kept this shape since 2019-12-01
ARM = ArmApi(API_VERSION)
_FIELDS = {"Primary": "primaryKey", "Secondary": "secondaryKey"}
ACTIVE = "active"  # the only state whose keys call APIs


@dataclass(frozen=True, eq=False)
class SubscriptionKind(KeyAlone):
    """A subscription of an API Management service: read, listed and regenerated on itself."""

    resource_type = "Microsoft.ApiManagement/service/subscriptions"
    display_name = "API Management subscription"
    credentials: Mapping[str, Credential]
    passwordless: str
    role: Role

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            subscription = properties(ARM.get(resource))
        state = str(subscription.get("state") or "")
        refused = f"its state is {state}, and only an active subscription calls APIs" if state else None
        return Description({}, refused if state.lower() != ACTIVE else None)

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = ARM.post(resource, "listSecrets")
        return listed_keys(keys, _FIELDS, "The API Management subscription's listSecrets answer")

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        """Sent once, answered 204 with no keys: they are listed at once. A failed listing is not a
        refused regeneration (Azure changed the key): ``None`` then, and the rotation reads the keys itself."""
        with arm_call(self, resource, f"Regenerate {key} of"):
            ARM.post_once(resource, f"regenerate{key}Key", accept=(204,))
        with contextlib.suppress(RotationError):
            return self.list_keys(resource)
        return None


KIND = SubscriptionKind(
    {**pair("Primary", "Secondary"), **pair("PrimaryKey", "SecondaryKey", keys=("Primary", "Secondary"))},
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
