"""pytest hooks for the paper trail (being written)."""

from __future__ import annotations
