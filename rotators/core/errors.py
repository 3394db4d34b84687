"""The errors a rotation can end in, each carrying the HTTP status it maps to.

    RotationError                500
    ├── BadRequest               400  malformed request or event
    ├── VaultNotAllowed          403  vault outside ROTATION_ALLOWED_VAULTS
    ├── SecretNotFound           404
    ├── CoolingDown              409  current version younger than the minimum interval
    ├── RotationInProgress       409  another trigger holds the key pair's lock
    ├── NotRotatable             422  missing or invalid tags, unsupported resource type
    │   ├── ResourceNotFound     422  ProviderAddress names no resource
    │   ├── KeyPairClaimed       422  another secret rotates the same key pair
    │   ├── CredentialDrift      422  the value is the alternate key, not the one CredentialId names
    │   ├── SecretBroken         422  the value is neither key of the pair: it already holds a dead key
    │   ├── KeyAuthDisabled      422  the resource refuses key authentication: rotating is pointless
    │   └── SecretDisabled       422  the secret's current version is disabled
    ├── RollbackRefused          409  a rollback would publish a dead key, or race a rotation under way
    ├── ResourceLocked           409  a management lock (ScopeLocked) refuses writes: remove it
    ├── ConfigurationError       500  the app's own settings are missing or invalid
    ├── UpstreamError            502  Azure refused for good
    │   ├── AccessDenied         502  403: a role is missing, or a new assignment is still propagating (retryable)
    │   └── VaultAccessPolicies  502  the vault uses access policies, which the deployed roles do not grant
    └── TransientError           503  throttling, 5xx, timeouts: retrying may succeed
        ├── ResourceBusy         503  the resource is running another operation (412): try later
        ├── DeadlineExceeded     503  the trigger's time is up: a later trigger continues
        ├── KeyRefused           503  the data plane refused a key just regenerated: not yet propagated
        └── DataPlaneUnreachable 503  the data plane could not be reached to test a key

tests/test_core.py renders this tree from the classes and compares it with the one above.

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


class KeyPairClaimed(NotRotatable):
    code = "KeyPairClaimed"


class CredentialDrift(NotRotatable):
    code = "CredentialDrift"


class SecretBroken(NotRotatable):
    code = "SecretBroken"


class KeyAuthDisabled(NotRotatable):
    code = "KeyAuthDisabled"


class SecretDisabled(NotRotatable):
    code = "SecretDisabled"


class RollbackRefused(RotationError):
    """A rollback that would publish a dead key, or race a rotation under way."""

    status, code = 409, "RollbackRefused"


class ResourceLocked(RotationError):
    status, code = 409, "ScopeLocked"


class ConfigurationError(RotationError):
    status, code = 500, "ConfigurationError"


class UpstreamError(RotationError):
    status, code = 502, "UpstreamError"


class AccessDenied(UpstreamError):
    """Retryable: Microsoft's RBAC troubleshooting doc allows about 10 minutes for a new assignment to apply."""

    code, retryable = "AccessDenied", True


class VaultAccessPolicies(UpstreamError):
    code = "VaultAccessPolicies"


class TransientError(RotationError):
    status, code, retryable = 503, "UpstreamUnavailable", True


class ResourceBusy(TransientError):
    code = "ResourceBusy"


class DeadlineExceeded(TransientError):
    code = "DeadlineExceeded"


class KeyRefused(TransientError):
    """The resource's data plane refused a key just regenerated (401/403): not yet propagated, or not working."""

    code = "KeyNotAccepted"


class DataPlaneUnreachable(TransientError):
    """The resource's data plane could not be reached to test a key (firewall, DNS, network)."""

    code = "DataPlaneUnreachable"
