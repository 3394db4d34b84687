"""Communication Services' data plane on the resource's ``hostName``, signed with an access key.

Only what verifying a new access key needs: List Phone Numbers (``GET /phoneNumbers``, the body of
azure-rest-api-specs ``specification/communication/data-plane/PhoneNumbers/stable/2025-06-01/
examples/GetPhoneNumbers.json``: ``{"phoneNumbers": [...]}``; a resource with none bought lists
none). Requests are signed HMAC-SHA256 with the access key ("Sign an HTTP request" in the
Communication Services docs; azure-communication-phonenumbers' ``HMACCredentialsPolicy``: the
Authorization header names no key, so either live key may have signed). A request no live key
signed is answered 401 (its body is not documented; Microsoft's shape of errors is used), as are
requests without the scheme. The options of every stand-in data plane apply
(:class:`~localazure.services.base.DataPlane`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.base import DataPlane, Service, Url, data_plane_service, hmac_arguments, hmac_request_signed
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<name>[a-z0-9][a-z0-9-]{0,62})(?:\.[a-z]+)?\.communication\.azure\.com")


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    match = _HOST.fullmatch(request.host)
    found = cloud.communication.items.get(match["name"]) if match else None
    if found is None or found.host_name != request.host:  # the host ARM reports, data location included
        raise ApiError(404, "NotFound", "The Communication Services resource does not exist.")
    signed = hmac_arguments(request.headers.get("authorization", "")) or {}
    live = cloud.communicationdata.live_keys(found.keys, found.generated)
    if not hmac_request_signed(request, signed.get("Signature", ""), signed.get("SignedHeaders", ""), live):
        raise ApiError(401, "Denied", "Denied by the resource provider.")


def list_phone_numbers(backend: DataPlane, request: Request, match: re.Match[str]) -> Response:
    return Response(200, {"phoneNumbers": []})


SERVICE = data_plane_service(
    "communicationdata",
    _HOST,
    DataPlane,
    _check,
    (Url("communicationdata.list_phone_numbers", "GET", r"/phoneNumbers", list_phone_numbers),),
    unknown=lambda cloud, request: Response(404, {"error": {"code": "NotFound", "message": "Not found."}}),
)
