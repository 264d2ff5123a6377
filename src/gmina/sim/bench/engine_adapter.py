"""The real detection engine (:mod:`gmina.engine`) as one benchmark detector, ``engine``.

Input: what the product sees and nothing else, translated into the engine's frames:

* customer readings (after the CSV round trip) → ``READINGS`` (meter serials become integer ids; a reading of type
  ``initial``, the first of a new meter on the same serial, is a register ``restart``);
* inlet flow meter readings → ``READINGS`` with the forward register as ``index_l`` and the reverse register as
  ``backflow_l`` (a bidirectional flow meter's two totalisers);
* ``meta["meters"]`` (meter → zone) and ``meta["zones"]`` (inlets with signs) → ``METERS`` (customer meters of
  unknown size: the engine's DN15 default, Q3 = 2.5 m³/h; inlet meters ``kind="zone"`` with Q3 sized 25 % above the
  largest flow their series show, as a utility sizes the meter on a pipe) and ``BOUNDARY`` (sign +1 → ``in``,
  −1 → ``out``);
* device flags on the readings → ``EVENTS``: each run of consecutive readings of a meter carrying a code is one
  event (``first_seen`` .. ``last_seen``; ``ended_at`` = the next reading without it), state ``active``, as the
  ``water`` app's edge detection stores them.

Labels, truth series and the scenario's event plan are never read.

When an alert is raised
-----------------------
The engine's candidates carry ``start`` = the *estimated onset* (for a leak, the first hour of the run; for a theft,
the change point), which the engine can only know in hindsight. Scoring measures time to detect from the event's
start to ``AlertCandidate.start``, so the onset would flatter the engine (and an onset estimated more than an hour
early would not even match). The engine does not expose a detection time, so the adapter measures it the way the
product runs: it **replays** the scenario, running every registered detector and :func:`~gmina.engine.fuse` at
successive instants ``as_of`` (every ``step_h`` hours from ``start + first_h``; the window always starts at the
scenario start, as a 60–90-day production window would). A case with confidence ≥ ``min_confidence`` (0.5, the
``water`` app's threshold) is *raised* at the first ``as_of`` that reports it. Later runs reporting the same class at
the same location with an overlapping interval (the engine's fusion rule: 24 h slack) update the same alert; an alert no
run has reported for ``CLEAR_AFTER_H`` (24 h, the app's rule) is cleared, and a later case there is a new alert,
unless it is the same episode reported again within ``REOPEN_WITHIN_H`` (7 days; it began before the clearing),
which reopens the cleared alert, as the app does. (The
``water`` app merges on class and location alone; here a separate episode at the same place is a separate alert, as
fusion makes it a separate case.) Every case raised along the way counts, including ones a later run drops: an operator
saw them. The reported time is when the evidence up to that instant sufficed. To make it exact without running the whole
engine every hour, a run that raises new alerts is followed by runs of just the detectors behind them at every
``refine_h`` hours (default 1 h) since the previous run, and each new alert is dated by the earliest of those that
reports it. A time to detect is therefore exact to ``refine_h`` for hourly data, never under-stated (every run sees only
the readings up to its instant); the first run is at ``start + first_h``.

Class mapping (engine ``AlertClass`` → simulator ``EventClass``)
----------------------------------------------------------------
=====================  =======================  ==============================================
engine                 benchmark                location
=====================  =======================  ==============================================
stuck                  meter_stuck              meter
reverse_flow           reverse_installation     meter
rollback               index_rollback           meter
spike                  index_spike              meter
comm_loss              comm_loss                meter
under_registration     under_registration       meter
customer_leak          customer_leak            meter
customer_burst         customer_burst           meter
meter_bypass           meter_bypass             meter; ranked suspects from the evidence
network_leak           network_leak             zone
network_burst          network_burst            zone
illegal_connection     illegal_connection       zone; ranked suspects from the evidence
abnormal_use           (not scored)             no benchmark class; no engine detector emits it
=====================  =======================  ==============================================

Alerts on inlet meters (a register spike on a flow meter, say) are kept, located at that meter in the zone it
feeds: the benchmark injects nothing there, so they score as false alarms, as they would cost a crew.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa

from gmina.engine import AlertClass, EngineInput, fuse, registered_detectors, run_detectors
from gmina.engine.frames import BOUNDARY, EVENTS, METERS, UTC_US
from gmina.engine.fusion import CLEAR_AFTER_H, REOPEN_WITHIN_H
from gmina.sim.bench.detectors import AlertCandidate
from gmina.sim.events import EventClass

__all__ = ["CLASS_MAP", "EngineDetector", "EngineFrames", "RaisedCase", "replay"]

CLASS_MAP: dict[AlertClass, EventClass | None] = {
    AlertClass.STUCK: EventClass.METER_STUCK,
    AlertClass.REVERSE_FLOW: EventClass.REVERSE_INSTALLATION,
    AlertClass.ROLLBACK: EventClass.INDEX_ROLLBACK,
    AlertClass.SPIKE: EventClass.INDEX_SPIKE,
    AlertClass.COMM_LOSS: EventClass.COMM_LOSS,
    AlertClass.UNDER_REGISTRATION: EventClass.UNDER_REGISTRATION,
    AlertClass.CUSTOMER_LEAK: EventClass.CUSTOMER_LEAK,
    AlertClass.CUSTOMER_BURST: EventClass.CUSTOMER_BURST,
    AlertClass.ABNORMAL_USE: None,
    AlertClass.NETWORK_LEAK: EventClass.NETWORK_LEAK,
    AlertClass.NETWORK_BURST: EventClass.NETWORK_BURST,
    AlertClass.ILLEGAL_CONNECTION: EventClass.ILLEGAL_CONNECTION,
    AlertClass.METER_BYPASS: EventClass.METER_BYPASS,
}
"""Engine alert class → benchmark event class (``None``: not scored). See the module docstring."""

INLET_Q3_MARGIN = 1.25
"""An inlet meter's Q3 is this × the largest flow its series shows (the meter is sized for the pipe's peak)."""
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class EngineFrames:
    """The benchmark's tables as the engine's frames, with the id ↔ name maps to translate alerts back."""

    readings: pl.DataFrame
    meters: pl.DataFrame
    boundary: pl.DataFrame
    flagged: pl.DataFrame
    """One row per (flagged reading, code): ``meter_id``, ``observed_at``, ``code``, ``episode``."""
    episodes: pl.DataFrame
    """Per ``episode``: ``ended_at`` (the first later reading of the meter without the code; null: none)."""
    start: datetime
    meter_names: dict[int, str]
    zone_names: dict[int, str]
    meter_zone: dict[str, str]

    @classmethod
    def build(cls, readings: pa.Table, inlet: pa.Table, meta: dict[str, Any]) -> EngineFrames:
        customer_zone: dict[str, str] = dict(meta["meters"])
        zones = [str(z["zone"]) for z in meta["zones"]]
        zone_ids = {name: i + 1 for i, name in enumerate(zones)}
        customers = sorted(customer_zone)
        inlet_zone: dict[str, str] = {}
        for z in meta["zones"]:
            for link in z["inlets"]:
                if link["sign"] > 0 or link["meter"] not in inlet_zone:
                    inlet_zone[str(link["meter"])] = str(z["zone"])
        inlets = sorted(inlet_zone)
        ids = {name: i + 1 for i, name in enumerate([*customers, *inlets])}

        flows = pl.from_arrow(inlet.select(["meter", "flow_lph"]))
        assert isinstance(flows, pl.DataFrame)
        peak = dict(flows.group_by("meter").agg(pl.col("flow_lph").abs().max()).iter_rows())
        meters = pl.DataFrame(
            {
                "meter_id": [ids[m] for m in customers] + [ids[m] for m in inlets],
                "zone_id": [zone_ids.get(customer_zone[m]) for m in customers]
                + [zone_ids[inlet_zone[m]] for m in inlets],
                "kind": ["customer"] * len(customers) + ["zone"] * len(inlets),
                "dn_mm": [None] * (len(customers) + len(inlets)),
                "q3_m3h": [None] * len(customers)
                + [max(1.0, INLET_Q3_MARGIN * float(peak.get(m) or 0.0) / 1000.0) for m in inlets],
                "register_capacity_l": [None] * (len(customers) + len(inlets)),
            },
            schema=METERS.dtypes,
        )
        boundary = pl.DataFrame(
            [
                (zone_ids[str(z["zone"])], ids[str(link["meter"])], "in" if link["sign"] > 0 else "out")
                for z in meta["zones"]
                for link in z["inlets"]
            ],
            schema=BOUNDARY.dtypes,
            orient="row",
        )

        ids_frame = pl.DataFrame({"meter": list(ids), "meter_id": list(ids.values())})
        typed = "read_type" in readings.column_names
        cust = pl.from_arrow(readings.select(["meter", "observed_at", "index_l", "flags", *(["read_type"] * typed)]))
        assert isinstance(cust, pl.DataFrame)
        cust = cust.join(ids_frame, on="meter", how="inner")
        inl = pl.from_arrow(inlet.select(["meter", "observed_at", "index_l", "reverse_l"]))
        assert isinstance(inl, pl.DataFrame)
        inl = inl.join(ids_frame, on="meter", how="inner")
        frame = pl.concat(
            [
                cust.select(
                    "meter_id",
                    pl.col("observed_at").cast(UTC_US),
                    "index_l",
                    pl.lit(None, pl.Float64).alias("flow_lph"),
                    pl.lit(None, pl.Int64).alias("backflow_l"),
                    ((pl.col("read_type") == "initial") if typed else pl.lit(False)).alias("restart"),
                ),
                inl.select(
                    "meter_id",
                    pl.col("observed_at").cast(UTC_US),
                    "index_l",
                    pl.lit(None, pl.Float64).alias("flow_lph"),
                    pl.col("reverse_l").alias("backflow_l"),
                    pl.lit(False).alias("restart"),
                ),
            ]
        ).sort("meter_id", "observed_at")  # the store's order, as the water app hands readings to the engine

        # device flags → episodes of consecutive flagged readings per (meter, code)
        seq = (
            cust.select("meter_id", pl.col("observed_at").cast(UTC_US), "flags")
            .sort("meter_id", "observed_at")
            .with_columns(pl.int_range(pl.len()).over("meter_id").alias("seq"))
        )
        flagged = (
            seq.filter(pl.col("flags").list.len() > 0)
            .explode("flags", empty_as_null=True)
            .rename({"flags": "code"})
            .sort("meter_id", "code", "seq")
            .with_columns(
                ((pl.col("seq").diff().over("meter_id", "code").fill_null(0) != 1).cum_sum()).alias("episode")
            )
        )
        after = flagged.group_by("episode").agg(pl.col("meter_id").first(), (pl.col("seq").max() + 1).alias("seq"))
        episodes = after.join(
            seq.select("meter_id", "seq", pl.col("observed_at").alias("ended_at")), on=["meter_id", "seq"], how="left"
        ).select("episode", "ended_at")
        return cls(
            readings=frame,
            meters=meters,
            boundary=boundary,
            flagged=flagged.select("meter_id", "observed_at", "code", "episode"),
            episodes=episodes,
            start=datetime.fromisoformat(str(meta["start"]).replace("Z", "+00:00")),
            meter_names={v: k for k, v in ids.items()},
            zone_names={v: k for k, v in zone_ids.items()},
            meter_zone={**inlet_zone, **customer_zone},
        )

    def events(self, as_of: datetime) -> pl.DataFrame:
        """Device events as the product knows them at ``as_of`` (an episode not yet ended is open)."""
        cut = pl.lit(as_of).cast(UTC_US)
        seen = (
            self.flagged.filter(pl.col("observed_at") <= cut)
            .group_by("episode")
            .agg(
                pl.col("meter_id").first(),
                pl.col("code").first(),
                pl.col("observed_at").min().alias("first_seen"),
                pl.col("observed_at").max().alias("last_seen"),
            )
            .join(self.episodes, on="episode", how="left")
        )
        return seen.select(
            "meter_id",
            "code",
            pl.lit("active").alias("state"),
            "first_seen",
            "last_seen",
            pl.when(pl.col("ended_at") <= cut).then(pl.col("ended_at")).otherwise(None).alias("ended_at"),
        ).cast(EVENTS.dtypes)  # type: ignore[arg-type]

    def input(self, as_of: datetime) -> EngineInput:
        """The engine's input at ``as_of``: readings up to it, the window starting at the scenario start."""
        known = self.readings.filter(pl.col("observed_at") <= pl.lit(as_of).cast(UTC_US))
        return EngineInput(known, self.meters, as_of, self.boundary, self.events(as_of), start=self.start)

    def zone_of(self, kind: str, location_id: int) -> str:
        if kind == "zone":
            return self.zone_names.get(location_id, "")
        return self.meter_zone.get(self.meter_names.get(location_id, ""), "")


