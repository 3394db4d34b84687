"""Testing a key on a resource's data plane: what the service's answer means for the key.

A refusal of the key itself (401; the 403 codes a service documents for a refused key:
Storage's and Batch's ``AuthenticationFailed``, AI Search's bare 403) is :class:`KeyRefused`.
Anything else that keeps the test from running (a firewall's 403, such as Storage's
``AuthorizationFailure`` or Cosmos DB's IP-firewall 403, DNS, a refused or timed-out connection,
a 5xx) is :class:`DataPlaneUnreachable`: it says nothing about the key. Messages
carry the status and code only, never the SDK's text (which may quote the request).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from rotators.core.errors import DataPlaneUnreachable, KeyRefused

# Storage's and Batch's code for a signature made with a key they do not hold.
KEY_REFUSED_403 = frozenset({"authenticationfailed"})


@contextmanager
def testing_key(what: str, *, refused_403: Collection[str] = KEY_REFUSED_403) -> Iterator[None]:
    """Map the test's failure: 401, or a 403 whose code (lower-cased; ``""`` for none) is in ``refused_403``,
    is :class:`KeyRefused`; any other answer or failure is :class:`DataPlaneUnreachable`."""
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except HttpResponseError as exc:
        # Storage sets error_code; other SDKs leave the code in the parsed OData error (Batch's ``code``).
        raw = getattr(exc, "error_code", None) or getattr(getattr(exc, "error", None), "code", None) or ""
        status, code = exc.status_code, str(getattr(raw, "value", raw))  # Storage's codes are an enum
        if status == 401 or (status == 403 and code.lower() in refused_403):
            raise KeyRefused(f"{what}: the key was refused ({status} {code})".rstrip()) from None
        raise DataPlaneUnreachable(f"{what}: answered {status} {code}".rstrip()) from None
    except AzureError as exc:  # no connection, no answer in time (azure-cosmos's own timeout too)
        raise DataPlaneUnreachable(f"{what}: {type(exc).__name__}") from None
