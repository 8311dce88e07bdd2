"""How one manifest value is checked: its TOML type first, then the rule of its key.

Every number and every string that must mean something carries a `Rule` in its field's
metadata (`field(default=..., metadata=POSITIVE)`), so the range a key accepts is
written once, beside the key, and the message quotes it: one line naming the file,
the key and the rule, e.g.

    /etc/tradeops/ops.toml: [control_plane] timeout_s: must be a number of seconds
    above 0 and at most 300, got 0

TOML allows `nan` and `inf`; no rule here accepts either.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from tradeops._record import frozen_record


class ManifestError(Exception):
    """The manifest cannot be used; the message names the file, the key and the rule."""


@frozen_record
class Rule:
    """What a key's value must be: `text` is quoted in the error, `holds` decides."""

    text: str
    holds: Callable[[typing.Any], bool]

    def meta(self) -> dict:
        return {"rule": self}


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def between(low: float, high: float, text: str, *, low_open: bool = True) -> Rule:
    """A finite number in (low, high] (or [low, high] with low_open=False)."""
    return Rule(
        text,
        lambda v: _finite(v) and (v > low if low_open else v >= low) and v <= high,
    )


def _http_url(value: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        # user:password@host would put a secret in every report that names the URL.
        and parts.username is None
        and parts.password is None
    )


# Timeouts are bounded above too: a deadline of a day is no deadline.
TIMEOUT = between(0, 300, "must be a number of seconds above 0 and at most 300").meta()
POSITIVE = Rule("must be a finite number above 0", lambda v: _finite(v) and v > 0).meta()
NON_NEGATIVE = Rule("must be a finite number, 0 or more", lambda v: _finite(v) and v >= 0).meta()
FRACTION = Rule("must be strictly between 0 and 1", lambda v: _finite(v) and 0 < v < 1).meta()
SHARE = between(0, 1, "must be between 0 and 1", low_open=False).meta()
AT_MOST_ONE = between(0, 1, "must be above 0 and at most 1").meta()
WINDOW_DAYS = between(1, 3650, "must be a number of days from 1 to 3650", low_open=False).meta()
AT_LEAST_ONE = Rule("must be at least 1", lambda v: v >= 1).meta()
RETENTION_FLOOR_DAYS = 7  # the paper trail of the last week is never pruned
KEEP_DAYS = Rule(
    f"must be a whole number of days from {RETENTION_FLOOR_DAYS} to 36500",
    lambda v: RETENTION_FLOOR_DAYS <= v <= 36500,
).meta()
URL = Rule(
    "must be an http:// or https:// URL with a host (and no user:password)", _http_url
).meta()
NOT_EMPTY = Rule("must not be empty", lambda v: bool(v.strip())).meta()
ACCOUNTS = Rule(
    "must list one or more account ids, none empty",
    lambda v: bool(v) and all(a.strip() for a in v),
).meta()


@functools.cache
def _hints(cls: type) -> dict[str, object]:
    """A section's field types, evaluated once: each broker and account is one record."""
    return typing.get_type_hints(cls)


def record(cls: type, raw: object, path: Path, where: str):
    """Build one section's dataclass from its TOML table, checking every key, type and rule."""
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: {where} must be a table")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("toml", True)}
    for key in raw:
        if key not in fields:
            raise ManifestError(f"{path}: {where} unknown key {key!r}")
    values = {}
    for name, spec in fields.items():
        if name not in raw:
            required = (
                spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
            )
            if required:
                raise ManifestError(f"{path}: {where} missing key {name!r}")
            continue
        value = typed(raw[name], hints[name], path, f"{where} {name}")
        rule: Rule | None = spec.metadata.get("rule")
        if rule is not None and value is not None and not rule.holds(value):
            raise ManifestError(f"{path}: {where} {name}: {rule.text}, got {_shown(value)}")
        values[name] = value
    return cls(**values)


def typed(value: object, hint: object, path: Path, where: str) -> object:
    """Check one TOML value against a field's type; ints are accepted where floats are."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        if option is type(None):
            continue
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option in (str, bool) and type(value) is option:
            return value
        if typing.get_origin(option) is list:
            (item,) = typing.get_args(option)
            if isinstance(value, list) and all(type(v) is item for v in value):
                return list(value)
    wanted = " or ".join(_type_name(o) for o in options if o is not type(None))
    raise ManifestError(f"{path}: {where}: expected {wanted}, got {type(value).__name__} {value!r}")


def _shown(value: object) -> str:
    """A value as the operator wrote it in TOML (nan, inf, 0, "htp//x")."""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:g}"
    if isinstance(value, str):
        return json.dumps(value)  # quoted and escaped: the message stays one line
    return repr(value)


def _type_name(hint: object) -> str:
    if typing.get_origin(hint) is list:
        return f"a list of {_type_name(typing.get_args(hint)[0]).split(' ', 1)[1]}s"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, str(hint)
    )


# -- rules across keys -------------------------------------------------------------------


def check_brokers(brokers: list, path: Path) -> None:
    """Broker names are unique, and an account is listed once, under one broker."""
    owner: dict[str, str] = {}
    for index, broker in enumerate(brokers):
        if broker.name in (b.name for b in brokers[:index]):
            raise ManifestError(
                f"{path}: [[brokers]] name: must be unique, {broker.name!r} appears twice"
            )
        for account in broker.accounts:
            if account in owner:
                other = owner[account]
                where = "twice" if other == broker.name else f"under {other!r} too"
                raise ManifestError(
                    f"{path}: [[brokers]] {broker.name} accounts: an account belongs to one "
                    f"broker, {account!r} is listed {where}"
                )
            owner[account] = broker.name


def check_margin(warning: float, critical: float, path: Path) -> None:
    """The margin closeout warning comes before the critical level."""
    if warning >= critical:
        raise ManifestError(
            f"{path}: [portfolio] margin_closeout_warning: must be below "
            f"margin_closeout_critical ({critical:g}), got {warning:g}"
        )