@dataclass
class RaisedCase:
    """One alert as the replay raised it: its key, when it was first raised and the case as then reported."""

    alert_class: str
    location_kind: str
    location_id: int
    raised: datetime
    start: datetime
    end: datetime | None
    confidence: float
    evidence: str
    runs: list[datetime] = field(default_factory=list)


def replay(
    frames: EngineFrames,
    end: datetime,
    *,
    step_h: float = 6.0,
    first_h: float = 24.0,
    min_confidence: float = 0.5,
    seed: int = 0,
    gap_h: float = 24.0,
    refine_h: float | None = 1.0,
    clear_after_h: float = CLEAR_AFTER_H,
    reopen_within_h: float = REOPEN_WITHIN_H,
) -> list[RaisedCase]:
    """Run the engine at ``start + first_h``, then every ``step_h`` hours up to ``end``; return every case raised.

    An alert stays open while each run reports a case of its class at its location whose interval overlaps its own
    (``gap_h`` slack, fusion's rule); an alert no run has reported for ``clear_after_h`` hours is cleared, and a
    later case there is a new alert (the ``water`` app's merge) unless it is the cleared alert's episode reported
    again within ``reopen_within_h`` (it began before the clearing): that reopens the cleared alert. With
    ``refine_h``, a run that raises new alerts is followed by runs of the detectors behind them at every
    ``refine_h`` hours since the previous run, and each new alert is dated by the earliest of those that already
    reports it: the time to detect is then exact to ``refine_h``.
    """
    raised: list[RaisedCase] = []
    open_alerts: dict[tuple[str, str, int], list[RaisedCase]] = {}
    cleared: dict[tuple[str, str, int], list[tuple[RaisedCase, datetime]]] = {}  # alert, when it was cleared
    gap, reopen = timedelta(hours=gap_h), timedelta(hours=reopen_within_h)
    previous: datetime | None = None
    for as_of in instants(frames.start, end, step_h, first_h):
        cases = _cases(frames, as_of, min_confidence, seed)
        still_open: dict[tuple[str, str, int], list[RaisedCase]] = {}
        new: list[tuple[RaisedCase, str]] = []
        for row in cases.iter_rows(named=True):
            key = (str(row["alert_class"]), str(row["location_kind"]), int(row["location_id"]))
            kept = still_open.setdefault(key, [])
            known = next(
                (a for a in open_alerts.get(key, []) if a not in kept and _overlaps(a, row["start"], row["end"], gap)),
                None,
            )
            if known is None:  # the episode of an alert cleared lately, reported again: that alert reopens
                known = next(
                    (a for a, at in cleared.get(key, []) if a not in kept and row["start"] <= at
                     and as_of - at <= reopen and _overlaps(a, row["start"], row["end"], gap)),
                    None,
                )  # fmt: skip
            if known is None:
                known = RaisedCase(*key, raised=as_of, start=row["start"], end=row["end"],
                                   confidence=float(row["confidence"]), evidence=str(row["evidence"]))  # fmt: skip
                raised.append(known)
                new.append((known, str(row["detectors"])))
            known.start, known.end = min(known.start, row["start"]), row["end"]
            known.runs.append(as_of)
            kept.append(known)
        if new and refine_h and previous is not None:
            _refine(frames, new, previous, as_of, refine_h, min_confidence, seed, gap)
        for key, alerts in open_alerts.items():  # unreported alerts are held open for a while
            for alert in alerts:
                if alert in still_open.get(key, []):
                    continue
                if as_of - alert.runs[-1] < timedelta(hours=clear_after_h):
                    still_open.setdefault(key, []).append(alert)
                else:
                    cleared.setdefault(key, []).append((alert, as_of))
        open_alerts = still_open
        previous = as_of
    return raised


