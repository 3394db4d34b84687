"""What the function keeps of a secret's consumers beside the rotation records, in its own ``AzureWebJobsStorage``.

- The **registry** (blob ``consumers/<vault host>/<secret>``, JSON ``{"consumers": ["<group>/<app>", ...]}``):
  a secret's consumers when the ``Consumers`` tag says ``@registry``. A Key Vault tag holds 256
  characters, about ten consumers; the registry holds up to
  :data:`~rotators.core.consumers.MAX_REGISTERED`. Written by ``python -m rotators consumers
  --apply`` and validated on every read like the tag.
- The **refresh memory** (blob ``refreshes/<vault host>/<secret>``,
  :class:`~rotators.core.refreshes.Refreshes`): which consumer was asked to refresh for the
  current version, so that none is asked more than that allows, across processes. Written with
  the ETag of what was read, so two triggers never both claim one refresh.

Whatever a blob holds (any size, depth, type or encoding) is read as at most :data:`MAX_BYTES`
and parsed defensively: a blob that is not what this module writes is refused with a message,
never an unexpected error.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import MAX_REGISTERED, REGISTRY, Consumer, parse_entries
from rotators.core.errors import NotRotatable, TransientError, UpstreamError
from rotators.core.refreshes import Refreshes

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

PREFIX = "consumers/"
REFRESHES_PREFIX = "refreshes/"
# A full registry is about 100 entries of at most about 700 bytes; anything far larger is not one.
MAX_BYTES = 256 * 1024
_ROLE = clients.LOCK_STORE_ROLE


class Changed(TransientError):
    """The refresh memory changed between its read and its write: read it again."""


def blob_name(vault: VaultAddress, secret: str, prefix: str = PREFIX) -> str:
    return f"{prefix}{vault.url.removeprefix('https://').rstrip('/')}/{secret.lower()}"


def load(vault: VaultAddress, secret: str) -> tuple[Consumer, ...]:
    """The registered consumers; a missing or malformed entry is refused, saying how to write it."""
    where = f"The registry entry of secret '{secret}'"
    read = _download(_blob(blob_name(vault, secret)), f"Read the consumer registry of {secret}")
    if read is None:
        raise NotRotatable(
            f"Tag 'Consumers' of secret '{secret}' says {REGISTRY}, but the registry has no entry for it; "
            "write one with python -m rotators consumers --apply."
        )
    raw, _ = read
    if len(raw) > MAX_BYTES:
        raise NotRotatable(f"{where} is larger than {MAX_BYTES} bytes; write it again with --apply.")
    try:
        entries = json.loads(raw.decode("utf-8"))["consumers"]
        if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: JSON nested too deep
        raise NotRotatable(f'{where} is not {{"consumers": [...]}}; write it again with --apply.') from None
    if not entries:
        raise NotRotatable(f"{where} lists no consumer; write it again with --apply, or remove the tag.")
    return parse_entries(entries, where, MAX_REGISTERED)


def save(vault: VaultAddress, secret: str, consumers: tuple[Consumer, ...]) -> None:
    body = json.dumps({"consumers": [str(consumer) for consumer in consumers]}, indent=1)
    with calling(f"Write the consumer registry of {secret}", role=_ROLE):
        _blob(blob_name(vault, secret)).upload_blob(body.encode(), overwrite=True, **clients.blob_call_options())


def load_refreshes(vault: VaultAddress, secret: str) -> tuple[Refreshes | None, str | None]:
    """The refresh memory and its ETag; ``(None, None)`` when there is none yet. One that is not what
    :func:`save_refreshes` writes is refused (``NotRotatable``): the caller asks nobody on its word."""
    read = _download(_blob(blob_name(vault, secret, REFRESHES_PREFIX)), f"Read the refresh memory of {secret}")
    if read is None:
        return None, None
    raw, etag = read
    try:
        if len(raw) > MAX_BYTES:
            raise ValueError
        return Refreshes.from_json(raw), etag
    except ValueError:
        raise NotRotatable(f"The refresh memory of secret '{secret}' is not one this app wrote.") from None


def save_refreshes(vault: VaultAddress, secret: str, refreshes: Refreshes, *, etag: str | None) -> None:
    """Write the memory if it is still the one read (``etag``; ``None``: there was none), else :class:`Changed`."""
    from azure.core import MatchConditions

    blob = _blob(blob_name(vault, secret, REFRESHES_PREFIX))
    try:
        with calling(f"Write the refresh memory of {secret}", role=_ROLE):
            if etag is None:  # If-None-Match: *
                blob.upload_blob(refreshes.to_json(), overwrite=False, **clients.blob_call_options())
            else:
                blob.upload_blob(
                    refreshes.to_json(),
                    overwrite=True,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                    **clients.blob_call_options(),
                )
    except TransientError as exc:  # 409 BlobAlreadyExists, 412 ConditionNotMet: another trigger wrote it
        if exc.answer is not None and exc.answer.status in (409, 412):
            raise Changed(f"The refresh memory of secret '{secret}' changed meanwhile.", answer=exc.answer) from None
        raise


def replace_refreshes(vault: VaultAddress, secret: str, refreshes: Refreshes) -> None:
    """Write the memory whatever the blob holds (when that is not a memory this app wrote)."""
    with calling(f"Write the refresh memory of {secret}", role=_ROLE):
        _blob(blob_name(vault, secret, REFRESHES_PREFIX)).upload_blob(
            refreshes.to_json(), overwrite=True, **clients.blob_call_options()
        )


def _blob(name: str) -> BlobClient:
    return clients.lock_container().get_blob_client(name)


def _download(blob: BlobClient, operation: str) -> tuple[bytes, str | None] | None:
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
