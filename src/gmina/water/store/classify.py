"""Decide, in SQL over the staged file, which readings are new, duplicate or quarantined.

The rules, all independent of the order of records within the file:

* the same (meter, time) twice in the file with the same index: one is kept, the rest are
  duplicates; with different indexes: all of them go to quarantine (``conflict``);
* already stored with the same index: duplicate; with another index: quarantine (``conflict``);
  a stored reading is never overwritten;
* an index lower than the reading before it by more than the tolerance goes to quarantine
  (``decreasing_index``) when the data agree that *it* is the odd one: the reading after it is
  back at the level of the one before; or, at the end of the data, it is also below the reading
  two back. A spike (one reading far too high) therefore does not condemn the readings after
  it, which stay consistent with each other. A register that wrapped past its capacity is not
  a decrease. Spikes and rollbacks that are stored are the detectors' business.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper

from gmina.water.store.staging import BAD, STAGE, on_commit

CAND = "gmina_cand"  # listed in staging.TEMP_TABLES, dropped with the others


@dataclass(frozen=True)
class Classification:
    in_file_duplicates: int
    stored_duplicates: int


# Up to this many staged readings, each key is looked up in what is stored through the key index;
# beyond it the planner chooses (a hash join over water_reading can then be cheaper than the probes).
PROBE_UP_TO = 100_000


def classify(connection: BaseDatabaseWrapper, *, tolerance_l: int, staged: int) -> Classification:
    with connection.cursor() as cursor:
        # One row per key, with the index stored under that key if there is one (one pass over the
        # stored table). A key seen in the file with several different indexes is a conflict.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {CAND}{on_commit(connection)} AS"
            f" SELECT g.seq, g.meter_id, g.observed_at, g.index_l, g.n, g.spread, r.index_l AS stored_l FROM"
            f" (SELECT MIN(seq) AS seq, meter_id, observed_at, MIN(index_l) AS index_l,"
            f" COUNT(*) AS n, MAX(index_l) - MIN(index_l) AS spread"
            f" FROM {STAGE} GROUP BY meter_id, observed_at) g {_stored_join(connection, staged)}"
        )
        cursor.execute(
            f"INSERT INTO {BAD} (seq, reason, message)"
            f" SELECT s.seq, 'conflict', 'this file gives meter ' || s.meter_ref || ' at this time the indexes '"
            f" || c.index_l || ' L and ' || (c.index_l + c.spread) || ' L'"
            f" FROM {STAGE} s JOIN {CAND} c ON s.meter_id = c.meter_id AND s.observed_at = c.observed_at"
            f" WHERE c.spread > 0"
        )
        # Against what is stored: never overwrite.
        cursor.execute(
            f"INSERT INTO {BAD} (seq, reason, message)"
            f" SELECT seq, 'conflict', 'already stored with index ' || stored_l || ' L, this record says '"
            f" || index_l || ' L'"
            f" FROM {CAND} WHERE spread = 0 AND stored_l <> index_l"
        )
        cursor.execute(
            f"SELECT COALESCE(SUM(n - 1), 0), COALESCE(SUM(CASE WHEN stored_l = index_l THEN 1 ELSE 0 END), 0)"
            f" FROM {CAND} WHERE spread = 0"
        )
        in_file, stored = cursor.fetchone()
        cursor.execute(f"DELETE FROM {CAND} WHERE spread > 0 OR stored_l IS NOT NULL")
    refuse_decreasing(connection, CAND, tolerance_l=tolerance_l)
    return Classification(int(in_file), int(stored))


def _stored_join(connection: BaseDatabaseWrapper, staged: int) -> str:
    """Each key's stored reading (``r``), if any.

    PostgreSQL's planner knows nothing of the grouped staging table and, with statistics of
    water_reading that lag behind its growth, scans all of it into a hash join: about 0.4 s at 2.7M
    stored readings, growing with the table, for a batch of 1000 already-stored readings (a
    redelivered MQTT group, a retried request). So a batch of ordinary size probes the key index per
    key (LATERAL, kept from being flattened by OFFSET 0): its cost follows the batch, not the table.
    SQLite's planner probes the key index by itself.
    """
    on = "r.meter_id = g.meter_id AND r.observed_at = g.observed_at"
    if connection.vendor == "postgresql" and staged <= PROBE_UP_TO:
        return f"LEFT JOIN LATERAL (SELECT r.index_l FROM water_reading r WHERE {on} OFFSET 0) r ON true"
    return f"LEFT JOIN water_reading r ON {on}"


def refuse_decreasing(connection: BaseDatabaseWrapper, candidates: str, *, tolerance_l: int) -> int:
    """Add to the refused table the candidates whose index decreases (see above); returns how many.

    ``candidates`` is a table of (seq, meter_id, observed_at, index_l) with one row per key, none of
    them stored yet: ``gmina_cand`` after the classification, or the staged file itself when it holds
    no duplicate and no stored key (the fast path of ``gmina.water.store.ingest``).
    """
    with connection.cursor() as cursor:
        cursor.execute(_DECREASING.format(cand=candidates, bad=BAD, **_CONTEXT[connection.vendor]), [tolerance_l] * 3)
        return max(int(cursor.rowcount), 0)


_DECREASING = """
INSERT INTO {bad} (seq, reason, message)
WITH m AS {materialized}(
    SELECT g.meter_id, COALESCE((
        SELECT MIN(x.observed_at) FROM (
            SELECT r2.observed_at FROM water_reading r2
            WHERE r2.meter_id = g.meter_id AND r2.observed_at < g.t0
            ORDER BY r2.observed_at DESC LIMIT 2) x
    ), g.t0) AS t_start, COALESCE((
        SELECT r3.observed_at FROM water_reading r3
        WHERE r3.meter_id = g.meter_id AND r3.observed_at > g.t1
        ORDER BY r3.observed_at LIMIT 1
    ), {forever}) AS t_end
    FROM (SELECT meter_id, MIN(observed_at) AS t0, MAX(observed_at) AS t1 FROM {cand} GROUP BY meter_id) g
),
ctx AS (
    SELECT m.meter_id, r.observed_at, r.index_l, NULL AS seq
    FROM {stored_from_t_start}
    UNION ALL
    SELECT meter_id, observed_at, index_l, seq FROM {cand}
),
w AS (
    SELECT seq, meter_id, index_l,
           LAG(index_l, 1) OVER (PARTITION BY meter_id ORDER BY observed_at) AS p1,
           LAG(index_l, 2) OVER (PARTITION BY meter_id ORDER BY observed_at) AS p2,
           LEAD(index_l, 1) OVER (PARTITION BY meter_id ORDER BY observed_at) AS n1
    FROM ctx
)
SELECT w.seq, 'decreasing_index',
       'index ' || w.index_l || ' L is below the previous readings (' || w.p1 || ' L'
       || COALESCE(', ' || w.p2 || ' L', '') || ')'
