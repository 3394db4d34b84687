"""The timer trigger: the sweep, imported when it first runs."""

from __future__ import annotations


def on_sweep() -> None:
    from rotators.workflows.sweep import sweep

    sweep()
