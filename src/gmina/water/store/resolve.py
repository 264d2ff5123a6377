"""Resolve how a source names a meter (serial or device id) to the member's meter ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from django.db.models import F
from django.db.models.functions import Coalesce

from gmina.water.models import DeviceAssignment, Meter, ZoneBoundaryMeter


@dataclass(frozen=True)
class _Interval:
    meter_id: int
    valid_from: datetime
    valid_to: datetime | None


class MeterResolver:
    """The member's meters, loaded once per import and applied to whole Arrow columns."""

    def __init__(self, member_id: int) -> None:
        self._member_id = member_id
        serials = Meter.all_tenants.filter(member_id=member_id).values_list("serial", "id")
        self._serial_keys = pa.array([s for s, _ in serials], pa.string())
        self._serial_ids = pa.array([i for _, i in serials], pa.int64())
        single: dict[str, int] = {}
        self._multi: dict[str, list[_Interval]] = {}
        assignments = DeviceAssignment.all_tenants.filter(member_id=member_id).order_by("device_key", "valid_from")
        grouped: dict[str, list[_Interval]] = {}
        for key, meter_id, valid_from, valid_to in assignments.values_list(
            "device_key", "meter_id", "valid_from", "valid_to"
        ):
            grouped.setdefault(key, []).append(_Interval(meter_id, valid_from, valid_to))
        for key, intervals in grouped.items():
            if len(intervals) == 1 and intervals[0].valid_to is None:
                single[key] = intervals[0].meter_id
            else:
                self._multi[key] = intervals
        self._device_keys = pa.array(list(single), pa.string())
        self._device_ids = pa.array(list(single.values()), pa.int64())
        self._device_from = pa.array([grouped[key][0].valid_from for key in single], pa.timestamp("us", tz="UTC"))
        self._multi_keys = pa.array(list(self._multi), pa.string())

    def resolve(self, batch: pa.RecordBatch) -> pa.Array:
        """Meter id per row (int64, null where the member has no such meter at that time)."""
        refs = batch.column("meter_ref")
        times = batch.column("observed_at")
        is_serial = pc.equal(batch.column("ref_kind"), "serial")
        by_serial = pc.take(self._serial_ids, pc.index_in(refs, value_set=self._serial_keys))
        device_pos = pc.index_in(refs, value_set=self._device_keys)
        by_device = pc.take(self._device_ids, device_pos)
        before_assignment = pc.less(times, pc.take(self._device_from, device_pos))
        by_device = pc.if_else(pc.fill_null(before_assignment, False), pa.scalar(None, pa.int64()), by_device)
        ids = pc.if_else(is_serial, by_serial, by_device)
        if len(self._multi_keys) == 0:
            return ids
        # Devices moved between meters: pick the assignment valid at each reading's time.
        moved = pc.and_(pc.invert(is_serial), pc.is_in(refs, value_set=self._multi_keys))
        rows = pc.indices_nonzero(moved).to_pylist()
        if not rows:
            return ids
        values = ids.to_pylist()
        for row in rows:
            ref, at = refs[row].as_py(), times[row].as_py()
            values[row] = next(
                (
                    iv.meter_id
                    for iv in self._multi[ref]
                    if iv.valid_from <= at and (iv.valid_to is None or at < iv.valid_to)
                ),
                None,
            )
        return pa.array(values, pa.int64())

    def zones(self, meter_ids: set[int]) -> list[int]:
        """The zones these meters measure: a customer meter's zone, and every zone a boundary meter bounds."""
        if not meter_ids:
            return []
        found: set[int] = set()
        meters = Meter.all_tenants.filter(member_id=self._member_id).annotate(
            zone_of=Coalesce(F("zone_id"), F("service_point__zone_id"))
        )
        found.update(z for i, z in meters.values_list("id", "zone_of") if z is not None and i in meter_ids)
        boundary = ZoneBoundaryMeter.all_tenants.filter(member_id=self._member_id)
        found.update(z for m, z in boundary.values_list("meter_id", "zone_id") if m in meter_ids)
        return sorted(found)