def _cases(
    frames: EngineFrames, as_of: datetime, min_confidence: float, seed: int, only: Sequence[str] = ()
) -> pl.DataFrame:
    cases = fuse(run_detectors(frames.input(as_of), seed=seed, only=only))
    return cases.filter(pl.col("confidence") >= min_confidence).sort("start")


def _refine(
    frames: EngineFrames,
    new: list[tuple[RaisedCase, str]],
    previous: datetime,
    as_of: datetime,
    refine_h: float,
    min_confidence: float,
    seed: int,
    gap: timedelta,
) -> None:
    """Date each newly raised alert by the earliest instant after ``previous`` at which the engine reports it."""
    pending = [case for case, _ in new]
    only = sorted({name for _, names in new for name in names.split(",")})
    t = previous + timedelta(hours=refine_h)
    while pending and t < as_of:
        cases = _cases(frames, t, min_confidence, seed, only)
        for row in cases.iter_rows(named=True):
            key = (str(row["alert_class"]), str(row["location_kind"]), int(row["location_id"]))
            hit = next(
                (
                    c
                    for c in pending
                    if (c.alert_class, c.location_kind, c.location_id) == key
                    and _overlaps(c, row["start"], row["end"], gap)
                ),
                None,
            )
            if hit is not None:
                hit.raised = t
                pending.remove(hit)
        t += timedelta(hours=refine_h)


