"""The consumer registry: a secret's consumers when the ``Consumers`` tag says ``@registry``.

A Key Vault tag holds 256 characters, about ten consumers; the registry holds up to
:data:`~rotators.core.consumers.MAX_REGISTERED`. It lives beside the rotation records, in the
host's own ``AzureWebJobsStorage`` (blob ``consumers/<vault host>/<secret>``, JSON
``{"consumers": ["<group>/<app>", ...]}``), written by ``python -m rotators consumers --apply``
and validated on every read like the tag.
"""

from __future__ import annotations

import json

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core.clouds import VaultAddress
from rotators.core.consumers import REGISTRY, Consumer, parse_entries
from rotators.core.errors import NotRotatable, UpstreamError

PREFIX = "consumers/"
_ROLE = "Storage Blob Data Owner on the function's own storage account (AzureWebJobsStorage)"


def blob_name(vault: VaultAddress, secret: str) -> str:
    return f"{PREFIX}{vault.url.removeprefix('https://').rstrip('/')}/{secret.lower()}"


def load(vault: VaultAddress, secret: str) -> tuple[Consumer, ...]:
    """The registered consumers; a missing or malformed entry is refused, saying how to write it."""
    blob = clients.lock_container().get_blob_client(blob_name(vault, secret))
    where = f"The registry entry of secret '{secret}'"
    try:
        with calling(f"Read the consumer registry of {secret}", role=_ROLE):
            raw = blob.download_blob(**clients.blob_call_options()).readall()
    except UpstreamError as exc:
        if exc.answer is not None and exc.answer.status == 404:
            raise NotRotatable(
                f"Tag 'Consumers' of secret '{secret}' says {REGISTRY}, but the registry has no entry for it; "
                "write one with python -m rotators consumers --apply."
            ) from None
        raise
    try:
        entries = json.loads(raw)["consumers"]
        if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise NotRotatable(f'{where} is not {{"consumers": [...]}}; write it again with --apply.') from None
    if not entries:
        raise NotRotatable(f"{where} lists no consumer; write it again with --apply, or remove the tag.")
    return parse_entries(entries, where)


def save(vault: VaultAddress, secret: str, consumers: tuple[Consumer, ...]) -> None:
    blob = clients.lock_container().get_blob_client(blob_name(vault, secret))
    body = json.dumps({"consumers": [str(consumer) for consumer in consumers]}, indent=1)
    with calling(f"Write the consumer registry of {secret}", role=_ROLE):
        blob.upload_blob(body.encode(), overwrite=True, **clients.blob_call_options())
