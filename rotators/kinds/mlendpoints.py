"""Azure Machine Learning online endpoint keys (``Microsoft.MachineLearningServices/workspaces/onlineEndpoints``).

Spec ``specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/
2024-10-01/mfe.json``: ``OnlineEndpoints_ListKeys`` answers ``EndpointAuthKeys`` (``primaryKey``,
``secondaryKey``); ``OnlineEndpoints_RegenerateKeys`` takes ``RegenerateEndpointKeysRequest`` (``keyType``
``Primary``/``Secondary``, and ``keyValue``, "the value the key is set to": never sent, since that sets a key
instead of generating one) and is long-running (``final-state-via: location``), answering 200 with no body or
202 with ``Location`` (and ``Azure-AsyncOperation`` in example ``Workspace/OnlineEndpoint/regenerateKeys.json``),
so it is started once and never followed: the rotation watches the keys, as for Cosmos DB. The endpoint's
``properties.authMode`` (``EndpointAuthMode``: ``Key``, ``AMLToken``, ``AADToken``; ``AMLToken`` in
``Workspace/OnlineEndpoint/get.json``) says whether its keys are used at all: only ``Key`` is rotated.

Apps send the key alone (``Authorization: Bearer <key>`` on the scoring URI): no connection string. No key
test: the only call a key authorizes is scoring, which runs the model (README, *Verify before publish*).
azure-mgmt-machinelearningservices has no online endpoints and azure-ai-ml is a whole workspace SDK, so no new
SDK: the calls go through azure-mgmt-core's ARM pipeline (:mod:`rotators.kinds.armrest`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rotators.core.keys import Description
from rotators.core.resources import Credential, Resource, pair
from rotators.kinds.armrest import ArmApi, KeyAlone, listed_keys, properties
from rotators.kinds.base import Role, arm_call

API_VERSION = "2024-10-01"  # GA, with AADToken among the authModes
ARM = ArmApi(API_VERSION)
_FIELDS = {"Primary": "primaryKey", "Secondary": "secondaryKey"}
KEY_MODE = "Key"  # the authMode whose keys apps use


@dataclass(frozen=True, eq=False)
class OnlineEndpointKind(KeyAlone):
    """An online endpoint of a Machine Learning workspace: read, listed and regenerated on itself."""

    resource_type = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    display_name = "Azure Machine Learning online endpoint"
    credentials: Mapping[str, Credential]
    passwordless: str
    role: Role

    def describe(self, resource: Resource) -> Description:
        with arm_call(self, resource, "Read"):
            endpoint = properties(ARM.get(resource))
        mode = str(endpoint.get("authMode") or "")
        return Description({}, f"authMode is {mode}" if mode and mode.lower() != KEY_MODE.lower() else None)

    def list_keys(self, resource: Resource) -> Mapping[str, str]:
        with arm_call(self, resource, "List keys of"):
            keys = ARM.post(resource, "listKeys")
        return listed_keys(keys, _FIELDS, "The online endpoint's key list")

    def regenerate(self, resource: Resource, key: str) -> Mapping[str, str] | None:
        """Started once: a 200 or a 202 alike (neither lists keys), the rotation then watches the keys."""
        with arm_call(self, resource, f"Regenerate {key} of"):
            # No keyValue: Azure generates the key.
            ARM.post_once(resource, "regenerateKeys", {"keyType": key}, accept=(200, 202))
        return None


KIND = OnlineEndpointKind(
    {**pair("Primary", "Secondary"), **pair("PrimaryKey", "SecondaryKey", keys=("Primary", "Secondary"))},
    # "Authenticate clients for online endpoints": aad_token, for managed online endpoints, needs the caller to
    # hold the score action (the AzureML Data Scientist role has it); Kubernetes endpoints have aml_token only.
    passwordless=(
        "Microsoft Entra ID: set authMode to AADToken (managed online endpoints) and give the app a managed "
        "identity with a role holding onlineEndpoints/score/action (AzureML Data Scientist); or AMLToken"
    ),
    # Granted on the workspace, which holds its endpoints.
    role=Role(
        "Machine Learning Online Endpoint Key Rotator",
        (
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read",
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action",
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/regenerateKeys/action",
        ),
    ),
)
