"""Runbooks: what an operator does when a check fails, by the check's severity.

The data is runbooks.toml; each runbook has a kind:

- `steps` (P0/P1 checks): CONFIRM, ISOLATE, RESOLVE, VERIFY, DOCUMENT, each with this
  platform's real commands: the `curl` of an endpoint (the token from the environment), a
  read-only `sqlite3 'file:$EVENT_STORE?mode=ro'` query, the pytest selection that re-verifies;
- `checklist` (P2): items to tick, and the selection that re-verifies;
- `ticket` (P3): a ticket template (title, labels, body, what to attach).

docs/runbooks.md is rendered from the data (`python -m tradeops.runbooks`), and a test
keeps the two in step; `html_fragment(id)` gives one runbook as self-contained HTML for
a report to embed. tests/runbooks/test_lint.py proves every command against the sandbox.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from tradeops._record import frozen_record

DOC = "docs/runbooks.md"
_DATA = Path(__file__).with_name("runbooks.toml")

STEPS = ("confirm", "isolate", "resolve", "verify", "document")
KINDS = ("steps", "checklist", "ticket")
# The runbook kind each severity requires (operations model, "Runbooks and post-mortems").
KIND_FOR_SEVERITY = {"P0": "steps", "P1": "steps", "P2": "checklist", "P3": "ticket"}
# Where a `curl` entry's service prefix points, and which token it sends.
SERVICES = {
    "control": ("$CONTROL_PLANE_URL", "$CONTROL_PLANE_TOKEN"),
    "oanda": ("$OANDA_URL", "$OANDA_TOKEN"),
}


class RunbookError(ValueError):
    """runbooks.toml is malformed; the message names the runbook and the key."""


@frozen_record
class Step:
    """One of the five steps: what to do, and the commands that do it."""

    name: str
    text: str
    curl: tuple[str, ...] = ()  # "control:/api/health", "oanda:/v3/accounts/$ACCOUNT_ID/summary"
    sql: str | None = None  # returns rows only while the fault is there
    scope_sql: str | None = None  # scopes the fault (returns rows on it, maybe at other times)
    pytest: str | None = None  # the selection that re-verifies (VERIFY)

    def commands(self) -> list[str]:
        """The shell commands of this step, ready to paste."""
        out = [curl_command(c) for c in self.curl]
        out += [sqlite_command(q) for q in (self.sql, self.scope_sql) if q]
        if self.pytest:
            out.append(pytest_command(self.pytest))
        return out


@frozen_record
class Ticket:
    """A P3 runbook's ticket template: title, labels, body, what to attach."""

    title: str
    labels: tuple[str, ...]
    body: str
    attach: tuple[str, ...]


@frozen_record
class Runbook:
    """One runbook: its kind (steps, checklist or ticket), the next step, and its content."""

    id: str
    kind: str
    title: str
    next_step: str
    steps: tuple[Step, ...] = ()
    checklist: tuple[str, ...] = ()
    ticket: Ticket | None = None
    verify_selection: str | None = None  # checklist and ticket: the re-verifying selection

    @property
    def link(self) -> str:
        return f"{DOC}#{self.id}"

    @property
    def selections(self) -> list[str]:
        """Every pytest selection this runbook tells the operator to run."""
        found = [s.pytest for s in self.steps if s.pytest]
        return found + ([self.verify_selection] if self.verify_selection else [])

    @property
    def queries(self) -> list[tuple[str, str]]:
        """(role, SQL) for every query: role "sql" shows the fault, "scope_sql" scopes it."""
        out = []
        for step in self.steps:
            out += [("sql", step.sql)] if step.sql else []
            out += [("scope_sql", step.scope_sql)] if step.scope_sql else []
        return out


def curl_command(entry: str) -> str:
    """`control:/api/health` -> the curl a person pastes (GET, a deadline, token from the env)."""
    service, _, path = entry.partition(":")
    base, token = SERVICES[service]
    extra = ' -H "Accept-Datetime-Format: RFC3339"' if service == "oanda" else ""
    return (
        f'curl -sS --max-time 5 -w "\\n%{{http_code}} %{{time_total}}s\\n" '
        f'-H "Authorization: Bearer {token}"{extra} "{base}{path}"'
    )


def sqlite_command(query: str) -> str:
    """The read-only sqlite3 command for a query: the file opened `mode=ro`, the SQL in a
    quoted here-document so the shell changes nothing in it."""
    return f"sqlite3 -header -column \"file:$EVENT_STORE?mode=ro\" <<'SQL'\n{query.strip()}\nSQL"


def pytest_command(selection: str) -> str:
    """The pytest command that re-verifies, against the operator's manifest."""
    return f'pytest {selection} --ops-config "$OPS_CONFIG"'


