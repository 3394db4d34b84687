"""The timer trigger: it only plans the sweep (a message per vault); the queue triggers do the work."""

from __future__ import annotations


def on_sweep() -> None:
    from rotators.workflows.fanout import plan

    plan()
