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
        ("heartbeat_interval_s", "integer"),
        ("scheduled_end_ts", "integer"),
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
    "STALE_DETECTED": (("last_heartbeat_ts", "integer"),),
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

# kind -> (json_type values accepted, how the problem text names it)
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "text": (("text",), "a string"),
    "integer": (("integer",), "an integer"),
    "number": (("integer", "real"), "a number"),
    "bool": (("true", "false"), "true or false"),
    "array": (("array",), "a list"),
    "id": (("text", "integer"), "a string or an integer"),
    "decimal": (("text", "integer", "real"), "a number or a decimal string"),
}

# The columns the contract's schema gives `events`; the store is refused without them.
COLUMNS = ("seq", "ts", "type", "run_id", "run_seq", "strategy_id", "instrument", "account_id")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def field(name: str, kind: str, column: str = "payload") -> str:
    """SQL for one payload field's value, or NULL if the payload is bad or the type wrong."""
    accepted, _ = KINDS[kind]
    path = f"'$.{name}'"
    return (
        f"CASE WHEN json_valid({column}) THEN CASE WHEN json_type({column}, {path}) "
        f"IN ({_quoted(accepted)}) THEN json_extract({column}, {path}) END END"
    )


def _problem(name: str, kind: str) -> str:
    """SQL text naming what is wrong with one field, or NULL if it is fine."""
    accepted, wanted = KINDS[kind]
    jtype = f"json_type(payload, '$.{name}')"
    return (
        f"CASE WHEN {jtype} IS NULL THEN 'lacks `{name}`' "
        f"WHEN {jtype} NOT IN ({_quoted(accepted)}) "
        f"THEN '`{name}`: expected {wanted}, got ' || {jtype} END"
    )


def problems_sql(types: list[str], since: bool) -> tuple[str, list[object]]:
    """One query: rows of `types` whose payload is not a valid JSON object with its fields."""
    selects = []
    params: list[object] = []
    for event_type in dict.fromkeys(types):  # keeps order, drops repeats
        fields = PAYLOAD_FIELDS.get(event_type, ())
        # Concatenating "problem; " pieces then trimming the separator: SQLite 3.40 has no
        # concat_ws. The problem texts never end in ';' or ' ', so rtrim is exact.
        joined = " || ".join(f"coalesce({_problem(n, k)} || '; ', '')" for n, k in fields)
        per_field = f"rtrim({joined}, '; ')" if fields else "''"
        selects.append(
            "SELECT seq, type, run_id, CASE "
            "WHEN payload IS NULL OR NOT json_valid(payload) THEN 'payload is not valid JSON' "
            "WHEN json_type(payload) != 'object' THEN 'payload is not a JSON object' "
            f"ELSE {per_field} END AS problem "
            "FROM events WHERE type = ?" + (" AND ts >= ?" if since else "")
        )
        params.append(event_type)
    union = " UNION ALL ".join(selects)
    return f"SELECT * FROM ({union}) WHERE problem != '' ORDER BY seq", params


def _runs(where: str) -> str:
    """Runs (first RUN_STARTED per run_id) with their end and last heartbeat, filtered."""
    return f"""
WITH started AS (
  SELECT run_id, MIN(seq) AS seq, ts, strategy_id, instrument, account_id,
         {field("mode", "text")} AS mode,
         {field("heartbeat_interval_s", "integer")} AS interval_s,
         {field("scheduled_end_ts", "integer")} AS end_ts
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
       c.ts, c.seq, c.ended, c.end_status, hb.ts, c.hb_seq
FROM chosen c LEFT JOIN events hb ON hb.seq = c.hb_seq
ORDER BY c.seq
"""


LIVE_RUNS = _runs("e.seq IS NULL AND s.end_ts >= :now")
RESIDUAL_RUNS = _runs("e.seq IS NULL AND s.end_ts < :now")
ONE_RUN = _runs("s.run_id = :run_id")

LAST_HEARTBEATS = """
SELECT ids.value, hb.ts, hb.seq FROM json_each(:ids) ids
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
    """STALE_DETECTED rows with a usable last_heartbeat_ts, optionally filtered."""
    where = ["type = 'STALE_DETECTED'"]
    if since:
        where.append("ts >= :since")
    if some_runs:
        where.append("run_id IN (SELECT value FROM json_each(:ids))")
    return f"""
SELECT * FROM (
  SELECT seq, ts, run_id, strategy_id, {field("last_heartbeat_ts", "integer")} AS last_hb
  FROM events WHERE {" AND ".join(where)}
) WHERE last_hb IS NOT NULL ORDER BY seq
"""


def _unmatched(opened: str, closed: str, key: str, columns: str) -> str:
    """Rows of type `opened` whose `key` no row of type `closed` carries."""
    return f"""
SELECT * FROM (
  SELECT {field(key, "id")} AS key, {columns}
  FROM events WHERE type = '{opened}'
) WHERE key IS NOT NULL AND key NOT IN (
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

NET_POSITIONS = f"""
SELECT account_id, instrument, SUM(units) FROM (
  SELECT account_id, instrument, {field("units", "integer")} AS units
  FROM events WHERE type = 'ORDER_FILLED'
) WHERE units IS NOT NULL AND account_id IS NOT NULL AND instrument IS NOT NULL
GROUP BY account_id, instrument ORDER BY account_id, instrument
"""
