"""Cheap evidence that no staged reading can be refused as a decreasing index.

The decreasing-index rule (``classify.py``) refuses a reading only where a meter's index, in time
order over what is stored and what is staged, drops by more than the tolerance from one reading to
the next. If no such drop exists, the rule refuses nothing and its window query (a sort of the whole
file) can be skipped. ``IncreasingEvidence`` looks for that drop while the file is staged, batch by
batch, in Arrow: each batch sorted by (meter, time), each meter's readings in the file kept as one
run (first and last time and index). Anything it cannot settle cheaply (a drop, a repeated time,
runs of one meter that interleave across batches, stored readings inside or after the run) counts
as doubt, and then the exact SQL check runs as before. So the evidence can only skip the check
where the check would have found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db.backends.base.base import BaseDatabaseWrapper

from gmina.water.store.staging import SPAN, copy_rows


@dataclass(slots=True)
class _Run:
    first_at: int  # µs since the epoch
    first_index: int
    last_at: int
    last_index: int


class Segment(NamedTuple):
    """Readings of one meter that a batch adds before every reading of it seen so far (or its first).

    ``below`` is the time of the meter's earliest reading seen before this batch (µs), None for a
    meter the batch shows first: a source's own readings of the meter all lie at or after it.
    """

    meter_id: int
    first_at: int  # µs since the epoch
    first_index: int
    below: int | None


@dataclass
class IncreasingEvidence:
    tolerance_l: int
    doubt: bool = False
    runs: dict[int, _Run] = field(default_factory=dict)

    def add(self, meter_ids: pa.Array, observed_at: pa.Array, index_l: pa.Array) -> list[Segment]:
        """Take one staged batch (no nulls): sort it by meter and time and extend each meter's run.

        Returns the segments that start a meter's run or extend it backwards (see ``Segment``).
        """
        segments: list[Segment] = []
        if self.doubt or len(meter_ids) == 0:
            return segments
        table = pa.table({"m": meter_ids, "t": pc.cast(observed_at, pa.int64()), "i": index_l})
        table = table.take(pc.sort_indices(table, sort_keys=[("m", "ascending"), ("t", "ascending")]))
        m, t, i = (table.column(name).to_numpy() for name in ("m", "t", "i"))
        same = m[1:] == m[:-1]
        if np.any(same & ((t[1:] <= t[:-1]) | (i[1:] < i[:-1] - self.tolerance_l))):
            self.doubt = True  # a drop or a repeated time within the batch: let the SQL check decide
            return segments
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        ends = np.concatenate((starts[1:], [len(m)])) - 1
        tol = self.tolerance_l
        columns = (m[starts].tolist(), t[starts].tolist(), i[starts].tolist(), t[ends].tolist(), i[ends].tolist())
        if self.runs.keys().isdisjoint(columns[0]):  # every meter new (an API batch, a file's next meters)
            self.runs.update(zip(columns[0], map(_Run, *columns[1:]), strict=True))
            return list(map(Segment, *columns[:3], repeat(None)))
        for meter, first_at, first_index, last_at, last_index in zip(*columns, strict=True):
            run = self.runs.get(meter)
            if run is None:
                self.runs[meter] = _Run(first_at, first_index, last_at, last_index)
                segments.append(Segment(meter, first_at, first_index, None))
            elif first_at > run.last_at and first_index >= run.last_index - tol:
                run.last_at, run.last_index = last_at, last_index
            elif last_at < run.first_at and run.first_index >= last_index - tol:
                segments.append(Segment(meter, first_at, first_index, run.first_at))
                run.first_at, run.first_index = first_at, first_index
            else:
                self.doubt = True  # this meter's readings interleave across batches
                return segments
        return segments

    def proven(self, connection: BaseDatabaseWrapper) -> bool:
        """True if no staged reading can be decreasing, given what is stored (one index probe per meter)."""
        if self.doubt:
            return False
        if not self.runs:
            return True
        copy_rows(
            connection,
            SPAN,
            pa.table(
                {
                    "meter_id": pa.array(list(self.runs), pa.int64()),
                    "t0": pa.array([r.first_at for r in self.runs.values()], pa.int64()).cast(
                        pa.timestamp("us", tz="UTC")
                    ),
                    "index0": pa.array([r.first_index for r in self.runs.values()], pa.int64()),
                }
            ),
        )
        with connection.cursor() as cursor:
            # A stored reading at or after a run's start interleaves with it; otherwise only the last
            # stored reading before the run can make the run's first reading a drop.
            cursor.execute(
                f"SELECT COUNT(*) FROM {SPAN} s"
                f" WHERE EXISTS (SELECT 1 FROM water_reading r WHERE r.meter_id = s.meter_id AND r.observed_at >= s.t0)"
                f" OR s.index0 < (SELECT r.index_l FROM water_reading r WHERE r.meter_id = s.meter_id"
                f" AND r.observed_at < s.t0 ORDER BY r.observed_at DESC LIMIT 1) - %s",
                [self.tolerance_l],
            )
            return int(cursor.fetchone()[0]) == 0
