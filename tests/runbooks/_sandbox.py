"""The sandbox orchestrator for the ops tests, wherever the sandbox package keeps it."""

from __future__ import annotations


def sandbox_class():
    """`Sandbox` from `tradeops.sandbox` if it exports it, else from its platform module."""
    try:
        from tradeops.sandbox import Sandbox  # type: ignore[attr-defined]
    except ImportError:
        from tradeops.sandbox.platform import Sandbox
    return Sandbox
