"""One lock per key pair in the host's own ``AzureWebJobsStorage``, holding its claim and rotation record.

The lock is a blob lease, as the Functions host uses for singletons: 60 seconds, renewed
by a background thread only while a rotation outlives a quarter of it, released on every
path, and taken over by the next trigger once it lapses because its holder died. The
blob's content is the :class:`PairRecord`: who owns the pair, and how far its last
rotation got, so whoever takes the lock next resumes it.

Keyed by the key pair, not the secret: the pair is what must never be regenerated twice
at once, and two secrets on one pair (in one vault or two) meet at the same blob.

A rotation's lock costs four requests on the common path: acquire, one read, one save
before its regeneration request, release. The blob is created once per pair, with content,
so no read meets an empty blob.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core import deadline
from rotators.core.errors import RotationError, RotationInProgress, TransientError, UpstreamError
from rotators.core.logs import get_logger
from rotators.core.records import PairRecord

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobLeaseClient

logger = get_logger(__name__)

_ROLE = clients.LOCK_STORE_ROLE
LEASE_SECONDS = 60
RENEW_EVERY_SECONDS = 15
PREFIX = "pairs/"
# The sweep's plan keeps each vault's share of the rotation records here (:func:`save_vault_bases`).
VAULT_BASES_PREFIX = "sweep/"


def blob_name(pair: str) -> str:
    return PREFIX + pair


class Lease:
    """The held lock. ``save`` records progress; ``ensure_held`` guards every write to Azure.

    The lease is known to be held, without asking, while less than half of it has passed
    since it was last acquired or renewed (timed from before that request went out); the
    background renewal keeps that true for as long as the rotation runs.
    """

    def __init__(self, blob: BlobClient, lease: BlobLeaseClient, record: PairRecord, acquired: float) -> None:
        self._blob = blob
        self._lease = lease
        self.record = record
        self._proven = acquired
        self._lost = threading.Event()
        self._stop = threading.Event()
        # The trigger's context goes with the thread: its calls are bounded by the trigger's deadline too.
        context = contextvars.copy_context()
        self._renewer = threading.Thread(
            target=context.run, args=(self._renew_until_stopped,), daemon=True, name="rotation-lease"
        )
        self._renewer.start()

    def save(self, record: PairRecord) -> None:
        """Persist the record; its metadata (owner, base version's creation) lets the sweep find it without a read."""
        self.ensure_held()
        rotation = record.rotation
        metadata = {"vault": record.owner.vault_url, "secret": record.owner.name} if record.owner else {}
        if rotation is not None:
            # Key Vault lists secrets without their version ids, so the sweep recognises the base
            # version by its creation time (whole seconds, as Key Vault gives them).
            created = str(int(rotation.base_created.timestamp()))
            metadata |= {"basecreated": created}
        with calling("Save the rotation record", role=_ROLE):
            self._blob.upload_blob(
                record.to_json(), overwrite=True, lease=self._lease, metadata=metadata, **_call_options()
            )
        self.record = record

    def stage(self, record: PairRecord) -> None:
        """Change the record in memory only: the next ``save`` persists it (a claim rides on the rotation's save)."""
        self.record = record

    def ensure_held(self) -> None:
        if self._lost.is_set():
            raise TransientError("The rotation lock lapsed while the rotation ran; a later trigger will finish it.")
        if time.monotonic() - self._proven < LEASE_SECONDS / 2:
            return
        self._renew("Renew the rotation lock")

    def release(self) -> None:
        """Stop the renewal and let go; a renewal still waiting on the lock store is not waited for past the
        trigger's time (it ends by then itself)."""
        self._stop.set()
        left = deadline.remaining()
        self._renewer.join(None if left is None else max(left, 0.0))
        _release(self._lease)

    def _renew(self, operation: str) -> None:
        before = time.monotonic()
        with calling(operation, role=_ROLE):
            self._lease.renew(**_call_options())
        self._proven = before

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(RENEW_EVERY_SECONDS):
            try:
                self._renew("Renew the rotation lock in the background")
            except Exception:
                logger.warning("Could not renew the rotation lock.")
                self._lost.set()
                return


@contextmanager
def hold(pair: str, *, holder: str) -> Iterator[Lease]:
    """Take the key pair's lock or raise :class:`RotationInProgress` naming ``holder``'s secret."""
    blob = clients.lock_container().get_blob_client(blob_name(pair))
    before = time.monotonic()
    lease = _acquire(blob, holder)
    held: Lease | None = None
    try:
        with calling("Read the rotation record", role=_ROLE):
            raw = blob.download_blob(lease=lease, **_call_options()).readall()
        held = Lease(blob, lease, PairRecord.from_json(raw), before)
        yield held
    finally:
        if held is not None:
            held.release()
        else:
            _release(lease)


def _release(lease: BlobLeaseClient) -> None:
    """Let go of the lease, on every path; should that fail, it lapses by itself within LEASE_SECONDS."""
    try:
        with calling("Release the rotation lock", role=_ROLE):
            lease.release(**_call_options())
    except Exception as exc:  # on the way out of a rotation: never masks its own error
        why = exc.message if isinstance(exc, RotationError) else f"unexpected {type(exc).__name__}"
        logger.warning("Could not release the rotation lock; it lapses within %d s: %s", LEASE_SECONDS, why)


def _acquire(blob: BlobClient, holder: str) -> BlobLeaseClient:
    """Acquire the lease, creating the pair's blob the first time."""
    try:
        return _acquire_once(blob, holder)
    except UpstreamError as exc:
        if exc.answer is None or exc.answer.status != 404:
            raise
    _create(blob)
    return _acquire_once(blob, holder)


def _acquire_once(blob: BlobClient, holder: str) -> BlobLeaseClient:
    try:
        with calling("Take the rotation lock", role=_ROLE):
            return blob.acquire_lease(lease_duration=LEASE_SECONDS, **_call_options())
    except RotationError as exc:
        if exc.answer is not None and exc.answer.status == 409:
            raise RotationInProgress(f"A rotation of the key pair of {holder} is in progress.") from None
        raise


def _create(blob: BlobClient) -> None:
    """Create the pair's blob with content (``If-None-Match: *``): when two triggers race, one creates it."""
    try:
        with calling("Create the rotation record", role=_ROLE):
            blob.upload_blob(PairRecord().to_json(), overwrite=False, **_call_options())
    except RotationError as exc:
        if exc.answer is None or exc.answer.status != 409:
            raise


def peek(pair: str) -> PairRecord:
    """The pair's record without taking its lock (a dry run's claim check)."""
    raw = _content(blob_name(pair), "Read the rotation record")
    return PairRecord() if raw is None else PairRecord.from_json(raw)


@dataclass(frozen=True)
class RotationBase:
    """The last rotation recorded on a key pair: its secret and when the version it started from was created.

    Finished or not: a rotation that wrote has made a newer version current, so it is unfinished
    exactly when this is still the secret's current version (the sweep compares).
    """

    vault_url: str
    secret: str
    base_created: int


def rotation_bases() -> list[RotationBase]:
    """The last rotation of every key pair that ever had one, from blob metadata alone (one listing)."""
    found = []
    with calling("List rotation records", role=_ROLE):
        for blob in clients.lock_container().list_blobs(
            name_starts_with=PREFIX, include=["metadata"], **_call_options()
        ):
            metadata = blob.metadata or {}
            created = metadata.get("basecreated", "")
            complete = {"vault", "secret"} <= set(metadata) and created.isascii() and created.isdigit()
            if complete:
                found.append(RotationBase(metadata["vault"], metadata["secret"], int(created)))
    return found


def save_vault_bases(vault_url: str, bases: Iterable[RotationBase], *, at: datetime) -> None:
    """Keep the vault's share of :func:`rotation_bases`, listed ``at``, in one blob for the queued sweep: each
    of the vault's messages reads that blob, where listing every pair's record would grow with the estate."""
    mine = [[base.secret, base.base_created] for base in bases if base.vault_url == vault_url]
    blob = clients.lock_container().get_blob_client(_vault_bases_name(vault_url))
    with calling("Save the vault's rotation records for the sweep", role=_ROLE):
        kept = {"listedAt": int(at.timestamp()), "bases": mine}
        blob.upload_blob(json.dumps(kept), overwrite=True, **_call_options())


def vault_bases(vault_url: str) -> tuple[datetime, list[RotationBase]] | None:
    """When the records :func:`save_vault_bases` last kept for the vault were listed, and the vault's share of
    them; ``None`` when nothing (readable) is kept."""
    raw = _content(_vault_bases_name(vault_url), "Read the vault's rotation records for the sweep")
    if raw is None:
        return None
    try:
        kept = json.loads(raw)
        listed_at = datetime.fromtimestamp(kept["listedAt"], timezone.utc)
        bases = [RotationBase(vault_url, secret, created) for secret, created in kept["bases"]]
    except (ValueError, TypeError, KeyError, OverflowError):  # not what save_vault_bases writes
        return None
    readable = all(isinstance(base.secret, str) and type(base.base_created) is int for base in bases)
    return (listed_at, bases) if readable else None


def _content(name: str, operation: str) -> bytes | None:
    """The blob's content, read without a lease; ``None`` when there is no such blob."""
    blob = clients.lock_container().get_blob_client(name)
    try:
        with calling(operation, role=_ROLE):
            content: bytes = blob.download_blob(**_call_options()).readall()
    except UpstreamError as exc:
        if exc.answer is not None and exc.answer.status == 404:
            return None
        raise
    return content


def _vault_bases_name(vault_url: str) -> str:
    return VAULT_BASES_PREFIX + vault_url.removeprefix("https://")


def _call_options() -> dict[str, Any]:
    return clients.blob_call_options()
