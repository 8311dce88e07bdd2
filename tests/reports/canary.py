"""Find a planted token in any form a report could carry it: plain, escaped or base64."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from urllib.parse import quote

CANARY = "canary-7f3c9e1d5b2a4680-tok"


def forms(secret: str) -> list[str]:
    """The secret as text, HTML- and URL-escaped, JSON-escaped, and base64 at any offset
    (pytest-html embeds text extras as base64 data URIs)."""
    out = {secret, html.escape(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    for offset in range(3):
        # The middle of the encoding of any string that contains the secret at this offset.
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        out.add(encoded[4 : -4 if len(encoded) > 8 else None])
    return sorted(out)


def leaks(text: str, secret: str = CANARY) -> list[str]:
    """The forms of the secret found in text."""
    return [form for form in forms(secret) if form and form in text]


def leaking_files(root: Path, secret: str = CANARY) -> dict[str, list[str]]:
    """Every file under root that carries the secret, with the forms found."""
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        if hits := leaks(text, secret):
            found[str(path.relative_to(root))] = hits
    return found
