"""What the function keeps of a secret's consumers beside the rotation records, in its own ``AzureWebJobsStorage``.

- The **registry** (blob ``consumers/<vault host>/<secret>``, JSON ``{"consumers": ["<group>/<app>", ...]}``):
  a secret's consumers when the ``Consumers`` tag says ``@registry``. A Key Vault tag holds 256
  characters, about ten consumers; the registry holds up to
  :data:`~rotators.core.consumers.MAX_REGISTERED`. Written by ``python -m rotators consumers
  --apply`` and validated on every read like the tag.
- The **refresh memory** (blob ``refreshes/<vault host>/<secret>``, :data:`REFRESHES`,
  :class:`~rotators.core.refreshes.Refreshes`): which consumer was asked to refresh for the
  current version, so that none is asked more than that allows, across processes. Read and
  written by ``rotators.adapters.memory``, with the ETag of what was read, so two triggers never
  both claim one refresh.

Whatever a blob holds (any size, depth, type or encoding) is read as at most
:data:`~rotators.adapters.memory.MAX_BYTES` and parsed defensively: a blob that is not what this
app writes is refused with a message, never an unexpected error.
"""

from __future__ import annotations

import json

from rotators.adapters import clients, memory
from rotators.adapters.upstream import calling
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import MAX_REGISTERED, REGISTRY, Consumer, Declared, parse_entries
from rotators.core.errors import NotRotatable
from rotators.core.refreshes import Refreshes

PREFIX = "consumers/"
REFRESHES_PREFIX = "refreshes/"
REFRESHES = memory.Kind(REFRESHES_PREFIX, "refresh memory", Refreshes.from_json)
_ROLE = clients.LOCK_STORE_ROLE


def blob_name(vault: VaultAddress, secret: str, prefix: str = PREFIX) -> str:
    return memory.blob_name(vault, secret, prefix)


def declared(consumers: Declared, vault: VaultAddress, secret: str) -> tuple[Consumer, ...]:
    """A secret's consumers as its ``Consumers`` tag declares them: the tag's entries, or the registry's."""
    return load(vault, secret) if consumers.in_registry else consumers.consumers


def load(vault: VaultAddress, secret: str) -> tuple[Consumer, ...]:
    """The registered consumers; a missing or malformed entry is refused, saying how to write it."""
    where = f"The registry entry of secret '{secret}'"
    read = memory.download(memory.blob_client(blob_name(vault, secret)), f"Read the consumer registry of {secret}")
    if read is None:
        raise NotRotatable(
            f"Tag 'Consumers' of secret '{secret}' says {REGISTRY}, but the registry has no entry for it; "
            "write one with python -m rotators consumers --apply."
        )
    raw, _ = read
    if len(raw) > memory.MAX_BYTES:
        raise NotRotatable(f"{where} is larger than {memory.MAX_BYTES} bytes; write it again with --apply.")
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
        memory.blob_client(blob_name(vault, secret)).upload_blob(
            body.encode(), overwrite=True, **clients.blob_call_options()
        )
