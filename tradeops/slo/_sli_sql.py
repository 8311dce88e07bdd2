"""The SQL of each SLI: a derived table of judged events `(t, bad)` inside the window.

Bind parameters: :now, :start (the SLO window), :thr (a latency threshold in ms),
:factor (stale_after_heartbeats), :fills (a JSON array of [account, id, time_ms]),
:slack and :grace (ms). Each statement is wrapped by `_sql.aggregate`, so it returns
counts; the derived tables bound every range scan with :start and :now.
"""

from __future__ import annotations

from tradeops.slo._sql import field, json_type

# Ended runs: eligible = RUN_ENDED in the window; bad = status not "completed" (an
# unreadable status cannot prove the run completed).
RUN_SUCCESS = f"""
SELECT ts AS t, coalesce({field("status", "text")} != 'completed', 1) AS bad
FROM events WHERE type = 'RUN_ENDED' AND ts > :start AND ts <= :now
"""

# Reconciliations: bad = divergent is not false (an unreadable one proved nothing).
RECONCILIATION_DIVERGENCE = f"""
SELECT ts AS t, coalesce({json_type("divergent")} != 'false', 1) AS bad
FROM events WHERE type = 'RECONCILIATION' AND ts > :start AND ts <= :now
"""

# Staleness detections: the run went stale at last_heartbeat_ts + factor x interval;
# bad = detected more than :thr after that (or unreadable: no proof of timeliness).
# The run's interval comes from its RUN_STARTED, found through events_run from the run's
# first run_seq (the unary + keeps the planner off events_type_ts).
STALE_DETECTION_LATENCY = f"""
SELECT t, coalesce(t - (hb + :factor * interval_ms) > :thr, 1) AS bad FROM (
  SELECT d.ts AS t, {field("last_heartbeat_ts", "integer", "d.payload")} AS hb,
         1000 * (SELECT {field("heartbeat_interval_s", "integer", "s.payload")}
                 FROM events s WHERE s.run_id = d.run_id AND +s.type = 'RUN_STARTED'
                 ORDER BY s.run_seq LIMIT 1) AS interval_ms
  FROM events d WHERE d.type = 'STALE_DETECTED' AND d.ts > :start AND d.ts <= :now
)
"""

# Promote gates: judged when decided within :thr (good, at the decision), else at
# request + :thr (bad), when it became late. A gate still pending and younger than :thr
# is not judged yet; a decision after :now is not known yet (--ops-as-of).
PROMOTE_GATE_LATENCY = f"""
WITH requested AS (
  SELECT ts, {field("gate_id", "id")} AS gate FROM events
  WHERE type = 'PROMOTE_REQUESTED' AND ts > :start - :thr AND ts <= :now
),
decided AS MATERIALIZED (
  SELECT ts, {field("gate_id", "id")} AS gate FROM events
  WHERE type = 'PROMOTE_DECIDED' AND ts > :start - :thr AND ts <= :now
),
matched AS (
  SELECT r.ts AS asked,
         (SELECT MIN(d.ts) FROM decided d WHERE d.gate = r.gate AND d.ts >= r.ts) AS answered
  FROM requested r
)
SELECT CASE WHEN answered - asked <= :thr THEN answered ELSE asked + :thr END AS t,
       coalesce(answered - asked > :thr, 1) AS bad
FROM matched
"""

# Broker outages: an outage starts at a BROKER_DISCONNECTED whose account's previous
# disconnect/reconnect event is not itself a disconnect (a repeated disconnect is the same
# outage), and ends at the account's first BROKER_RECONNECTED after it. Judged like gates:
# at the reconnection when within :thr, else at start + :thr. Every lookup is one walk of
# events_type_ts from the outage's time, bounded by the few accounts there are.
BROKER_RECONNECTION = """
WITH outages AS (
  SELECT d.seq, d.ts, d.account_id,
    (SELECT p.seq FROM events p WHERE p.type = 'BROKER_DISCONNECTED'
       AND p.account_id IS d.account_id AND p.ts <= d.ts AND p.seq < d.seq
       ORDER BY p.ts DESC LIMIT 1) AS prev_down,
    (SELECT p.seq FROM events p WHERE p.type = 'BROKER_RECONNECTED'
       AND p.account_id IS d.account_id AND p.ts <= d.ts AND p.seq < d.seq
       ORDER BY p.ts DESC LIMIT 1) AS prev_up,
    (SELECT r.ts FROM events r WHERE r.type = 'BROKER_RECONNECTED'
       AND r.account_id IS d.account_id AND r.ts >= d.ts AND r.ts <= :now AND r.seq > d.seq
       ORDER BY r.ts LIMIT 1) AS up
  FROM events d
  WHERE d.type = 'BROKER_DISCONNECTED' AND d.ts > :start - :thr AND d.ts <= :now
)
SELECT CASE WHEN up - ts <= :thr THEN up ELSE ts + :thr END AS t,
       coalesce(up - ts > :thr, 1) AS bad
FROM outages WHERE prev_down IS NULL OR prev_down < coalesce(prev_up, 0)
"""

# Broker fills vs ORDER_FILLED: a fill is persisted when an ORDER_FILLED of the same
# account carries its transaction id (as text: the contract allows a string or a number).
# Fills younger than :grace are not judged yet (the platform writes after the fill);
# ORDER_FILLED rows are read from :slack before the window (clock skew).
# :fills is a JSON object, key -> fill time, read by json_each with no JSON call per fill;
# the key is the account's length, ':', the account, then the id (BrokerFills.to_param),
# which no other (account, id) pair spells. A row with no usable account or id is ''
# (no key is empty): a NULL in the list would make NOT IN NULL, and every lost fill
# of that account would count as persisted.
TRADE_PERSISTENCE = f"""
SELECT value AS t, key NOT IN (
  SELECT coalesce(length(account_id) || ':' || account_id
                  || CAST({field("broker_transaction_id", "id")} AS TEXT), '')
  FROM events WHERE type = 'ORDER_FILLED' AND ts > :start - :slack AND ts <= :now
) AS bad
FROM json_each(:fills) WHERE value <= :now - :grace
"""
