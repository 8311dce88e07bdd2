"""The SQL behind EventStore: payload fields per event type, and the derived-fact queries.

Every query reads through the contract's indexes (events_type_ts for one event type,
events_run for one run) and guards `json_extract` with `json_valid` inside a CASE, whose
branches SQLite evaluates in order: a WHERE clause may be reordered by the planner, so a
guard there would not stop `json_extract` from raising "malformed JSON" on a bad row.
"""

from __future__ import annotations

# The payload fields the contract lists per event type, and the JSON types each accepts.
# "id" and "decimal" are lenient on purpose: OANDA ids and prices are strings in its API,
# and a platform may store them either way.
PAYLOAD_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "RUN_STARTED": (
        ("mode", "text"),
        ("heartbeat_interval_s", "interval"),
        ("scheduled_end_ts", "epoch_ms"),
    ),
    "HEARTBEAT": (),
    "SIGNAL": (("side", "text"), ("strength", "number")),
    "ORDER_SUBMITTED": (("client_order_id", "text"), ("units", "integer")),
    "ORDER_FILLED": (
        ("client_order_id", "text"),
        ("broker_transaction_id", "id"),
        ("units", "integer"),
        ("price", "decimal"),
    ),
    "TRADE_CLOSED": (("broker_trade_id", "id"), ("units", "integer"), ("realized_pl", "decimal")),
    "STALE_DETECTED": (("last_heartbeat_ts", "epoch_ms"),),
    "RUN_ENDED": (("status", "text"), ("reason", "text")),
    "BROKER_DISCONNECTED": (("reason", "text"),),
    "BROKER_RECONNECTED": (),
    "RECONCILIATION": (("divergent", "bool"), ("instruments", "array")),
    "RECONCILIATION_ALERT": (("alert_id", "id"),),
    "RECONCILIATION_ALERT_RESOLVED": (("alert_id", "id"),),
    "PROMOTE_REQUESTED": (("gate_id", "id"), ("to", "text")),
    "PROMOTE_DECIDED": (("gate_id", "id"), ("approved", "bool"), ("reason", "text")),
    "ACCOUNT_SNAPSHOT": (
        ("nav", "decimal"),
        ("balance", "decimal"),
        ("unrealized_pl", "decimal"),
        ("margin_used", "decimal"),
    ),
}

MIN_MS = 946_684_800_000  # 2000-01-01T00:00:00Z: no platform event is older
_SCHEDULE_END_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
_INT_MAX = 9_007_199_254_740_991  # 2**53 - 1: exact as a float, so sums stay exact
# A decimal string: only digits, e, E, '.', '+', '-'; at least one digit (so not ''); at
# most one '.'. Each {v} is a json_extract call of its own, so the test names it few times.
_DECIMAL_TEXT_BAD = (
    "(typeof({v}) = 'text' AND ({v} GLOB '*[^0-9eE.+-]*' OR NOT {v} GLOB '*[0-9]*' "
    "OR {v} GLOB '*.*.*'))"
)

# kind -> (json_type values accepted, how the problem text names it, SQL on the value
# `{v}` (the value) that is true when it is out of range, or None). A value either passes all three
# tests and is used, or is reported: `field()` and `_problem()` read the same table.
KINDS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "text": (("text",), "a string", None),
    "integer": (("integer",), "an integer", "abs({v}) > " + str(_INT_MAX)),
    "interval": (("integer",), "whole seconds from 1 to 86400", "{v} < 1 OR {v} > 86400"),
    "epoch_ms": (
        ("integer",),
        "epoch milliseconds in the years 2000 to 2099",
        "{v} < " + str(MIN_MS) + " OR {v} >= " + str(_SCHEDULE_END_MS),
    ),
    "number": (("integer", "real"), "a finite number", "abs({v}) > 1e15"),
    "bool": (("true", "false"), "true or false", None),
    "array": (("array",), "a list", None),
    "id": (("text", "integer"), "a string or an integer", "{v} = ''"),  # no number is ''
    "decimal": (
        ("text", "integer", "real"),
        "a finite decimal number or decimal string",
        _DECIMAL_TEXT_BAD + " OR abs(CAST({v} AS REAL)) > 1e15",
    ),
}


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _shown(jtype: str, value: str) -> str:
    """SQL: ' ' and the value quoted (at most 40 characters), for scalars; '' otherwise."""
    return (
        f"CASE WHEN {jtype} IN ('text', 'integer', 'real') "
        f"THEN ' ' || substr(quote({value}), 1, 40) ELSE '' END"
    )


