"""The detector protocol and trivial reference detectors (they prove the harness until [P4] lands).

A detector sees only what the product sees: customer readings (the ``readings`` table of
:mod:`gmina.sim.results`), inlet meter readings and the network metadata (zones, inlet signs, and
``meters``: meter → zone). It never sees labels or truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gmina.sim.events import EventClass


@dataclass(frozen=True)
class AlertCandidate:
    """One alert: class, where (meter or zone), when it was raised, and ranked suspects for theft."""

    event_class: EventClass
    zone: str
    start: datetime  # when the detector raised it (UTC)
    meter: str | None = None
    candidates: tuple[str, ...] = field(default=())  # ranked meters (top-3 localisation)
    confidence: float = 1.0


class Detector(Protocol):
    name: str

    def detect(self, readings: pa.Table, inlet: pa.Table, meta: dict[str, Any]) -> list[AlertCandidate]: ...


FLAG_CLASS = {
    "leak": EventClass.CUSTOMER_LEAK,
    "burst": EventClass.CUSTOMER_BURST,
    "backflow": EventClass.REVERSE_INSTALLATION,
    "tamper_magnet": EventClass.METER_BYPASS,
    "sensor_error": EventClass.METER_STUCK,
}


class FlagEcho:
    """Echoes device alarms: the first reading of a meter carrying a flag raises the mapped class."""

    name = "flag_echo"

    def detect(self, readings: pa.Table, inlet: pa.Table, meta: dict[str, Any]) -> list[AlertCandidate]:
        zones: dict[str, str] = meta["meters"]
        flagged = readings.filter(pc.greater(pc.list_value_length(readings.column("flags")), 0))
        seen: set[tuple[str, str]] = set()
        alerts = []
        for row in flagged.select(["meter", "observed_at", "flags"]).to_pylist():
            for flag in row["flags"]:
                cls = FLAG_CLASS.get(flag)
                if cls is None or (row["meter"], flag) in seen:
                    continue
                seen.add((row["meter"], flag))
                alerts.append(AlertCandidate(cls, zones.get(row["meter"], ""), row["observed_at"], row["meter"]))
        return alerts


class ZeroRun:
    """A meter whose index stops moving for 7 days after having moved: ``meter_stuck``."""

    name = "zero_run"
    days = 7.0

    def detect(self, readings: pa.Table, inlet: pa.Table, meta: dict[str, Any]) -> list[AlertCandidate]:
        zones: dict[str, str] = meta["meters"]
        table = readings.sort_by([("meter", "ascending"), ("observed_at", "ascending")])
        meters = table.column("meter").to_numpy(zero_copy_only=False)
        times = table.column("observed_at").cast(pa.int64()).to_numpy()
        index = table.column("index_l").to_numpy()
        alerts = []
        bounds = np.flatnonzero(meters[1:] != meters[:-1]) + 1
        for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(meters)]]), strict=True):
            t, x = times[lo:hi], index[lo:hi]
            if len(x) < 3 or x[-1] == x[0]:
                continue
            moved = np.flatnonzero(np.diff(x) != 0)
            last_move = t[moved[-1] + 1] if len(moved) else t[0]
            if (t[-1] - last_move) / 86_400e6 >= self.days:
                after = np.flatnonzero(t >= last_move + int(self.days * 86_400e6))
                raised = datetime.fromtimestamp(t[after[0]] / 1e6, UTC)
                alerts.append(AlertCandidate(EventClass.METER_STUCK, zones.get(meters[lo], ""), raised, meters[lo]))
        return alerts


class NightFlow:
    """Zone minimum night flow (01–04 UTC) rising by 15 % over the first week's median: ``network_leak``."""

    name = "night_flow"
    threshold = 0.15

    def detect(self, readings: pa.Table, inlet: pa.Table, meta: dict[str, Any]) -> list[AlertCandidate]:
        alerts = []
        flows = {m: inlet.filter(pc.equal(inlet.column("meter"), m)) for m in set(inlet.column("meter").to_pylist())}
        for zone in meta["zones"]:
            total: np.ndarray[Any, np.dtype[np.float64]] | None = None
            times = None
            for link in zone["inlets"]:
                table = flows.get(link["meter"])
                if table is None:
                    continue
                series = link["sign"] * table.column("flow_lph").to_numpy()
                total = series if total is None else total + series
                times = table.column("observed_at").cast(pa.int64()).to_numpy()
            if total is None or times is None:
                continue
            hours = (times // 3_600_000_000) % 24
            days = times // 86_400_000_000
            night = (hours >= 1) & (hours < 4)
            nightly = {int(d): float(np.mean(total[night & (days == d)])) for d in np.unique(days[night])}
            ordered = sorted(nightly)
            if len(ordered) < 10:
                continue
            base = float(np.median([nightly[d] for d in ordered[:7]]))
            for i in range(9, len(ordered)):
                recent = float(np.median([nightly[d] for d in ordered[i - 2 : i + 1]]))
                if base > 0 and recent > base * (1 + self.threshold):
                    raised = datetime.fromtimestamp(ordered[i] * 86_400 + 4 * 3600, UTC)
                    alerts.append(AlertCandidate(EventClass.NETWORK_LEAK, zone["zone"], raised))
                    break
        return alerts


REFERENCE_DETECTORS: tuple[Detector, ...] = (FlagEcho(), ZeroRun(), NightFlow())
ONE_DAY = timedelta(days=1)
