"""Waivers: a known failure, accepted for a while, by someone, for a reason.

    [[waivers]]
    check = "tracking_backtest[mr-eurusd-01]"   # a check id, or a pattern: "tracking_*"
    reason = "new strategy, backtest being redone (TICKET-412)"
    owner = "alice"
    expires = 2027-01-15                          # at most 90 days out

A waived failure is reported as WAIVED (never as passed), counted on its own and kept in
the chain, and does not change the exit code. On its expiry date it turns back into the
failure, saying it expired. A waiver that matched no failing check is reported unused.
"""

from __future__ import annotations

import fnmatch
from datetime import date, timedelta

from tradeops._record import frozen_record

MAX_DAYS = 90
KEYS = ("check", "reason", "owner", "expires")


@frozen_record
class Waiver:
    """A known failure accepted until a date: which check, why, whose, until when."""

    check: str  # a check id (`check` or `check[subject]`) or an fnmatch pattern
    reason: str
    owner: str
    expires: date

    def covers(self, check: dict) -> bool:
        names = [check["check"]]
        if check.get("subject"):
            names.append(f"{check['check']}[{check['subject']}]")
        # `[` opens a character class in fnmatch: an exact id is compared as it is.
        return self.check in names or any(
            fnmatch.fnmatchcase(name, self.check) for name in names if "*" in self.check
        )

    def active(self, today: date) -> bool:
        return today < self.expires

    def to_json(self) -> dict:
        return {
            "pattern": self.check,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
        }


def parse(raw: object, today: date) -> tuple[Waiver, ...]:
    """The manifest's `[[waivers]]`; ValueError with the rule broken, for the manifest."""
    if not isinstance(raw, list):
        raise ValueError("[[waivers]] must be a list of tables")
    out = []
    for index, entry in enumerate(raw, start=1):
        where = f"[[waivers]] #{index}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r}")
        for key in KEYS:
            if key not in entry:
                raise ValueError(f"{where}: missing key {key!r}")
        for key in ("check", "reason", "owner"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise ValueError(f"{where}: {key} must be a non-empty string")
        expires = entry["expires"]
        if not isinstance(expires, date) or hasattr(expires, "hour"):
            raise ValueError(f"{where}: expires must be a TOML date like 2027-01-15")
        if expires > today + timedelta(days=MAX_DAYS):
            raise ValueError(
                f"{where}: expires {expires.isoformat()} is more than {MAX_DAYS} days out"
            )
        out.append(Waiver(entry["check"], entry["reason"], entry["owner"], expires))
    return tuple(out)


def apply(checks: list[dict], waivers: tuple[Waiver, ...], today: date) -> dict:
    """Mark covered failures `waived` (in place); say what was applied, expired, unused."""
    applied, expired, used = [], [], set()
    for check in checks:
        if check["outcome"] not in ("failed", "error"):
            continue
        for waiver in waivers:
            if not waiver.covers(check):
                continue
            used.add(waiver)
            name = check["check"] + (f"[{check['subject']}]" if check.get("subject") else "")
            if waiver.active(today):
                check["outcome"] = "waived"
                applied.append({"check": name, **waiver.to_json()})
                break
            check["summary"] = f"{check['summary']} (waiver expired {waiver.expires})"
            expired.append({"check": name, **waiver.to_json()})
    unused = [w.to_json() for w in waivers if w not in used]
    return {"applied": applied, "expired": expired, "unused": unused}