def _problem(name: str, kind: str, column: str = "payload") -> str:
    """SQL text naming what is wrong with one field of a valid JSON object, or NULL."""
    accepted, wanted, out_of_range = KINDS[kind]
    jtype = f"json_type({column}, '$.{name}')"
    value = f"json_extract({column}, '$.{name}')"
    got = f"'`{name}`: expected {wanted}, got ' || {jtype} || {_shown(jtype, value)}"
    bad = f"WHEN {out_of_range.replace('{v}', value)} THEN {got} " if out_of_range else ""
    return (
        f"CASE WHEN {jtype} IS NULL THEN 'lacks `{name}`' "
        f"WHEN {jtype} NOT IN ({_quoted(accepted)}) THEN {got} {bad}END"
    )


def _usable(name: str, kind: str, column: str = "payload") -> str:
    """SQL, on a valid JSON object, true exactly when `_problem` is NULL (the field is usable).

    The same KINDS row as `_problem`, in half the JSON calls: one json_type and at most one
    json_extract where `_problem` needs two and two. `IS NOT TRUE` is the CASE's reading of
    an out-of-range test that is NULL (not taken), so the two never disagree.
    """
    accepted, _, out_of_range = KINDS[kind]
    jtype = f"json_type({column}, '$.{name}')"
    value = f"json_extract({column}, '$.{name}')"
    rng = f" AND ({out_of_range.replace('{v}', value)}) IS NOT TRUE" if out_of_range else ""
    return f"{jtype} IN ({_quoted(accepted)}){rng}"


def field(name: str, kind: str, column: str = "payload") -> str:
    """SQL for one payload field's value, or NULL if the payload or the value is bad."""
    path = f"'$.{name}'"
    # No json_type(payload) = 'object' test: a path into an array or a scalar is NULL, so
    # `_usable` is false for them already (one JSON call a row fewer).
    return (
        f"CASE WHEN json_valid({column}) THEN CASE WHEN {_usable(name, kind, column)} "
        f"THEN json_extract({column}, {path}) END END"
    )


def row_problem(fields: tuple[tuple[str, str], ...], column: str = "payload") -> str:
    """SQL text naming everything wrong with one row's payload ('' when nothing is)."""
    # Concatenating "problem; " pieces then trimming the separator: SQLite 3.40 has no
    # concat_ws. The problem texts never end in ';' or ' ', so rtrim is exact.
    joined = " || ".join(f"coalesce({_problem(n, k, column)} || '; ', '')" for n, k in fields)
    per_field = f"rtrim({joined}, '; ')" if fields else "''"
    # Nearly every row is sound: one cheap test of all fields first, and the texts only
    # for a row that fails it (the WHENs run in order, so the JSON is valid by then).
    sound = " AND ".join(_usable(n, k, column) for n, k in fields)
    fast = f"WHEN {sound} THEN '' " if fields else ""
    return (
        f"CASE WHEN {column} IS NULL OR NOT json_valid({column}) THEN 'payload is not valid JSON' "
        f"WHEN json_type({column}) != 'object' THEN 'payload is not a JSON object' "
        f"{fast}ELSE {per_field} END"
    )


def ts_problem(column: str = "ts") -> str:
    """SQL text naming what is wrong with an event's `ts`, or NULL; needs :max_ts."""
    date = (
        f"coalesce(' (' || strftime('%Y-%m-%dT%H:%M:%SZ', {column} / 1000, 'unixepoch') || ')', '')"
    )
    return (
        f"CASE WHEN typeof({column}) != 'integer' THEN '`ts`: expected epoch milliseconds, got ' "
        f"|| typeof({column}) || CASE WHEN {column} IS NULL THEN '' "
        f"ELSE ' ' || substr(quote({column}), 1, 40) END "
        f"WHEN {column} < {MIN_MS} THEN '`ts`: ' || {column} || {date} || ' is before 2000' "
        f"WHEN {column} > :max_ts THEN '`ts`: ' || {column} || {date} "
        f"|| ' is in the future, beyond the clock-skew tolerance' END"
    )


