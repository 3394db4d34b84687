"""The time the current trigger has left, so that no call to Azure outlives its caller.

Event Grid redelivers an event it got no answer for within 30 s, and App Service's front
end drops an HTTP request after 230 s. Each trigger runs inside :func:`budget`; every call
to Azure is then clamped to what is left (``rotators.adapters.bounds``), and waits on a
long-running operation stop in time to answer. Work that does not fit continues through
redelivery, the next HTTP call or the sweep, never by holding the caller.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rotators.core.errors import DeadlineExceeded

_deadline: ContextVar[float | None] = ContextVar("rotation_deadline", default=None)


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Run the block with ``seconds`` to spend; a budget already running and shorter is kept."""
    end = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(end if outer is None else min(outer, end))
    try:
        yield
    finally:
        _deadline.reset(token)


@contextmanager
def keeping(reserve: float) -> Iterator[None]:
    """Run the block so that ``reserve`` seconds of the current budget are left after it (none: unbounded)."""
    left = remaining()
    if left is None:
        yield
        return
    with budget(left - reserve):
        yield


def remaining() -> float | None:
    """Seconds left in the current budget, or ``None`` outside any budget."""
    end = _deadline.get()
    return None if end is None else end - time.monotonic()


def check(what: str, *, needs: float = 0.0) -> None:
    """Refuse to start ``what`` when less than ``needs`` seconds are left."""
    left = remaining()
    if left is not None and left <= needs:
        raise DeadlineExceeded(f"{what}: not started, the trigger's time is up; a later trigger continues.")


def call_options(*, read_timeout: float, connection_timeout: float) -> dict[str, Any]:
    """Per-call timeouts for a client that takes no per-call policy (azure-storage-blob)."""
    left = remaining()
    if left is None:
        return {}
    check("A call to Azure")
    return {"read_timeout": min(read_timeout, left), "connection_timeout": min(connection_timeout, left)}