def _step(rid: str, name: str, raw: object) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise RunbookError(f"runbook {rid}: [{rid}.{name}] needs a text")
    unknown = set(raw) - {"text", "curl", "sql", "scope_sql", "pytest"}
    if unknown:
        raise RunbookError(f"runbook {rid}: [{rid}.{name}] unknown key {sorted(unknown)[0]!r}")
    curl = tuple(raw.get("curl", ()))
    for entry in curl:
        if entry.partition(":")[0] not in SERVICES:
            raise RunbookError(f"runbook {rid}: {name} curl {entry!r}: service not in {SERVICES}")
    return Step(name, raw["text"], curl, raw.get("sql"), raw.get("scope_sql"), raw.get("pytest"))


def parse(rid: str, raw: dict) -> Runbook:
    """One runbook from its TOML table; RunbookError names what is wrong."""
    kind = raw.get("kind")
    if kind not in KINDS:
        raise RunbookError(f"runbook {rid}: kind must be one of {KINDS}, got {kind!r}")
    for key in ("title", "next_step"):
        if not isinstance(raw.get(key), str):
            raise RunbookError(f"runbook {rid}: missing {key}")
    common = {"id": rid, "kind": kind, "title": raw["title"], "next_step": raw["next_step"]}
    if kind == "steps":
        missing = [s for s in STEPS if s not in raw]
        if missing:
            raise RunbookError(f"runbook {rid}: missing step [{rid}.{missing[0]}]")
        return Runbook(**common, steps=tuple(_step(rid, s, raw[s]) for s in STEPS))
    verify = raw.get("verify")
    if not isinstance(verify, str):
        raise RunbookError(f"runbook {rid}: a {kind} needs a verify selection")
    if kind == "checklist":
        items = raw.get("checklist")
        if not isinstance(items, list) or not items:
            raise RunbookError(f"runbook {rid}: checklist must be a list of items")
        return Runbook(**common, checklist=tuple(items), verify_selection=verify)
    t = raw.get("ticket")
    if not isinstance(t, dict) or not all(k in t for k in ("title", "labels", "body", "attach")):
        raise RunbookError(f"runbook {rid}: [{rid}.ticket] needs title, labels, body, attach")
    ticket = Ticket(t["title"], tuple(t["labels"]), t["body"], tuple(t["attach"]))
    return Runbook(**common, ticket=ticket, verify_selection=verify)


def load(path: Path = _DATA) -> dict[str, Runbook]:
    """Every runbook in a runbooks.toml, by id."""
    with path.open("rb") as data:
        table = tomllib.load(data)
    return {rid: parse(rid, fields) for rid, fields in table.items()}


# A top-level table header, `[id]`: one per runbook (its steps are `[id.confirm]`, ...).
_HEADER = re.compile(r"^[ \t]*\[([A-Za-z0-9_-]+)\][ \t]*(?:#.*)?$", re.MULTILINE)


@functools.cache
def runbook_ids(path: Path = _DATA) -> frozenset[str]:
    """The ids runbooks.toml defines, read off its table headers without parsing it.

    Every run checks each collected check's runbook marker against them; parsing the file
    (4.5 ms) waits until a runbook's text is needed, for a failure. A test holds these ids
    to the parsed file's.
    """
    return frozenset(_HEADER.findall(path.read_text(encoding="utf-8")))


@functools.cache
def _books() -> dict[str, Runbook]:
    return load()


def __getattr__(name: str) -> object:
    # RUNBOOKS, every runbook by id, parsed on first use.
    if name == "RUNBOOKS":
        return _books()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def runbook(runbook_id: str) -> Runbook | None:
    """The runbook with this id, or None."""
    return _books().get(runbook_id)


def link(runbook_id: str, base: str | None = None) -> str:
    """Where a report links a runbook: `[reports] runbook_url` + `#id`, else docs/runbooks.md."""
    return f"{base}#{runbook_id}" if base else f"{DOC}#{runbook_id}"


# --- rendering --------------------------------------------------------------------------------


@dataclass
class _Lines:
    """Markdown being written, with a helper for fenced shell commands."""

    out: list[str] = field(default_factory=list)

    def code(self, commands: list[str], indent: str = "   ") -> None:
        for command in commands:
            self.out += [
                "",
                f"{indent}```sh",
                *(f"{indent}{line}" for line in command.splitlines()),
            ]
            self.out.append(f"{indent}```")


