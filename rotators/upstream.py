"""One place that turns Azure SDK exceptions into ours.

The SDK's own message is never copied: it may echo request content. Ours names the
service, the operation and the status, and the original stays chained as ``__cause__``.
azure-core is imported on the first call, not at cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rotators.errors import OperationFailed, RotationError, TransientError, UpstreamError

if TYPE_CHECKING:
    from azure.core.exceptions import HttpResponseError

# 409 and 412: the resource is busy (Cosmos DB answers 412 while another operation holds its lock).
_TRANSIENT_STATUSES = frozenset({408, 409, 412, 429})


@contextmanager
def calling(operation: str, *, not_found: Callable[[], RotationError] | None = None) -> Iterator[None]:
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    try:
        yield
    except RotationError:
        raise
    except ResourceNotFoundError as exc:
        if not_found is not None:
            raise not_found() from exc
        raise UpstreamError(f"{operation}: not found (404{_code(exc)}).") from exc
    except ClientAuthenticationError as exc:
        raise TransientError(f"{operation}: authentication failed ({_status(exc)}{_code(exc)}).") from exc
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if 200 <= status < 300:
            # azure-core reports a long-running operation that ended Failed this way.
            raise OperationFailed(f"{operation}: the operation ended Failed; retry later.") from exc
        if status in _TRANSIENT_STATUSES or status >= 500 or status == 0:
            raise TransientError(
                f"{operation}: Azure answered {status or 'no status'}{_code(exc)}; retry later."
            ) from exc
        hint = "; check the function's role assignments" if status == 403 else ""
        raise UpstreamError(f"{operation}: Azure refused with {status}{_code(exc)}{hint}.") from exc
    except AzureError as exc:
        raise TransientError(f"{operation}: {type(exc).__name__} (no answer from Azure); retry later.") from exc


def refused(error: RotationError) -> bool:
    """Whether Azure answered the request with a refusal, so it certainly changed nothing."""
    status = getattr(error.__cause__, "status_code", None) or 0
    return 400 <= status < 500


def _status(exc: HttpResponseError) -> str:
    return str(exc.status_code) if exc.status_code else "no status"


def _code(exc: HttpResponseError) -> str:
    code = getattr(getattr(exc, "error", None), "code", None)
    return f" {code}" if code else ""
