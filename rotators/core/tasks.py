"""The sweep's work on the queues: one message per vault (or the rest of one), one per due secret. Pure.

The timer plans a :class:`VaultTask` per allowed vault; sweeping one lists it and plans a
:class:`SecretTask` per secret that needs work. A message names where the work is and what the
listing saw, never a key or a secret's value. Anything read back from a queue is input like
any other: each field is checked by the same grammars as a request's, and a page link must
lead back to the vault it continues (the Key Vault client sends its token there).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from rotators.core.clouds import VaultAddress
from rotators.core.errors import BadRequest
from rotators.core.parsing import PRINTABLE_ASCII, check_secret_name, parse_resource_id, shown

KeyPair = tuple[str, frozenset[str]]
_KEY = re.compile(
    r"[A-Za-z0-9 ]{1,64}"
)  # a key's name as the kinds spell it (key1, primaryReadonly, Primary Read Only)

# Storage queues take messages of up to 64 KiB (Microsoft's "Introduction to Queue Storage"), which base64
# makes 48 KiB of text; a task is a few hundred bytes, so anything far larger is not one of ours.
MAX_TASK_CHARS = 8 * 1024


class Work(enum.StrEnum):
    ROTATE = "rotate"  # due (near expiry or expired), or a rotation interrupted before its write
    FOLLOW_UP = "follow-up"  # cooling down with consumers: retry those whose refresh is due; revoke early


@dataclass(frozen=True)
class VaultTask:
    """Sweep one vault, from its first page or from ``page``, the link Key Vault gave for the rest."""

    vault: VaultAddress
    page: str | None = None

    def to_text(self) -> str:
        return json.dumps({"vault": self.vault.url, **({"page": self.page} if self.page else {})})

    @classmethod
    def parse(cls, text: str) -> VaultTask:
        fields = _fields(text, "vault task", {"vault"}, {"page"})
        vault = VaultAddress.from_url(_text(fields, "vault"))
        page = fields.get("page")
        if page is not None:
            page = check_page_link(vault, _text(fields, "page"))
        return cls(vault, page)


@dataclass(frozen=True)
class SecretTask:
    """Work on one secret, as the vault's listing at ``listed_at`` saw it.

    ``created`` is the listed version's creation time (a listing carries no version ids), so the
    rotation can tell whether the version it finds is still the one listed. ``resume`` says a
    rotation of that version stopped before its write. ``sole_on`` is the key pair the listing
    found this secret alone on, when the listing covered the whole vault: the first claim of
    the pair then needs no listing of its own.
    """

    vault: VaultAddress
    secret: str
    work: Work
    created: int
    listed_at: int
    resume: bool = False
    sole_on: KeyPair | None = None

    def to_text(self) -> str:
        data: dict[str, Any] = {
            "vault": self.vault.url,
            "secret": self.secret,
            "work": self.work.value,
            "created": self.created,
            "listedAt": self.listed_at,
        }
        if self.resume:
            data["resume"] = True
        if self.sole_on is not None:
            resource, keys = self.sole_on
            data["soleOn"] = {"resource": resource, "keys": sorted(keys)}
        return json.dumps(data)

    @classmethod
    def parse(cls, text: str) -> SecretTask:
        fields = _fields(text, "secret task", {"vault", "secret", "work", "created", "listedAt"}, {"resume", "soleOn"})
        work = _text(fields, "work")
        if work not in {w.value for w in Work}:
            raise BadRequest(f"The secret task's work {shown(work)} is not one of {', '.join(w.value for w in Work)}.")
        resume = fields.get("resume", False)
        if not isinstance(resume, bool):
            raise BadRequest(f"The secret task's resume {shown(resume)} is not true or false.")
        sole_on = fields.get("soleOn")
        return cls(
            VaultAddress.from_url(_text(fields, "vault")),
            check_secret_name(fields["secret"]),
            Work(work),
            _epoch(fields, "created"),
            _epoch(fields, "listedAt"),
            resume,
            None if sole_on is None else _key_pair(sole_on),
        )


def check_page_link(vault: VaultAddress, link: str) -> str:
    """A Key Vault ``nextLink`` of this vault's secrets listing (``https://<vault host>:443/secrets?…``,
    as recorded live), or refused: the link is followed with the vault's token."""
    parts = _split(link) if PRINTABLE_ASCII.fullmatch(link) else None
    if (
        parts is None
        or parts.scheme != "https"
        or f"https://{(parts.hostname or '').lower()}" != vault.url
        or parts.port not in (None, 443)
        or parts.username is not None
        or parts.path.rstrip("/") != "/secrets"
        or parts.fragment
    ):
        raise BadRequest(f"The page link {shown(link)} is not a link to the next page of vault {vault}'s secrets.")
    return link


def _split(link: str) -> SplitResult | None:
    """The link's parts, or ``None`` where urllib cannot read its authority (a port of ``abc``, a lone ``[``)."""
    try:
        parts = urlsplit(link)
        _ = parts.port
    except ValueError:
        return None
    return parts


def _fields(text: str, what: str, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    if len(text) > MAX_TASK_CHARS:
        raise BadRequest(f"The {what} is {len(text)} characters long; a task is at most {MAX_TASK_CHARS}.")
    try:
        fields = json.loads(text)
    except ValueError:
        raise BadRequest(f"The {what} is not JSON.") from None
    if not isinstance(fields, dict):
        raise BadRequest(f"The {what} is not a JSON object.")
    missing, unknown = sorted(required - set(fields)), sorted(set(fields) - required - optional)
    if missing:
        raise BadRequest(f"The {what} lacks {', '.join(missing)}.")
    if unknown:
        raise BadRequest(f"The {what} has fields it does not know: {shown(unknown)}.")
    return fields


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str):
        raise BadRequest(f"The task's {name} {shown(value)} is not text.")
    return value


def _epoch(fields: Mapping[str, Any], name: str) -> int:
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**40:
        raise BadRequest(f"The task's {name} {shown(value)} is not a time in whole seconds.")
    return value


def _key_pair(value: object) -> KeyPair:
    refused = BadRequest(f"The task's soleOn {shown(value)} is not a resource ID and its two key names.")
    if not isinstance(value, dict) or set(value) != {"resource", "keys"}:
        raise refused
    resource, keys = value["resource"], value["keys"]
    if not isinstance(resource, str) or parse_resource_id(resource) is None or resource != resource.lower():
        raise refused
    if not isinstance(keys, list) or len(keys) != 2 or not all(isinstance(k, str) and _KEY.fullmatch(k) for k in keys):
        raise refused
    return resource, frozenset(keys)
