"""Storage accounts' blob data plane on the host each account reports (``<account>.blob.core.windows.net``,
or ``<account>.z24.blob.storage.azure.net`` for Azure DNS zone endpoints), authorized with Shared Key.

Only what verifying a new account key needs: ``GET /?restype=service&comp=properties`` (Get
Blob Service Properties, REST doc), signed as Microsoft's "Authorize with Shared Key" doc
describes (the string-to-sign of versions 2009-09-19 and later: the verb, eleven standard
headers, the ``x-ms-`` headers sorted, ``/<account><path>`` and the query parameters sorted,
HMAC-SHA256 with the base64-decoded key). A signature made with neither live key is answered
403 ``AuthenticationFailed``, as the service does.

An account answers only on its own host: a DNS-zone account's name under ``blob.core.windows.net``
is a name nobody serves (404 here), as is the Blob host of a FileStorage account, which serves Azure
Files only ("Storage account overview").

Options where behaviour is not documented: ``propagation_seconds`` (a key regenerated less
than that long ago on this backend's clock is still refused: Microsoft's key rotation guidance
says a new key may take a while to work everywhere) and ``reachable`` (False: the host cannot
be reached, as behind a firewall the function is outside of).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localazure.services.base import SHARED_KEY_REFUSED, DataPlane, Service, Url, data_plane_service, shared_key_signed
from localazure.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from localazure.server import LocalAzure

_HOST = re.compile(r"(?P<account>[a-z0-9]{3,24})\.(?:blob\.core\.windows\.net|z24\.blob\.storage\.azure\.net)")


class StorageDataBackend(DataPlane):
    """Keys are dated by the account's ``keyCreationTime``."""


def _check(cloud: LocalAzure, request: Request, service: Service | None) -> None:
    match = _HOST.fullmatch(request.host)
    account = cloud.storage.accounts.get(match["account"]) if match else None
    if account is None or not account.serves("blob") or request.host != account.host("blob"):
        raise ApiError(404, "ResourceNotFound", "The specified resource does not exist.")
    pair = {key: account.keys[key] for key in ("key1", "key2")}
    live = cloud.storagedata.live_keys(pair, account.created)
    if not shared_key_signed(request, account.name, live, prefix="x-ms-", blank_zero_length=True):
        # Storage names its error in the x-ms-error-code header, which the SDK reads ("Blob service
        # error codes" and "Status and error codes" REST docs).
        raise ApiError(
            403,
            "AuthenticationFailed",
            SHARED_KEY_REFUSED,
            {"x-ms-error-code": "AuthenticationFailed"},
        )


def get_service_properties(backend: StorageDataBackend, request: Request, match: re.Match[str]) -> Response:
    if request.query.get("restype") != "service" or request.query.get("comp") != "properties":
        raise ApiError(400, "InvalidQueryParameterValue", "Value for one of the query parameters is not valid.")
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><Logging><Version>1.0</Version>'
        b"<Read>false</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy><Enabled>false</Enabled>"
        b"</RetentionPolicy></Logging></StorageServiceProperties>"
    )
    return Response(200, body, headers={"Content-Type": "application/xml"})


SERVICE = data_plane_service(
    "storagedata",
    _HOST,
    StorageDataBackend,
    _check,
    (Url("storagedata.get_service_properties", "GET", r"/", get_service_properties),),
    unknown=lambda cloud, request: Response(400, {"error": "unsupported"}),
)