def _markdown_one(r: Runbook) -> list[str]:
    lines = _Lines([f'<a id="{r.id}"></a>', f"## {r.id}: {r.title}", ""])
    lines.out += [f"*{r.kind}* · **Next step:** {r.next_step}", ""]
    if r.kind == "steps":
        for number, step in enumerate(r.steps, 1):
            lines.out.append(f"{number}. **{step.name.upper()}** {step.text}")
            lines.code(step.commands())
    elif r.kind == "checklist":
        lines.out += [f"- [ ] {item}" for item in r.checklist]
        lines.out.append(f"- [ ] `{pytest_command(r.verify_selection or '')}` is green.")
    elif r.ticket is not None:
        t = r.ticket
        lines.out += [
            f"- **Title:** {t.title}",
            f"- **Labels:** {', '.join(f'`{label}`' for label in t.labels)}",
            f"- **Body:** {t.body}",
            "- **Attach:** " + "; ".join(t.attach),
            f"- **Done when:** `{pytest_command(r.verify_selection or '')}` is green.",
        ]
    return [*lines.out, ""]


_PREAMBLE = """# Runbooks

Rendered from `tradeops/runbooks.toml` by `python -m tradeops.runbooks`; edit the data, not
this file. Each check names its runbook; the kind follows the check's severity: P0/P1 the
five steps, P2 a checklist, P3 a ticket template.

The commands use these placeholders; set them from your manifest (`ops.toml`) first:

{placeholders}

A store path with characters a URI reserves (`?`, `#`, `%`) must be percent-encoded in
`file:$EVENT_STORE?mode=ro`. Every query is proven on the sandbox scenario that targets its
check (tests/runbooks/test_lint.py): a query under a step returns rows while the fault is
there and none on a healthy platform; a scoping query returns rows on the fault.
"""


PLACEHOLDERS = (
    ("`$OPS_CONFIG`", "the manifest's path"),
    ("`$EVENT_STORE`", "`[event_store] path` (opened read-only: `file:...?mode=ro`)"),
    ("`$CONTROL_PLANE_URL`", "`[control_plane] url`"),
    (
        "`$CONTROL_PLANE_TOKEN`",
        "the variable `[control_plane] token_env` names "
        '(`export CONTROL_PLANE_TOKEN="${!TOKEN_ENV}"`; never paste a token)',
    ),
    (
        "`$OANDA_URL`, `$OANDA_TOKEN`",
        "a `[[brokers]]` `url`, and the variable its `token_env` names",
    ),
    (
        "`$ACCOUNT_ID`, `$INSTRUMENTS`, `$TRANSACTION_ID`, `$SINCE`",
        "the account, instruments, transaction id or RFC 3339 time the failure names",
    ),
)


def markdown() -> str:
    """docs/runbooks.md, rendered from runbooks.toml."""
    table = ["| placeholder | what it is |", "| --- | --- |"]
    table += [f"| {name} | {meaning} |" for name, meaning in PLACEHOLDERS]
    lines = [_PREAMBLE.replace("{placeholders}", "\n".join(table))]
    for r in _books().values():
        lines += _markdown_one(r)
    return "\n".join(lines).rstrip("\n")


def _text(text: str) -> str:
    """Escaped text, with the data's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _pre(commands: list[str]) -> str:
    return "".join(f"<pre><code>{escape(c)}</code></pre>" for c in commands)


def html_fragment(runbook_id: str, base_url: str | None = None) -> str:
    """One runbook as a self-contained HTML fragment (no external CSS or script), for the
    report of a failing check; KeyError for an unknown id."""
    r = _books()[runbook_id]
    href = escape(link(r.id, base_url), quote=True)
    head = (
        f'<section class="runbook runbook-{r.kind}" data-runbook="{escape(r.id, quote=True)}">'
        f'<h4><a href="{href}">{escape(r.id)}</a>: {escape(r.title)}</h4>'
        f"<p><strong>Next step:</strong> {_text(r.next_step)}</p>"
    )
    if r.kind == "steps":
        items = "".join(
            f"<li><strong>{s.name.upper()}</strong> {_text(s.text)}{_pre(s.commands())}</li>"
            for s in r.steps
        )
        body = f"<ol>{items}</ol>"
    elif r.kind == "checklist":
        ticks = [*r.checklist, f"`{pytest_command(r.verify_selection or '')}` is green."]
        body = "<ul>" + "".join(f"<li>&#9744; {_text(item)}</li>" for item in ticks) + "</ul>"
    else:
        t = r.ticket
        assert t is not None
        rows = [
            ("Title", t.title),
            ("Labels", ", ".join(t.labels)),
            ("Body", t.body),
            ("Attach", "; ".join(t.attach)),
            ("Done when", f"`{pytest_command(r.verify_selection or '')}` is green"),
        ]
        body = "<dl>" + "".join(f"<dt>{k}</dt><dd>{_text(v)}</dd>" for k, v in rows) + "</dl>"
    return head + body + "</section>"


if __name__ == "__main__":
    print(markdown())
