"""What keeps every call to Azure inside the trigger's deadline (``rotators.core.deadline``).

Imported when the first client is built, never at cold start: it needs azure-core.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential, TokenRequestOptions
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from azure.storage.blob import ExponentialRetry

from rotators.core import deadline

# The shortest try worth starting: less, and the retry could only time out.
MIN_TRY_SECONDS = 0.5


class DeadlinePolicy(SansIOHTTPPolicy[Any, Any]):
    """A per-call policy: each request's timeouts and its whole retry budget end with the trigger's time."""

    def __init__(self, *, read_timeout: float, connection_timeout: float, per_try: bool = False) -> None:
        self._read_timeout = read_timeout
        self._connection_timeout = connection_timeout
        # Per try (after the retry policy): each attempt's timeouts only, and no attempt past the deadline.
        self._per_try = per_try

    def on_request(self, request: PipelineRequest[Any]) -> None:
        left = deadline.remaining()
        if left is None:
            return
        options = request.context.options
        if not self._per_try:
            options["timeout"] = min(options.get("timeout", left), left)  # azure-core's budget for all retries
        options.update(
            deadline.call_options(
                read_timeout=options.get("read_timeout", self._read_timeout),
                connection_timeout=options.get("connection_timeout", self._connection_timeout),
            )
        )


class DeadlineRetryPolicy(RetryPolicy[Any, Any]):
    """azure-core's retry policy whose whole-call budget ends with the trigger's time, for a client that
    takes no per-call policy of ours (azure-appconfiguration sets its own list): no retry, backoff or
    ``Retry-After`` wait is started past the deadline."""

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        left = deadline.remaining()
        if left is not None:
            options["timeout"] = min(options.get("timeout", left), left)
        return super().configure_retries(options)


class StopAtDeadline:
    """For an Azure Storage SDK's ``ExponentialRetry`` (each SDK ships its own copy), which takes no
    whole-call budget and no per-try policy of ours: a retry starts only if its wait and a short try
    still fit in the trigger's time, and that try's timeouts are cut to what is left after the wait
    (the transport reads each try's timeouts from the call's options)."""

    def configure_retries(self, request: Any) -> dict[str, Any]:
        settings: dict[str, Any] = super().configure_retries(request)  # type: ignore[misc]
        settings["call_options"] = request.context.options
        return settings

    def increment(self, settings: dict[str, Any], request: Any, response: Any = None, error: Any = None) -> bool:
        if not super().increment(settings, request, response, error):  # type: ignore[misc]
            return False
        left = deadline.remaining()
        if left is None:
            return True
        wait = settings["wait"] = super().get_backoff_time(settings)  # type: ignore[misc]  # drawn once: the sleep takes this one
        try_seconds = left - wait
        if try_seconds < MIN_TRY_SECONDS:
            return False
        options = settings["call_options"]
        for timeout in ("read_timeout", "connection_timeout"):
            options[timeout] = min(options.get(timeout, try_seconds), try_seconds)
        return True

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        wait: float = settings.pop("wait") if "wait" in settings else super().get_backoff_time(settings)  # type: ignore[misc]
        return wait


class DeadlineRetry(StopAtDeadline, ExponentialRetry):
    """azure-storage-blob's retry policy, ending with the trigger's time."""


class DeadlineCredential:
    """A credential whose token requests end with the trigger's time.

    MSAL's managed-identity flow takes no per-call timeout, so the request runs on a worker
    thread and the trigger stops waiting for it when its time is up; the request itself
    finishes in the background and its token is cached for the next trigger.
    """

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rotation-token")

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token: AccessToken = self._bounded(self._inner.get_token, *scopes, **kwargs)
        return token

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        get_token_info = getattr(self._inner, "get_token_info", None)
        if get_token_info is None:
            token = self.get_token(*scopes)
            return AccessTokenInfo(token.token, token.expires_on)
        info: AccessTokenInfo = self._bounded(get_token_info, *scopes, options=options)
        return info

    def _bounded(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        left = deadline.remaining()
        if left is None:
            return call(*args, **kwargs)
        deadline.check("Get an access token")
        future = self._workers.submit(call, *args, **kwargs)
        try:
            return future.result(timeout=left)
        except FutureTimeout:
            raise ClientAuthenticationError("The token request did not finish within the trigger's time.") from None
