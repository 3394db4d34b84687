"""What the Functions host does with the sweep's queues, for tests and the benchmark (the host itself
cannot run here): receive messages from Azurite with the real azure-storage-queue client, hand each
to the queue-triggered function as the Python worker would (``azure.functions.queue.QueueMessage``,
body decoded from base64), delete it when the function returns, and when it raises, make it visible
again or, on its ``maxDequeueCount``-th delivery, move it to ``<queue>-poison``.

That is the host's documented handling (Microsoft's "Azure Queue storage trigger for Azure Functions",
*Poison messages* and *Peek lock*; Azure/azure-sdk-for-net,
``Microsoft.Azure.WebJobs.Extensions.Storage.Queues``: ``QueueListener`` receives with a 10-minute
visibility timeout, ``QueueProcessor.CompleteProcessingMessageAsync`` deletes on success, copies to the
poison queue and deletes once ``DequeueCount >= MaxDequeueCount``, else releases the message with
``VisibilityTimeout``), with host.json's values. Tests may shorten the visibility timeout of a failed
message, as they shorten a lease: time compressed, not changed.

One worker takes one message at a time, so N worker processes are N concurrent executions (a
Functions instance runs up to batchSize + newBatchThreshold per function). Run as a process:
``python -m tests.queue_worker --idle 2`` works both queues (``--queue Q``: only Q) until they stay
empty for 2 s and prints what it did as one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST_JSON = json.loads((ROOT / "host.json").read_text())
HOST = HOST_JSON["extensions"]["queues"]
HOST_LOG_LEVELS: dict[str, str] = HOST_JSON["logging"]["logLevel"]
HOST_LEVELS = {"Trace": logging.DEBUG, "Debug": logging.DEBUG, "Information": logging.INFO, "Warning": logging.WARNING}
MAX_DEQUEUE_COUNT: int = HOST["maxDequeueCount"]
RECEIVE_VISIBILITY = 600  # QueueListener: "if the function runs longer than this, the invisibility will be updated"


def _seconds(timespan: str) -> float:
    hours, minutes, seconds = timespan.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


RELEASE_VISIBILITY = _seconds(HOST["visibilityTimeout"])
# QueueListener polls an empty queue less and less often: from QueuePollingIntervals.Minimum (100 ms),
# doubling, up to maxPollingInterval (default one minute, compressed here as a lease is), and at once
# again after a message ("Azure Queue storage trigger for Azure Functions", *Polling algorithm*;
# Azure/azure-webjobs-sdk issue 2967).
MIN_POLL = 0.1
MAX_POLL = 1.0


def queue_client(name: str) -> Any:
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

    client = QueueClient.from_connection_string(
        os.environ["AzureWebJobsStorage"],
        name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )
    return client


def handlers() -> dict[str, Callable[[Any], None]]:
    """Each queue's function, as function_app.py binds them (the queue a trigger names, its user function)."""
    import function_app

    return {
        f.get_trigger().queue_name: f.get_user_function()
        for f in function_app.app.get_functions()
        if f.get_trigger().type == "queueTrigger"
    }


@dataclass
class Worker:
    """One execution slot of the host, over every queue-triggered function of the app."""

    release_visibility: float = RELEASE_VISIBILITY
    functions: dict[str, Callable[[Any], None]] = field(default_factory=handlers)
    done: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.queues = {name: queue_client(name) for name in self.functions}
        self.backoff = dict.fromkeys(self.functions, 0.0)  # each queue's polling interval now
        self.next_poll = dict.fromkeys(self.functions, 0.0)

    def step(self, *, every_queue: bool = False) -> bool:
        """Deliver at most one message of each queue whose poll is due (``every_queue``: of each); whether any
        was delivered."""
        from azure.core.exceptions import ResourceNotFoundError

        delivered = False
        for name, client in self.queues.items():
            if not every_queue and time.monotonic() < self.next_poll[name]:
                continue
            try:
                message = client.receive_message(visibility_timeout=RECEIVE_VISIBILITY)
            except ResourceNotFoundError:  # nothing was ever sent to it: the host polls on
                message = None
            if message is None:
                self.backoff[name] = min(max(2 * self.backoff[name], MIN_POLL), MAX_POLL)
            else:
                self._deliver(name, client, message)
                self.backoff[name], delivered = 0.0, True
            self.next_poll[name] = time.monotonic() + self.backoff[name]
        return delivered

    def run(self, *, idle: float, limit: float) -> Counter[str]:
        """Work until every queue stayed empty for ``idle`` seconds (or ``limit`` passed), each polled once
        more before stopping."""
        quiet_since, ends = time.monotonic(), time.monotonic() + limit
        while time.monotonic() < ends:
            settled = time.monotonic() - quiet_since >= idle
            if self.step(every_queue=settled):
                quiet_since = time.monotonic()
            elif settled:
                break
            else:
                time.sleep(0.05)
        return self.done

    def _deliver(self, name: str, client: Any, message: Any) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.functions.queue import QueueMessage

        delivered = QueueMessage(
            id=message.id,
            body=message.content.encode(),
            dequeue_count=message.dequeue_count,
            pop_receipt=message.pop_receipt,
        )
        try:
            self.functions[name](delivered)
        except Exception:
            if message.dequeue_count >= MAX_DEQUEUE_COUNT:
                poison = queue_client(name + "-poison")
                with contextlib.suppress(ResourceExistsError):
                    poison.create_queue()
                poison.send_message(message.content)
                client.delete_message(message)
                self.done[name + "-poison"] += 1
            else:
                client.update_message(message, visibility_timeout=int(self.release_visibility))
                self.done[name + " released"] += 1
            return
        client.delete_message(message)
        self.done[name] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=2.0)
    parser.add_argument("--limit", type=float, default=600.0)
    parser.add_argument("--release", type=float, default=RELEASE_VISIBILITY)
    parser.add_argument("--queue", action="append", help="only this queue's messages (default: every queue's)")
    args = parser.parse_args()
    # The host keeps what host.json's logging.logLevel lets through: the product's lines from Information up.
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("rotators").setLevel(HOST_LEVELS[HOST_LOG_LEVELS["rotators"]])
    functions = {queue: function for queue, function in handlers().items() if queue in (args.queue or [queue])}
    done = Worker(release_visibility=args.release, functions=functions).run(idle=args.idle, limit=args.limit)
    print(json.dumps(dict(done)))


if __name__ == "__main__":
    main()
