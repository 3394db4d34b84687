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
from typing import Any

from rotators.core.resources import pair
from rotators.kinds.armrest import RestKeyApi, RestKeyKind
from rotators.kinds.base import Role

API_VERSION = "2024-10-01"  # GA, with AADToken among the authModes
KEY_MODE = "key"  # the authMode whose keys apps use, lower-cased


def _not_key_mode(endpoint: Mapping[str, Any]) -> str | None:
    mode = str(endpoint.get("authMode") or "")
    return f"authMode is {mode}" if mode and mode.lower() != KEY_MODE else None


KIND = RestKeyKind(
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
    "Azure Machine Learning online endpoint",
    {**pair("Primary", "Secondary"), **pair("PrimaryKey", "SecondaryKey", keys=("Primary", "Secondary"))},
    RestKeyApi(
        API_VERSION,
        "listKeys",
        {"Primary": "primaryKey", "Secondary": "secondaryKey"},
        keys_off=_not_key_mode,
        regenerate=lambda key: ("regenerateKeys", {"keyType": key}),  # no keyValue: Azure generates the key
        accept=(200, 202),
        long_running=True,
    ),
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
