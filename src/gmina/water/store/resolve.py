"""Resolve how a source names a meter (serial or device id) to the member's meter ids."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from gmina.water.models import DeviceAssignment, Meter, MeterDirectoryStamp, ServicePoint, ZoneBoundaryMeter


@dataclass(frozen=True)
class _Interval:
    meter_id: int
    valid_from: datetime
    valid_to: datetime | None


class _Directory:
    """What one member's meter lookups have found so far, under one stamp (see ``MeterResolver``)."""

    def __init__(self, stamp: int | None) -> None:
        self.stamp = stamp
        self.lock = threading.Lock()  # a gunicorn worker's threads share it
        self.serials: dict[str, int] = {}
        self.single: dict[str, tuple[int, datetime]] = {}  # one open assignment: meter, valid from
        self.multi: dict[str, list[_Interval]] = {}  # devices moved between meters
        self.looked_up: dict[str, set[str]] = {"serial": set(), "device": set()}
        self.zones_of: dict[int, set[int]] = {}  # zones of the meters found by serial, read with them
        self.arrays: tuple[pa.Array, ...] | None = None

    def size(self) -> int:
        return len(self.looked_up["serial"]) + len(self.looked_up["device"])


# Per process: each member's directory, kept while the database's stamp is the one it was read under.
_DIRECTORIES: dict[tuple[str, int], _Directory] = {}
_DIRECTORIES_LOCK = threading.Lock()
KEEP_UP_TO = 200_000  # references per member kept between imports; a larger directory serves one import


def _current_stamp() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {_STAMP} WHERE id = 1")
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _directory(member_id: int) -> _Directory:
    """The member's directory of this process if the stamp still matches, else a new one.

    Read under a stamp, a lookup may also see changes committed after it; those changed the stamp,
    so the next import starts a new directory. Without a stamp row (a test runner's flush emptied
    the table) nothing is kept: each import looks up afresh.
    """
    stamp = _current_stamp()
    if stamp is None:
        return _Directory(None)
    key = (f"{connection.alias}:{connection.settings_dict['NAME']}", member_id)
    with _DIRECTORIES_LOCK:
        found = _DIRECTORIES.get(key)
        if found is not None and found.stamp == stamp and found.size() <= KEEP_UP_TO:
            return found
        fresh = _DIRECTORIES[key] = _Directory(stamp)
        return fresh


