"""One place that turns Azure's answers into our errors.

Every call to Azure runs inside :func:`calling`. What Azure answered (the status and its
error code) is kept on the error as an :class:`AzureAnswer`, and the error's type comes
from one table, :data:`CLASSIFICATION`, in the manner of httpx's ``map_exceptions``. The
SDK's own message is never copied: it may echo request content. The original exception
stays chained as ``__cause__`` for the logs, but no caller looks at it.

azure-core is imported on the first call, not at cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rotators.core.errors import AzureAnswer, OperationFailed, RotationError, TransientError, UpstreamError

if TYPE_CHECKING:
    from azure.core.exceptions import HttpResponseError

ErrorType = type[RotationError]

# (statuses, Azure's error code or None for any) -> our error; the first row that matches wins.
# 409 and 412: the resource is busy (Cosmos DB answers 412 while another operation holds its lock).
CLASSIFICATION: tuple[tuple[range, str | None, ErrorType], ...] = (
    (range(408, 410), None, TransientError),
    (range(412, 413), None, TransientError),
    (range(429, 430), None, TransientError),
    (range(400, 500), None, UpstreamError),
    (range(500, 600), None, TransientError),
)


def classify(answer: AzureAnswer) -> ErrorType:
    """The error type for an answer; no answer at all (a timeout, a dropped connection) is transient."""
    if answer.status is None:
        return TransientError
    for statuses, code, error in CLASSIFICATION:
        if answer.status in statuses and (code is None or (answer.code or "").lower() == code.lower()):
            return error
    return UpstreamError


def describe(answer: AzureAnswer) -> str:
    """Our message for an answer: the operation, the status and Azure's code, never Azure's text."""
    code = f" {answer.code}" if answer.code else ""
    if answer.status is None:
        return f"{answer.operation}: no answer from Azure; retry later."
    if classify(answer).retryable:
        return f"{answer.operation}: Azure answered {answer.status}{code}; retry later."
    hint = "; check the function's role assignments" if answer.status == 403 else ""
    return f"{answer.operation}: Azure refused with {answer.status}{code}{hint}."


@contextmanager
def calling(operation: str, *, not_found: Callable[[], RotationError] | None = None) -> Iterator[None]:
    """Run one call to Azure; any failure leaves as a :class:`RotationError` carrying Azure's answer."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    try:
        yield
    except RotationError:
        raise
    except ResourceNotFoundError as exc:
        answer = _answer(operation, exc)
        if not_found is not None:
            raise not_found() from exc
        raise UpstreamError(describe(answer), answer=answer) from exc
    except ClientAuthenticationError as exc:
        answer = _answer(operation, exc)
        message = f"{operation}: authentication failed ({answer.status or 'no status'}{_code(answer)})."
        raise TransientError(message, answer=answer) from exc
    except HttpResponseError as exc:
        answer = _answer(operation, exc)
        if answer.status is not None and 200 <= answer.status < 300:
            # azure-core reports a long-running operation that ended Failed this way.
            raise OperationFailed(f"{operation}: the operation ended Failed; retry later.", answer=answer) from exc
        raise classify(answer)(describe(answer), answer=answer) from exc
    except AzureError as exc:
        answer = AzureAnswer(operation)
        raise TransientError(
            f"{operation}: {type(exc).__name__} (no answer from Azure); retry later.", answer=answer
        ) from exc


def _answer(operation: str, exc: HttpResponseError) -> AzureAnswer:
    code = getattr(getattr(exc, "error", None), "code", None)
    return AzureAnswer(operation, exc.status_code or None, code)


def _code(answer: AzureAnswer) -> str:
    return f" {answer.code}" if answer.code else ""
