"""A per-secret lock and rotation record in the host's own ``AzureWebJobsStorage``.

The lock is a blob lease, as the Functions host uses for singletons: 60 seconds, renewed
by a background thread while a rotation runs, released on every path, and taken over by
the next trigger once it lapses because its holder died. The blob's content is the
:class:`RotationRecord`, so whoever takes the lock next knows how far the last holder got.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import VaultAddress
from rotators.core.errors import RotationInProgress, TransientError
from rotators.core.logs import get_logger
from rotators.core.records import Phase, RotationRecord

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobLeaseClient

logger = get_logger(__name__)

LEASE_SECONDS = 60
RENEW_EVERY_SECONDS = 15


def blob_name(vault: VaultAddress, secret_name: str) -> str:
    return f"{vault.name}/{secret_name.lower()}"


class Lease:
    """The held lock; ``save`` records progress, ``ensure_held`` guards every write to Azure."""

    def __init__(self, blob: BlobClient, lease: BlobLeaseClient, record: RotationRecord | None) -> None:
        self._blob = blob
        self._lease = lease
        self.record = record
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew_until_stopped, daemon=True, name="rotation-lease")
        self._renewer.start()

    def save(self, record: RotationRecord) -> None:
        self.ensure_held()
        with calling("Save the rotation record"):
            self._blob.upload_blob(
                record.to_json(), overwrite=True, lease=self._lease, metadata={"phase": record.phase.value}
            )
        self.record = record

    def ensure_held(self) -> None:
        if self._lost.is_set():
            raise TransientError("The rotation lock lapsed while the rotation ran; a later trigger will finish it.")
        with calling("Renew the rotation lock"):
            self._lease.renew()

    def release(self) -> None:
        self._stop.set()
        self._renewer.join()
        try:
            self._lease.release()
        except Exception:  # the lease lapses by itself within LEASE_SECONDS
            logger.warning("Could not release the rotation lock; it lapses within %d s.", LEASE_SECONDS)

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(RENEW_EVERY_SECONDS):
            try:
                self._lease.renew()
            except Exception:
                logger.warning("Could not renew the rotation lock.")
                self._lost.set()
                return


@contextmanager
def hold(vault: VaultAddress, secret_name: str) -> Iterator[Lease]:
    """Take the secret's lock or raise :class:`RotationInProgress`."""
    from azure.core.exceptions import ResourceExistsError

    with calling("Open the rotation lock store"):
        blob = clients.lock_container().get_blob_client(blob_name(vault, secret_name))
        with suppress(ResourceExistsError):
            blob.upload_blob(b"", overwrite=False)
    try:
        with calling("Take the rotation lock"):
            lease = blob.acquire_lease(lease_duration=LEASE_SECONDS)
    except TransientError as exc:
        if exc.answer is not None and exc.answer.status == 409:
            raise RotationInProgress(
                f"A rotation of secret '{secret_name}' in '{vault.name}' is in progress."
            ) from None
        raise
    held: Lease | None = None
    try:
        with calling("Read the rotation record"):
            raw = blob.download_blob(lease=lease).readall()
        held = Lease(blob, lease, RotationRecord.from_json(raw))
        yield held
    finally:
        if held is not None:
            held.release()
        else:
            lease.release()


def unfinished(vault: VaultAddress) -> set[str]:
    """Names of secrets whose last rotation stopped before writing the new version."""
    pending = {Phase.STARTED.value, Phase.REGENERATED.value}
    with calling("List rotation records"):
        return {
            blob.name.split("/", 1)[1]
            for blob in clients.lock_container().list_blobs(name_starts_with=f"{vault.name}/", include=["metadata"])
            if (blob.metadata or {}).get("phase") in pending
        }