def problems_sql(types: list[str], since: bool) -> tuple[str, list[object]]:
    """One query: rows of `types` whose payload is not a valid JSON object with its fields."""
    selects = []
    params: list[object] = []
    for event_type in dict.fromkeys(types):  # keeps order, drops repeats
        problem = row_problem(PAYLOAD_FIELDS.get(event_type, ()))
        selects.append(
            f"SELECT seq, type, run_id, {problem} AS problem "
            "FROM events WHERE type = ?" + (" AND ts >= ?" if since else "")
        )
        params.append(event_type)
    union = " UNION ALL ".join(selects)
    return f"SELECT * FROM ({union}) WHERE problem != '' ORDER BY seq", params


def first_problem_sql(event_type: str, fields: tuple[tuple[str, str], ...], where: str) -> str:
    """The first row of a type (and a WHERE) whose ts or one of `fields` is bad: seq, problem."""
    return f"""
SELECT seq, problem FROM (
  SELECT seq, coalesce({ts_problem()}, {row_problem(fields)}) AS problem
  FROM events WHERE type = '{event_type}' AND {where}
) WHERE problem != '' ORDER BY seq LIMIT 1
"""


def _runs(where: str) -> str:
    """Runs (first RUN_STARTED per run_id) with their end and last heartbeat, filtered."""
    return f"""
WITH started AS (
  SELECT run_id, MIN(seq) AS seq, ts, strategy_id, instrument, account_id,
         {field("mode", "text")} AS mode,
         {field("heartbeat_interval_s", "interval")} AS interval_s,
         {field("scheduled_end_ts", "epoch_ms")} AS end_ts, {ts_problem()} AS ts_problem
  FROM events WHERE type = 'RUN_STARTED' AND run_id IS NOT NULL GROUP BY run_id
),
ended AS (
  SELECT run_id, MIN(seq) AS seq, {field("status", "text")} AS status
  FROM events WHERE type = 'RUN_ENDED' AND run_id IS NOT NULL GROUP BY run_id
),
chosen AS (
  SELECT s.*, e.seq IS NOT NULL AS ended, e.status AS end_status,
         -- Newest heartbeat of the run: walk events_run backwards from the run's end.
         -- The unary + keeps the planner off events_type_ts, which would scan every
         -- HEARTBEAT of the store.
         (SELECT h.seq FROM events h WHERE h.run_id = s.run_id AND +h.type = 'HEARTBEAT'
          ORDER BY h.run_seq DESC LIMIT 1) AS hb_seq
  FROM started s LEFT JOIN ended e ON e.run_id = s.run_id
  WHERE {where}
)
SELECT c.run_id, c.strategy_id, c.instrument, c.account_id, c.mode, c.interval_s, c.end_ts,
       c.ts, c.seq, c.ended, c.end_status, hb.ts, c.hb_seq, c.ts_problem,
       {ts_problem("hb.ts")}
FROM chosen c LEFT JOIN events hb ON hb.seq = c.hb_seq
ORDER BY c.seq
"""


LIVE_RUNS = _runs("e.seq IS NULL AND s.end_ts >= :now")
UNENDED_RUNS = _runs("e.seq IS NULL")  # live and residual, split by their scheduled end
ONE_RUN = _runs("s.run_id = :run_id")

LAST_HEARTBEATS = f"""
SELECT ids.value, hb.ts, hb.seq, {ts_problem("hb.ts")} FROM json_each(:ids) ids
JOIN events hb ON hb.seq = (
  SELECT h.seq FROM events h WHERE h.run_id = ids.value AND +h.type = 'HEARTBEAT'
  ORDER BY h.run_seq DESC LIMIT 1)
"""


def gaps_sql(some_runs: bool) -> str:
    """Holes in run_seq: COUNT/MIN/MAX per run finds the holed runs, LAG locates the holes."""
    only = "AND run_id IN (SELECT value FROM json_each(:ids))" if some_runs else ""
    return f"""
WITH per_run AS (
  SELECT run_id, COUNT(DISTINCT run_seq) AS n, MIN(run_seq) AS lo, MAX(run_seq) AS hi
  FROM events WHERE run_id IS NOT NULL AND run_seq IS NOT NULL {only} GROUP BY run_id
),
holed AS (SELECT run_id FROM per_run WHERE n != hi - lo + 1 OR lo > 1),
ordered AS (
  SELECT e.run_id, e.run_seq, e.seq, e.strategy_id, e.account_id,
         LAG(e.run_seq) OVER (PARTITION BY e.run_id ORDER BY e.run_seq) AS prev
  FROM events e JOIN holed USING (run_id) WHERE e.run_seq IS NOT NULL
)
SELECT run_id, strategy_id, account_id, coalesce(prev, 0) + 1, run_seq - 1, seq
FROM ordered WHERE run_seq > coalesce(prev, 0) + 1
ORDER BY run_id, run_seq
"""


