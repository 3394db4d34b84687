"""One place that turns Azure's answers into our errors.

Every call to Azure runs inside :func:`calling`. What Azure answered (the status, its
innermost error code, its ``Retry-After``) is kept on the error as an :class:`AzureAnswer`,
and the error's type comes from one table, :data:`CLASSIFICATION`, in the manner of httpx's
``map_exceptions``. The SDK's own message is never copied: it may echo request content. Only
names are taken from it, each by a strict pattern: a management lock's, and the action and scope
ARM's 403 says it checked (so the message can say what to grant).
The original exception stays chained as ``__cause__`` for the logs, but no caller looks at it.

azure-core is imported on the first call, not at cold start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rotators.core.errors import (
    AccessDenied,
    AzureAnswer,
    ResourceBusy,
    ResourceLocked,
    RotationError,
    SecretDisabled,
    TransientError,
    UpstreamError,
    VaultAccessPolicies,
)

if TYPE_CHECKING:
    from azure.core.exceptions import HttpResponseError

ErrorType = type[RotationError]

# (statuses, Azure's error code or None for any) -> our error; the first row that matches wins.
CLASSIFICATION: tuple[tuple[range, str | None, ErrorType], ...] = (
    # Key Vault: 403 with innererror SecretDisabled for a disabled version; AccessDenied when the
    # vault grants by access policy and the caller has none; ForbiddenByRbac for a missing role.
    (range(403, 404), "SecretDisabled", SecretDisabled),
    (range(403, 404), "AccessDenied", VaultAccessPolicies),
    # 403 right after a deployment is usually a role assignment still propagating (Microsoft's
    # RBAC troubleshooting doc: up to about 10 minutes), so it is retried, not dropped.
    (range(403, 404), None, AccessDenied),
    # A management lock never clears by retrying.
    (range(409, 410), "ScopeLocked", ResourceLocked),
    (range(408, 410), None, TransientError),
    # Cosmos DB refuses a write while another operation holds its lock: "There is already an
    # operation in progress which requires exclusive lock" (Azure/azure-rest-api-specs#703,
    # hashicorp/terraform-provider-azurerm#15842).
    (range(412, 413), None, ResourceBusy),
    (range(429, 430), None, TransientError),
    (range(400, 500), None, UpstreamError),
    (range(500, 600), None, TransientError),
)

_LOCK = re.compile(r"/providers/Microsoft\.Authorization/locks/([A-Za-z0-9_.()-]{1,90})", re.IGNORECASE)
# ARM's AuthorizationFailed names the action it checked and the scope: "The client '<id>' with object id
# '<id>' does not have authorization to perform action 'X' over scope 'Y' or the scope is invalid. ..."
# (Azure/azure-cli#29644, Azure/ARO-RP#66; "or an ABAC condition not fulfilled" in Microsoft's
# "Troubleshoot Azure RBAC"). Only X and Y are taken, each only if it has the shape of an action or a
# resource path; no other word of Azure's message is.
_DENIED_ACTION = re.compile(
    r"does not have authorization (?:or an ABAC condition not fulfilled )?to perform action "
    r"'([A-Za-z][A-Za-z0-9.]{0,63}(?:/[A-Za-z0-9*._-]{1,128}){1,12})'"
)
_DENIED_SCOPE = re.compile(r"' over scope '(/(?:[A-Za-z0-9_.()-]{1,128}/){0,16}[A-Za-z0-9_.()-]{1,128})'")


def classify(answer: AzureAnswer) -> ErrorType:
    """The error type for an answer; no answer at all (a timeout, a dropped connection) is transient."""
    if answer.status is None:
        return TransientError
    for statuses, code, error in CLASSIFICATION:
        if answer.status in statuses and (code is None or (answer.code or "").lower() == code.lower()):
            return error
    return UpstreamError


def describe(
    answer: AzureAnswer,
    error: ErrorType,
    *,
    role: str | None = None,
    locks: tuple[str, ...] = (),
    denied: tuple[str, str | None] | None = None,
) -> str:
    """Our message for an answer: the operation, the status and Azure's code, never Azure's text.

    ``denied`` is the action (and scope) ARM said it checked, for the message to name what to grant.
    """
    if answer.status is None:
        return f"{answer.operation}: no answer from Azure; retry later."
    said = f"{answer.status}{f' {answer.code}' if answer.code else ''}"
    if error.retryable and error is not AccessDenied:
        wait = f" (Azure asks to wait {answer.retry_after:g} s)" if answer.retry_after else ""
        return f"{answer.operation}: Azure answered {said}{wait}; retry later."
    why = ""
    if error is SecretDisabled:
        why = "the secret's current version is disabled; enable it or write a new version"
    elif error is VaultAccessPolicies:
        why = (
            "the vault uses access policies, so the role assignments deployed for this app do nothing. Enable "
            "RBAC authorization on the vault (enableRbacAuthorization), or grant the app's identity an access policy"
        )
    elif error is AccessDenied:
        why = (
            f"the function's identity lacks {role or 'a role assignment'}, or a role assignment made in the last "
            "minutes has not reached Azure yet (allow about 10 minutes)"
        )
        if denied is not None:
            action, scope = denied
            why += f"; ARM checked {action}: grant {action}" + (f" on {scope}" if scope else "")
    elif error is ResourceLocked:
        named = ", ".join(f"'{lock}'" for lock in locks) or "a management lock"
        why = (
            f"{named} (ReadOnly or CanNotDelete) forbids writes on this resource or its group; retrying cannot "
            "help. Remove the lock, or rotate this resource by hand"
        )
    return f"{answer.operation}: Azure refused with {said}{f': {why}' if why else ''}."


@contextmanager
def calling(
    operation: str, *, role: str | None = None, not_found: Callable[[], RotationError] | None = None
) -> Iterator[None]:
    """Run one call to Azure; any failure leaves as a :class:`RotationError` carrying Azure's answer.

    ``role`` names what the function's identity needs for this call, for the message a 403 gets.
    """
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    try:
        yield
    except RotationError:
        raise
    except ResourceNotFoundError as exc:
        answer = _answer(operation, exc)
        if not_found is not None:
            raise not_found() from exc
        raise UpstreamError(describe(answer, UpstreamError), answer=answer) from exc
    except ClientAuthenticationError as exc:
        answer = _answer(operation, exc)
        message = f"{operation}: authentication failed ({answer.status or 'no status'}{_code(answer)})."
        raise TransientError(message, answer=answer) from exc
    except HttpResponseError as exc:
        answer = _answer(operation, exc)
        error = classify(answer)
        locks = tuple(_LOCK.findall(str(exc.message or ""))) if error is ResourceLocked else ()
        denied = _denied(exc) if error is AccessDenied else None
        raise error(describe(answer, error, role=role, locks=locks, denied=denied), answer=answer) from exc
    except AzureError as exc:
        answer = AzureAnswer(operation)
        message = f"{operation}: {type(exc).__name__} (no answer from Azure); retry later."
        raise TransientError(message, answer=answer) from exc


def _answer(operation: str, exc: HttpResponseError) -> AzureAnswer:
    """Status, the innermost error code (Key Vault nests the telling one in ``innererror``), Retry-After."""
    error = getattr(exc, "error", None)
    inner = getattr(error, "innererror", None)
    code = (inner.get("code") if isinstance(inner, dict) else None) or getattr(error, "code", None)
    return AzureAnswer(operation, exc.status_code or None, code, _retry_after(exc))


def _denied(exc: HttpResponseError) -> tuple[str, str | None] | None:
    """The action and scope an ARM ``AuthorizationFailed`` names, taken by :data:`_DENIED_ACTION` alone."""
    text = str(getattr(getattr(exc, "error", None), "message", None) or exc.message or "")
    action = _DENIED_ACTION.search(text)
    if action is None:
        return None
    scope = _DENIED_SCOPE.match(text, action.end() - 1)
    return action.group(1), scope.group(1) if scope else None


def _retry_after(exc: HttpResponseError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = str(headers.get(name, "")).strip()
        if value.isascii() and value.isdigit():
            return int(value) * scale
    return None


def _code(answer: AzureAnswer) -> str:
    return f" {answer.code}" if answer.code else ""