def instants(start: datetime, end: datetime, step_h: float, first_h: float) -> list[datetime]:
    """``start + first_h``, then every ``step_h`` hours, and ``end`` itself."""
    out, t = [], start + timedelta(hours=first_h)
    while t < end:
        out.append(t)
        t += timedelta(hours=step_h)
    return [*out, end]


def _overlaps(known: RaisedCase, start: datetime, end: datetime | None, gap: timedelta) -> bool:
    """Fusion's rule across runs: the intervals overlap or are less than ``gap`` apart (open ends are infinite)."""
    return (known.end is None or start <= known.end + gap) and (end is None or known.start <= end + gap)


def suspects(evidence: str, frames: EngineFrames) -> tuple[str, ...]:
    """Ranked meters named in a fused case's evidence (the unauthorized-draw detector's ``ranking``)."""
    out: list[str] = []
    try:
        pieces = json.loads(evidence)
    except json.JSONDecodeError:
        return ()
    for piece in pieces if isinstance(pieces, list) else []:
        for entry in (piece.get("evidence") or {}).get("ranking", []) or []:
            name = frames.meter_names.get(int(entry.get("meter_id", -1)))
            if name is not None and name not in out:
                out.append(name)
    return tuple(out)


def to_candidates(cases: Sequence[RaisedCase], frames: EngineFrames) -> list[AlertCandidate]:
    """Raised cases as benchmark alerts (see the class mapping in the module docstring)."""
    out: list[AlertCandidate] = []
    for case in cases:
        cls = CLASS_MAP.get(AlertClass(case.alert_class))
        if cls is None:
            continue
        zone = frames.zone_of(case.location_kind, case.location_id)
        meter = frames.meter_names.get(case.location_id) if case.location_kind != "zone" else None
        ranked = suspects(case.evidence, frames)
        if meter is not None and ranked and ranked[0] != meter:
            ranked = (meter, *[m for m in ranked if m != meter])
        out.append(AlertCandidate(cls, zone, case.raised, meter, ranked, case.confidence))
    return out


