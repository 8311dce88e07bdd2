"""tradeops: the operations manual of a forex trading platform, as pytest checks.

The public names load lazily: the sandbox's server processes import submodules of
this package and must start on the standard library alone, without pytest or httpx.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "CheckFailed": "tradeops.findings",
    "Finding": "tradeops.findings",
    "Where": "tradeops.findings",
    "expect_none": "tradeops.findings",
    "Manifest": "tradeops.config",
    "ManifestError": "tradeops.config",
    "load_manifest": "tradeops.config",
    "OpsSession": "tradeops._session",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'tradeops' has no attribute {name!r}")
