"""Testing a key on a resource's data plane: what the service's answer means for the key.

A refusal of the key itself (401; Storage's 403 ``AuthenticationFailed``) is
:class:`KeyRefused`. Anything else that keeps the test from running (a firewall's 403, such as
Storage's ``AuthorizationFailure`` or Cosmos DB's IP-firewall 403, DNS, a refused or timed-out
connection, a 5xx) is :class:`DataPlaneUnreachable`: it says nothing about the key. Messages
carry the status and code only, never the SDK's text (which may quote the request).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rotators.core.errors import DataPlaneUnreachable, KeyRefused

_KEY_REFUSED_403 = frozenset({"authenticationfailed"})


@contextmanager
def testing_key(what: str) -> Iterator[None]:
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except HttpResponseError as exc:
        raw = getattr(exc, "error_code", None) or ""
        status, code = exc.status_code, str(getattr(raw, "value", raw))  # Storage's codes are an enum
        if status == 401 or (status == 403 and code.lower() in _KEY_REFUSED_403):
            raise KeyRefused(f"{what}: the key was refused ({status} {code})".rstrip()) from None
        raise DataPlaneUnreachable(f"{what}: answered {status} {code}".rstrip()) from None
    except AzureError as exc:  # no connection, no answer in time (azure-cosmos's own timeout too)
        raise DataPlaneUnreachable(f"{what}: {type(exc).__name__}") from None
