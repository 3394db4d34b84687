"""What the function remembers of a secret between triggers, beside the rotation records in its own
``AzureWebJobsStorage``: one small JSON blob per secret and kind (``<prefix><vault host>/<secret>``).

The kinds are the consumers' refresh memory (``rotators.core.refreshes``) and the failure memory
(``rotators.core.failures``); each is pure data with ``to_json`` and a parser. A blob is read as at most
:data:`MAX_BYTES` and parsed defensively: one that is not what this app writes (any size, depth, type
or encoding) is refused with a message, never an unexpected error. Changes are written with the ETag
of what was read (``If-None-Match: *`` for the first), so that of two triggers changing a memory at
once one wins and the other reads again: :func:`remember`; and deleted with it: :func:`forget`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import VaultAddress
from rotators.core.errors import NotRotatable, RotationError, TransientError, UpstreamError

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

# A full consumer registry is about 100 entries of at most about 700 bytes; anything far larger is not one.
MAX_BYTES = 256 * 1024
_ROLE = clients.LOCK_STORE_ROLE


class Remembered(Protocol):
    def to_json(self) -> bytes: ...


Record = TypeVar("Record", bound=Remembered)


@dataclass(frozen=True)
class Kind(Generic[Record]):
    """One kind of memory: where its blobs live, what it is called in messages, how it is read back."""

    prefix: str
    what: str
    parse: Callable[[bytes], Record]  # raises ValueError for anything it did not write


class Changed(TransientError):
    """The memory changed between its read and its write: read it again."""


def blob_name(vault: VaultAddress, secret: str, prefix: str) -> str:
    return f"{prefix}{vault_prefix(vault)}{secret.lower()}"


def vault_prefix(vault: VaultAddress) -> str:
    """The part of a blob name that every secret of ``vault`` shares, after the kind's prefix."""
    return vault.url.removeprefix("https://").rstrip("/") + "/"


def load(kind: Kind[Record], vault: VaultAddress, secret: str) -> tuple[Record | None, str | None]:
    """The memory and its ETag; ``(None, None)`` when there is none yet. One that is not what this app
    writes is refused (``NotRotatable``): nobody acts on its word."""
    read = download(blob_client(blob_name(vault, secret, kind.prefix)), f"Read the {kind.what} of {secret}")
    if read is None:
        return None, None
    raw, etag = read
    try:
        if len(raw) > MAX_BYTES:
            raise ValueError
        return kind.parse(raw), etag
    except ValueError:
        raise NotRotatable(f"The {kind.what} of secret '{secret}' is not one this app wrote.") from None


def save(kind: Kind[Record], vault: VaultAddress, secret: str, record: Record, *, etag: str | None) -> None:
    """Write the memory if it is still the one read (``etag``; ``None``: there was none), else :class:`Changed`."""
    from azure.core import MatchConditions

    blob = blob_client(blob_name(vault, secret, kind.prefix))
    try:
        with calling(f"Write the {kind.what} of {secret}", role=_ROLE):
            if etag is None:  # If-None-Match: *
                blob.upload_blob(record.to_json(), overwrite=False, **clients.blob_call_options())
            else:
                blob.upload_blob(
                    record.to_json(),
                    overwrite=True,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                    **clients.blob_call_options(),
                )
    except TransientError as exc:  # 409 BlobAlreadyExists, 412 ConditionNotMet: another trigger wrote it
        if exc.answer is not None and exc.answer.status in (409, 412):
            raise Changed(f"The {kind.what} of secret '{secret}' changed meanwhile.", answer=exc.answer) from None
        raise


def replace(kind: Kind[Record], vault: VaultAddress, secret: str, record: Record) -> None:
    """Write the memory whatever the blob holds (when that is not a memory this app wrote)."""
    with calling(f"Write the {kind.what} of {secret}", role=_ROLE):
        blob_client(blob_name(vault, secret, kind.prefix)).upload_blob(
            record.to_json(), overwrite=True, **clients.blob_call_options()
        )


def remember(kind: Kind[Record], vault: VaultAddress, secret: str, change: Callable[[Record | None], Record]) -> Record:
    """Read the memory, change it, and write it back only if nobody wrote it meanwhile (two tries).

    ``change`` gets what is stored (``None``: nothing yet) and may run once per try; returns what was written.
    """
    for _ in range(2):
        known, etag = load(kind, vault, secret)
        changed = change(known)
        try:
            save(kind, vault, secret, changed, etag=etag)
            return changed
        except Changed:
            continue
    raise TransientError(f"The {kind.what} of secret '{secret}' kept changing under other triggers.")


def forget(kind: Kind[Record], vault: VaultAddress, secret: str, *, etag: str | None) -> None:
    """Delete the memory if it is still the one read (``etag``), else :class:`Changed`; one gone already is."""
    from azure.core import MatchConditions

    blob = blob_client(blob_name(vault, secret, kind.prefix))
    try:
        with calling(f"Delete the {kind.what} of {secret}", role=_ROLE):
            blob.delete_blob(etag=etag, match_condition=MatchConditions.IfNotModified, **clients.blob_call_options())
    except RotationError as exc:
        status = exc.answer.status if exc.answer is not None else None
        if status == 412:  # another trigger wrote it meanwhile: what it wrote is newer than what was read
            raise Changed(f"The {kind.what} of secret '{secret}' changed meanwhile.", answer=exc.answer) from None
        if status != 404:
            raise


def secrets_remembered(kind: Kind[Record], vault: VaultAddress) -> list[str]:
    """The (lower-cased) names of the secrets of ``vault`` that have a memory of ``kind``: one listing."""
    prefix = kind.prefix + vault_prefix(vault)
    with calling(f"List the {kind.what} of {vault}", role=_ROLE):
        listed = clients.lock_container().list_blobs(name_starts_with=prefix, **clients.blob_call_options())
        return [blob.name.removeprefix(prefix) for blob in listed]


def blob_client(name: str) -> BlobClient:
    """A blob beside the rotation records."""
    return clients.lock_container().get_blob_client(name)


def download(blob: BlobClient, operation: str) -> tuple[bytes, str | None] | None:
    """At most ``MAX_BYTES + 1`` bytes of the blob and its ETag; ``None`` when there is no such blob."""
    try:
        with calling(operation, role=_ROLE):
            stream = blob.download_blob(offset=0, length=MAX_BYTES + 1, **clients.blob_call_options())
            return stream.readall(), stream.properties.etag
    except UpstreamError as exc:
        if exc.answer is not None and exc.answer.status == 404:
            return None
        if exc.answer is not None and exc.answer.status == 416:
            return b"", None  # a range of an empty blob: Azure answers 416 InvalidRange
        raise
