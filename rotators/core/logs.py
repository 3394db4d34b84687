"""Loggers whose lines cannot be forged.

Event fields, secret names and tag values reach log lines, and a CR or LF in one of them
would start a line the product never wrote. Every product logger escapes control
characters in its message and arguments. A filter on each logger, not on a handler: the
Functions host installs the handlers, and records logged on a logger meet only that
logger's own filters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """Control characters as visible escapes (``\\n``, ``\\x1b``); everything else unchanged."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class _EscapeControlCharacters(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        """Format the line now and escape all of it, whatever type each argument had."""
        record.msg, record.args = escape(record.getMessage()), ()
        return True


_FILTER = _EscapeControlCharacters()


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as text columns (two spaces apart; the last column is not padded): the CLI's tables."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with control characters escaped in every record it logs."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