def stale_sql(some_runs: bool, since: bool) -> str:
    """STALE_DETECTED rows, optionally filtered, each with its problem ('' when none)."""
    where = ["type = 'STALE_DETECTED'"]
    if since:
        where.append("ts >= :since")
    if some_runs:
        where.append("run_id IN (SELECT value FROM json_each(:ids))")
    return f"""
SELECT seq, ts, run_id, strategy_id, {field("last_heartbeat_ts", "epoch_ms")},
       coalesce({ts_problem()}, {row_problem(PAYLOAD_FIELDS["STALE_DETECTED"])})
FROM events WHERE {" AND ".join(where)} ORDER BY seq
"""


def _unmatched(opened: str, closed: str, key: str, columns: str) -> str:
    """Rows of type `opened` whose `key` no row of type `closed` carries, and every row
    of type `opened` that is bad (its problem last, '' when none)."""
    return f"""
SELECT * FROM (
  SELECT {field(key, "id")} AS key, {columns},
         coalesce({ts_problem()}, {row_problem(PAYLOAD_FIELDS[opened])}) AS problem
  FROM events WHERE type = '{opened}'
) WHERE problem != '' OR key NOT IN (
  SELECT k FROM (SELECT {field(key, "id")} AS k FROM events WHERE type = '{closed}')
  WHERE k IS NOT NULL
) ORDER BY seq
"""


PENDING_GATES = _unmatched(
    "PROMOTE_REQUESTED", "PROMOTE_DECIDED", "gate_id", "strategy_id, ts, seq"
)
UNRESOLVED_ALERTS = _unmatched(
    "RECONCILIATION_ALERT",
    "RECONCILIATION_ALERT_RESOLVED",
    "alert_id",
    "strategy_id, account_id, ts, seq",
)

# Per (account, instrument): the sum of the units. A fill whose units are unusable adds
# 1e300, so that position's sum is a real, never an integer: the field is read once per
# fill (a second reference, as in MIN(CASE WHEN units IS NULL ...), is a second read of
# every fill's JSON, 30% of the query), and the fill to name is looked up only then.
NET_POSITIONS = f"""
SELECT account_id, instrument, SUM(coalesce({field("units", "integer")}, 1e300))
FROM events WHERE type = 'ORDER_FILLED' AND account_id IS NOT NULL AND instrument IS NOT NULL
GROUP BY account_id, instrument ORDER BY account_id, instrument
"""

# The first fill of a position whose units are unusable, and what is wrong with them.
FIRST_BAD_FILL = f"""
SELECT seq, {row_problem((("units", "integer"),))} FROM events
WHERE type = 'ORDER_FILLED' AND account_id = :account AND instrument = :instrument
  AND {field("units", "integer")} IS NULL
ORDER BY seq LIMIT 1
"""


def run_seq_sql(some_runs: bool) -> str:
    """The first run-scoped row whose run_seq is not a positive integer (text sorts last)."""
    bad = f"run_seq < 1 OR run_seq > {_INT_MAX}"
    if not some_runs:  # every run: one pass over the table is the floor
        rows = f"SELECT seq, type, run_seq FROM events WHERE run_id IS NOT NULL AND ({bad})"
    else:
        # Two ranges of events_run(run_id, run_seq) per run, below 1 and above the
        # largest: the OR of both would make SQLite scan the whole table.
        only = "run_id IN (SELECT value FROM json_each(:ids))"
        rows = f"""
  SELECT seq, type, run_seq FROM events WHERE {only} AND run_seq < 1
  UNION ALL
  SELECT seq, type, run_seq FROM events WHERE {only} AND run_seq > {_INT_MAX}"""
    return f"""
SELECT seq, type, typeof(run_seq) || ' ' || substr(quote(run_seq), 1, 40) FROM ({rows})
ORDER BY seq LIMIT 1
"""
