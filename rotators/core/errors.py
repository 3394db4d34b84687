"""The errors a rotation can end in, each carrying the HTTP status it maps to.

    RotationError
    ├── BadRequest            400  malformed request or event
    ├── VaultNotAllowed       403  vault outside ROTATION_ALLOWED_VAULTS
    ├── SecretNotFound        404
    ├── CoolingDown           409  current version younger than the minimum interval
    ├── RotationInProgress    409  another trigger holds the secret's lock
    ├── NotRotatable          422  missing or invalid tags, unsupported resource type
    │   └── ResourceNotFound  422  ProviderAddress names no resource
    ├── ConfigurationError    500  the app's own settings are missing or invalid
    ├── UpstreamError         502  Azure refused for good (e.g. a missing role assignment)
    └── TransientError        503  throttling, 5xx, timeouts: retrying may succeed
        └── OperationFailed   503  a key regeneration operation ended Failed: start a new one

Errors that come from Azure carry its answer (:class:`AzureAnswer`: the operation, the
status and Azure's error code) as fields, so callers decide on fields, never on text or
``__cause__``. Messages name the failing input and never carry a key or secret value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class AzureAnswer:
    """What Azure answered one call; ``status`` is ``None`` when no answer came back."""

    operation: str
    status: int | None = None
    code: str | None = None
    retry_after: float | None = None

    @property
    def refused(self) -> bool:
        """A 4xx answer: Azure looked at the request and did nothing with it."""
        return self.status is not None and 400 <= self.status < 500


class RotationError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "RotationFailed"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, answer: AzureAnswer | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.answer = answer

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(RotationError):
    status, code = 400, "BadRequest"


class VaultNotAllowed(RotationError):
    status, code = 403, "VaultNotAllowed"


class SecretNotFound(RotationError):
    status, code = 404, "SecretNotFound"


class CoolingDown(RotationError):
    status, code = 409, "CoolingDown"


class RotationInProgress(RotationError):
    status, code = 409, "RotationInProgress"


class NotRotatable(RotationError):
    status, code = 422, "SecretNotRotatable"


class ResourceNotFound(NotRotatable):
    code = "ResourceNotFound"


class ConfigurationError(RotationError):
    status, code = 500, "ConfigurationError"


class UpstreamError(RotationError):
    status, code = 502, "UpstreamError"


class TransientError(RotationError):
    status, code, retryable = 503, "UpstreamUnavailable", True


class OperationFailed(TransientError):
    code = "OperationFailed"
