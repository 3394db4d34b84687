"""Batch accounts' data plane on ``<account>.<region>.batch.azure.com``, authorized with Shared Key.

Only what verifying a new account key needs: List Pools (``GET /pools``, REST "Pool - List"; the
body shape of azure-rest-api-specs ``specification/batch/data-plane/Azure.Batch/stable/2025-06-01/
examples/Pools_ListPools_Basic.json``, here with no pool). Authorization is the Shared Key scheme
of "Authenticate requests to the Azure Batch service": ``SharedKey <account>:<signature>``, the
base64 HMAC-SHA256 (base64-decoded key) of the verb, the eleven standard headers, the ``ocp-``
headers lower-cased and sorted, then ``/<account><path>`` and the query parameters, as
azure-batch's ``BatchSharedKeyAuthPolicy`` signs them. A signature made with neither live key is
answered 403 ``AuthenticationFailed`` in Batch's OData error shape (``code``, ``message.value``,
``values`` with ``AuthenticationErrorDetail``; recorded in Azure/azure-sdk-for-net#3170).

Options where behaviour is not documented: those of :class:`~localazure.services.base.DataPlane`;
keys are dated by ``KeyedResource.generated``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.base import SHARED_KEY_REFUSED, DataPlane, Service, Url, data_plane_service, shared_key_signed
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<account>[a-z0-9-]{3,24})\.(?P<region>[a-z0-9]+)\.batch\.azure\.com")


class _BatchError(ApiError):
    """Batch's OData error body: ``{"odata.metadata", "code", "message": {"lang", "value"}, "values"}``."""

    def __init__(self, status: int, code: str, message: str, host: str, detail: str) -> None:
        super().__init__(status, code, message)
        self.host, self.detail = host, detail

    def response(self) -> Response:
        metadata = f"https://{self.host}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
        return Response(
            self.status,
            {
                "odata.metadata": metadata,
                "code": self.code,
                "message": {"lang": "en-US", "value": self.message},
                "values": [{"key": "AuthenticationErrorDetail", "value": self.detail}],
            },
        )


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    match = _HOST.fullmatch(request.host)
    found = cloud.batch.items.get(match["account"]) if match else None
    if found is None or found.location != match["region"]:
        raise ApiError(404, "AccountNotFound", "The specified account does not exist.")
    live = cloud.batchdata.live_keys(found.keys, found.generated)
    if not shared_key_signed(request, found.name, live, prefix="ocp-", blank_zero_length=False):
        raise _BatchError(
            403,
            "AuthenticationFailed",
            SHARED_KEY_REFUSED,
            request.host,
            "The MAC signature found in the HTTP request is not the same as any computed signature.",
        )


def list_pools(backend: DataPlane, request: Request, match: re.Match[str]) -> Response:
    return Response(200, {"odata.metadata": f"https://{request.host}/$metadata#pools", "value": []})


SERVICE = data_plane_service(
    "batchdata",
    _HOST,
    DataPlane,
    _check,
    (Url("batchdata.list_pools", "GET", r"/pools", list_pools),),
    unknown=lambda cloud, request: Response(404, {"code": "NotFound", "message": {"lang": "en-US", "value": ""}}),
)