class MeterResolver:
    """The member's meters, looked up for the references a source uses and applied to whole Arrow columns.

    Each serial or radio id is read from the database the first time a batch names it (by
    index, a few thousand at a time), so a small batch of a member with many meters does not load
    them all. What was found is kept in the process (``_DIRECTORIES``) for the next import while
    the database's ``MeterDirectoryStamp`` is unchanged: triggers change it with any meter, service
    point, boundary or device assignment, so a kept lookup is never older than the data. A batch of
    1000 readings from known meters then needs no lookup query at all (one read of the stamp).
    """

    _CHUNK = 2000  # references per lookup query

    def __init__(self, member_id: int) -> None:
        self._member_id = member_id
        self._dir = _directory(member_id)

    def _learn(self, refs: pa.Array, kind: str) -> None:
        d = self._dir
        seen = d.looked_up[kind]
        new = [r for r in pc.unique(refs).to_pylist() if r is not None and r not in seen]
        for i in range(0, len(new), self._CHUNK):
            chunk = new[i : i + self._CHUNK]
            if kind == "serial":
                # With each meter, the zones it measures (see ``zones``): no second lookup at the end.
                for serial, meter_id, own_zone, bounded_zone in _fetch(
                    f"SELECT m.serial, m.id, COALESCE(m.zone_id, sp.zone_id), b.zone_id"
                    f" FROM {_listed('text')} CROSS JOIN {_meter_by_serial()}"
                    f" LEFT JOIN {_SERVICE_POINT} sp ON sp.id = m.service_point_id"
                    f" LEFT JOIN {_BOUNDARY} b ON b.meter_id = m.id AND b.member_id = m.member_id",
                    chunk,
                    self._member_id,
                ):
                    d.serials[serial] = meter_id
                    zones = d.zones_of.setdefault(meter_id, set())
                    zones.update(z for z in (own_zone, bounded_zone) if z is not None)
            else:
                assignments = DeviceAssignment.all_tenants.filter(member_id=self._member_id, device_key__in=chunk)
                grouped: dict[str, list[_Interval]] = {}
                for key, meter_id, valid_from, valid_to in assignments.order_by("device_key", "valid_from").values_list(
                    "device_key", "meter_id", "valid_from", "valid_to"
                ):
                    grouped.setdefault(key, []).append(_Interval(meter_id, valid_from, valid_to))
                for key, intervals in grouped.items():
                    if len(intervals) == 1 and intervals[0].valid_to is None:
                        d.single[key] = (intervals[0].meter_id, intervals[0].valid_from)
                    else:
                        d.multi[key] = intervals
            seen.update(chunk)  # after the results: another thread never takes a pending one for unknown
            d.arrays = None

    def _lookup_arrays(self) -> tuple[pa.Array, ...]:
        d = self._dir
        if d.arrays is None:
            d.arrays = (
                pa.array(list(d.serials), pa.string()),
                pa.array(list(d.serials.values()), pa.int64()),
                pa.array(list(d.single), pa.string()),
                pa.array([m for m, _ in d.single.values()], pa.int64()),
                pa.array([f for _, f in d.single.values()], pa.timestamp("us", tz="UTC")),
                pa.array(list(d.multi), pa.string()),
            )
        return d.arrays

    def resolve(self, batch: pa.RecordBatch) -> pa.Array:
        """Meter id per row (int64, null where the member has no such meter at that time)."""
        refs = batch.column("meter_ref")
        times = batch.column("observed_at")
        is_serial = pc.equal(batch.column("ref_kind"), "serial")
        with self._dir.lock:
            self._learn(pc.filter(refs, is_serial), "serial")
            self._learn(pc.filter(refs, pc.invert(is_serial)), "device")
            serial_keys, serial_ids, device_keys, device_ids, device_from, multi_keys = self._lookup_arrays()
        multi = self._dir.multi  # a learned key's entry is never replaced or removed: read without the lock
        by_serial = pc.take(serial_ids, pc.index_in(refs, value_set=serial_keys))
        device_pos = pc.index_in(refs, value_set=device_keys)
        by_device = pc.take(device_ids, device_pos)
        before_assignment = pc.less(times, pc.take(device_from, device_pos))
        by_device = pc.if_else(pc.fill_null(before_assignment, False), pa.scalar(None, pa.int64()), by_device)
        ids = pc.if_else(is_serial, by_serial, by_device)
        if len(multi_keys) == 0:
            return ids
        # Devices moved between meters: pick the assignment valid at each reading's time.
        moved = pc.and_(pc.invert(is_serial), pc.is_in(refs, value_set=multi_keys))
        rows = pc.indices_nonzero(moved).to_pylist()
        if not rows:
            return ids
        values = ids.to_pylist()
        for row in rows:
            ref, at = refs[row].as_py(), times[row].as_py()
            values[row] = next(
                (iv.meter_id for iv in multi[ref] if iv.valid_from <= at and (iv.valid_to is None or at < iv.valid_to)),
                None,
            )
        return pa.array(values, pa.int64())

    def zones(self, meter_ids: set[int]) -> list[int]:
        """The zones these meters measure: a customer meter's zone, and every zone a boundary meter bounds."""
        found: set[int] = set()
        with self._dir.lock:
            known = {m: self._dir.zones_of[m] for m in meter_ids & self._dir.zones_of.keys()}
        for zones in known.values():
            found.update(zones)
        ids = sorted(meter_ids - known.keys())
        for i in range(0, len(ids), self._CHUNK):
            chunk = ids[i : i + self._CHUNK]
            found.update(
                zone
                for (zone,) in _fetch(
                    f"SELECT COALESCE(m.zone_id, sp.zone_id) FROM {_listed('bigint')} CROSS JOIN {_METER} m"
                    f" LEFT JOIN {_SERVICE_POINT} sp ON sp.id = m.service_point_id"
                    f" WHERE m.id = k.value AND m.member_id = %s",
                    chunk,
                    self._member_id,
                )
                if zone is not None
            )
            found.update(
                zone
                for (zone,) in _fetch(
                    f"SELECT b.zone_id FROM {_listed('bigint')} CROSS JOIN {_BOUNDARY} b"
                    f" WHERE b.meter_id = k.value AND b.member_id = %s",
                    chunk,
                    self._member_id,
                )
            )
        return sorted(found)


_METER = Meter._meta.db_table
_SERVICE_POINT = ServicePoint._meta.db_table
_BOUNDARY = ZoneBoundaryMeter._meta.db_table
_STAMP = MeterDirectoryStamp._meta.db_table


def _listed(sql_type: str) -> str:
    """A FROM item ``k`` with one column ``value``: the values of a list passed as one parameter.

    One parameter however long the list, joined through the index of the other table: an ORM
    ``__in`` costs a few ms per thousand values, most of a small batch's lookup time. Written
    ``k CROSS JOIN table``, which makes SQLite loop over the list and probe the table's index. The
    list goes as one JSON text (``json.dumps`` is fast; psycopg would quote a Python list as an
    array literal element by element, in Python).
    """
    if connection.vendor == "postgresql":
        return f"(SELECT value::{sql_type} AS value FROM json_array_elements_text(%s::json)) AS k"
    return "json_each(%s) AS k"


def _meter_by_serial() -> str:
    """The FROM item ``m``: the member's meter (parameter) with the serial ``k.value``, if any.

    On PostgreSQL one probe of the (member, serial) key per listed serial, whatever the planner
    believes about the meter table (without fresh statistics it hashes all of the member's meters,
    several ms for a thousand-reading batch of a member with many meters).
    """
    if connection.vendor == "postgresql":
        return f"LATERAL (SELECT * FROM {_METER} m0 WHERE m0.member_id = %s AND m0.serial = k.value OFFSET 0) m"
    return f"{_METER} m ON m.member_id = %s AND m.serial = k.value"


def _fetch(sql: str, values: list[Any], member_id: int) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(values), member_id])
        return list(cursor.fetchall())
