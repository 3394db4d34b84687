"""Where the queue service really is: Azurite, attached by :meth:`LocalAzure.blob_connection_string`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localazure.server import LocalAzure


class QueueBackend:
    def __init__(self, cloud: LocalAzure) -> None:
        self.address: tuple[str, int] | None = None