class EngineDetector:
    """All registered engine detectors + fusion, replayed over the scenario (see the module docstring)."""

    name = "engine"

    def __init__(
        self, step_h: float = 6.0, min_confidence: float = 0.5, seed: int = 0, refine_h: float | None = 1.0
    ) -> None:
        self.step_h = step_h
        self.refine_h = refine_h
        self.min_confidence = min_confidence
        self.seed = seed

    def settings(self) -> dict[str, Any]:
        """How the engine was run (recorded with the results)."""
        return {
            "replay_step_h": self.step_h,
            "refine_h": self.refine_h,
            "clear_after_h": CLEAR_AFTER_H,
            "reopen_within_h": REOPEN_WITHIN_H,
            "min_confidence": self.min_confidence,
            "seed": self.seed,
            "raised_at": "first replay run reporting the case, refined to the first hour since the previous run",
            "detectors": [d.name for d in registered_detectors()],
        }

    def detect(self, readings: pa.Table, inlet: pa.Table, meta: dict[str, Any]) -> list[AlertCandidate]:
        frames = EngineFrames.build(readings, inlet, meta)
        end = frames.start + timedelta(days=float(meta["days"]))
        cases = replay(
            frames, end, step_h=self.step_h, min_confidence=self.min_confidence, seed=self.seed, refine_h=self.refine_h
        )
        return to_candidates(cases, frames)
