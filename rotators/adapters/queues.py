"""The sweep's queues in the host's own ``AzureWebJobsStorage``: send work, count what was given up on.

The Functions host runs the queue-triggered functions (``function_app.py``): it receives a
message, keeps it invisible while the function runs, deletes it when the function returns, and
makes it visible again when the function raises; a message that failed ``maxDequeueCount``
times (host.json) is moved to ``<queue>-poison`` (Azure/azure-sdk-for-net,
``Microsoft.Azure.WebJobs.Extensions.Storage.Queues`` ``QueueProcessor.CompleteProcessingMessageAsync``;
Microsoft's "Azure Queue storage trigger for Azure Functions", *Poison messages*). The host
reads message bodies as base64 by default (``QueuesOptions.MessageEncoding``), so that is what is
sent. azure-storage-queue is imported when a queue is first used, never at cold start.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.errors import UpstreamError

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient

VAULTS = "rotation-vaults"  # one message per vault to sweep, or the rest of one
SECRETS = "rotation-secrets"  # one message per secret with work
POISON_SUFFIX = "-poison"
# How often the host delivers a message before it moves it to the poison queue: host.json
# extensions.queues.maxDequeueCount, here Functions' default (QueuesOptions: 5).
MAX_DEQUEUE_COUNT = 5
# Messages are sent this many at a time: a vault's due secrets are one Put Message each.
SENDERS = 8

_ROLE = "Storage Queue Data Contributor on the function's own storage account (AzureWebJobsStorage)"


def send(queue: str, texts: Sequence[str]) -> None:
    """Put each text on ``queue``, :data:`SENDERS` at a time; any failure raises (the caller's message is
    then delivered again and sends them all again: duplicates are harmless by design)."""
    client = _queue(queue)

    def put(text: str) -> None:
        with calling(f"Put a message on queue {queue}", role=_ROLE):
            client.send_message(text, **clients.blob_call_options())

    if len(texts) <= 1:
        for text in texts:
            put(text)
        return
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="rotation-queue") as pool:
        for future in [pool.submit(contextvars.copy_context().run, put, text) for text in texts]:
            future.result()


def waiting(queue: str) -> int:
    """About how many messages ``queue`` holds (Azure's approximate count); a queue never created holds none."""
    try:
        with calling(f"Read the properties of queue {queue}", role=_ROLE):
            properties = _client(queue).get_queue_properties(**clients.blob_call_options())
        return properties.approximate_message_count or 0
    except UpstreamError as exc:
        if exc.answer is not None and exc.answer.status == 404:
            return 0
        raise


def poisoned() -> dict[str, int]:
    """How many messages each poison queue holds: work the host gave up on after MAX_DEQUEUE_COUNT tries."""
    return {queue + POISON_SUFFIX: waiting(queue + POISON_SUFFIX) for queue in (VAULTS, SECRETS)}


@functools.cache
def _queue(name: str) -> QueueClient:
    """The queue, created on first use in this process (the host creates only the poison queues)."""
    from azure.core.exceptions import ResourceExistsError

    client = _client(name)
    # Another instance created it first: Create Queue answers 204 for an existing queue with the same
    # metadata, 409 for other metadata (Microsoft's "Create Queue" REST reference), and the SDK raises
    # ResourceExistsError for both; either way the queue is there.
    with calling(f"Create queue {name}", role=_ROLE), contextlib.suppress(ResourceExistsError):
        client.create_queue(**clients.blob_call_options())
    return client


@functools.cache
def _client(name: str) -> QueueClient:
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

    connection, endpoint = clients.host_storage("queue")
    options: dict[str, Any] = {
        **clients.transport_options(),
        "retry_policy": _retry_policy(),
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
    }
    if connection:
        return QueueClient.from_connection_string(connection, name, **options)
    return QueueClient(endpoint, name, credential=clients.credential(), **options)


def _retry_policy() -> Any:
    """azure-storage-queue's own ExponentialRetry (its default waits 15 s + 3^n), ending with the trigger's time."""
    from azure.storage.queue import ExponentialRetry

    from rotators.adapters.bounds import StopAtDeadline

    class DeadlineQueueRetry(StopAtDeadline, ExponentialRetry):
        pass

    return DeadlineQueueRetry(initial_backoff=0.5, increment_base=1.5, retry_total=3, random_jitter_range=0.5)  # type: ignore[arg-type]
