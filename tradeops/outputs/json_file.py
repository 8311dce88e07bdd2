"""`--ops-json PATH`: the verdict document as JSON, for CI, cron and alerting."""

from __future__ import annotations

import json
import os
from pathlib import Path

NAME = "json"


def wanted(config) -> bool:
    return bool(config.getoption("ops_json", None))


def write(doc: dict, config) -> list[Path]:
    path = Path(config.getoption("ops_json")).expanduser()
    write_atomically(path, doc)
    return [path]


def write_atomically(path: Path, doc: dict) -> None:
    """Write the document so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(partial, path)
