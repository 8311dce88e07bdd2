"""What collection may leave out, decided per path before pytest imports a module.

`pytest -m preflight` selects five items; building the other two hundred (every
strategy's parametrized checks) only to deselect them was a fifth of its time. A check
is pre-flight by its own marker, written in its module (`pytestmark = pytest.mark.
preflight` or `@pytest.mark.preflight`): nothing else adds that marker. So a check module
whose source never writes `.preflight` holds no item `-m preflight` selects, and is not
collected. Anything unclear (another expression, an unreadable file) is collected as
before, so a module pytest would report as broken still is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tradeops._session import CHECK_DIRS, arg_paths, in_check_dirs

_MARKED_PREFLIGHT = re.compile(r"\.\s*preflight\b")


def outside_the_checks(path: Path, config: pytest.Config) -> bool:
    """`pytest /opt/tradeops -m preflight` names the suite's folder, as cron does from
    elsewhere: that means its checks (the testpaths), not the suite's own tests too."""
    root = config.rootpath
    if path == root or path.parent != root or not path.is_dir():
        return False
    if not any(named == root for _, named in arg_paths(config)):
        return False
    return path not in {root / name for name in CHECK_DIRS}


def off_every_argument(path: Path, config: pytest.Config) -> bool:
    """A rootdir entry that no argument names or leads into (`pytest checks` and README.md,
    tests/, docs/...): pytest would list and check each only to leave it out."""
    root = config.rootpath
    if path.parent != root or config.option.pyargs:  # --pyargs: arguments are module names
        return False
    return not any(
        named == path or path in named.parents or named in path.parents
        for _, named in arg_paths(config)
    )


def holds_no_preflight_item(path: Path, config: pytest.Config) -> bool:
    """A check module that `-m preflight` (the expression exactly) would deselect whole."""
    if (config.option.markexpr or "").strip() != "preflight":
        return False
    if path.suffix != ".py" or path.name == "conftest.py":
        return False
    if not in_check_dirs(config.rootpath, path):
        return False
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return _MARKED_PREFLIGHT.search(source) is None