FROM w JOIN water_meter mt ON mt.id = w.meter_id
WHERE w.seq IS NOT NULL
  AND w.index_l < w.p1 - %s
  AND CASE WHEN w.n1 IS NOT NULL THEN w.n1 >= w.p1 - %s ELSE (w.p2 IS NULL OR w.index_l < w.p2 - %s) END
  AND NOT (mt.register_capacity_l IS NOT NULL
           AND w.p1 > mt.register_capacity_l * 0.9 AND w.index_l < mt.register_capacity_l * 0.1)
"""

# The stored readings around the candidates, read per meter through the key index: from the second
# before a meter's first candidate to the first after its last (the neighbours the rule looks at),
# not every later reading (a backfill under a year of stored data would read the whole year). PostgreSQL's
# planner knows nothing of the temporary tables and would rather scan all of water_reading (and
# compute t_start per stored row): so m is computed once and each meter's range is a separate
# index scan (LATERAL, kept from being flattened by OFFSET 0). That keeps the cost of a small
# batch independent of how many readings are stored. SQLite's planner does this by itself.
_CONTEXT = {
    "postgresql": {
        "materialized": "MATERIALIZED ",
        "stored_from_t_start": "m CROSS JOIN LATERAL (SELECT r.observed_at, r.index_l FROM water_reading r"
        " WHERE r.meter_id = m.meter_id AND r.observed_at >= m.t_start"
        " AND r.observed_at <= m.t_end OFFSET 0) r",
        "forever": "timestamptz 'infinity'",
    },
    "sqlite": {
        "materialized": "",
        "stored_from_t_start": "water_reading r JOIN m ON r.meter_id = m.meter_id AND r.observed_at >= m.t_start"
        " AND r.observed_at <= m.t_end",
        "forever": "'9999-12-31 23:59:59.999999'",  # Django's SQLite text of a datetime sorts as time
    },
}
