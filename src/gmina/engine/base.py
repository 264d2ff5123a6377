"""The detector contract: one small interface, declared parameters, one output schema, one registry.

Every detector (river's habit) is a class with a ``name``, the ``alert_classes`` it may emit, a frozen ``Params``
dataclass whose every field is declared with :func:`param` (default, unit, doc), and one method::

    detect(data: EngineInput, *, params=None, seed=0) -> pl.DataFrame   # ALERT_CANDIDATES

``detect`` never mutates its input; randomness, if any, comes only from ``numpy.random.default_rng(seed)``.
Detectors register themselves with :func:`register`; :func:`run_detectors` runs them all.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast, runtime_checkable

import numpy as np
import polars as pl

from gmina.engine.frames import BOUNDARY, EVENTS, METERS, READINGS, UTC_US, Column, FrameSchema, empty, validate
from gmina.engine.grid import HourlyGrid, build_grid, to_datetime

if TYPE_CHECKING:
    from gmina.engine.zone import ZoneBalance

__all__ = [
    "ALERT_CANDIDATES",
    "ALERT_FAMILY",
    "AlertClass",
    "BaseParams",
    "Candidate",
    "Detector",
    "DetectorBase",
    "EngineInput",
    "LocationKind",
    "candidates_frame",
    "describe_params",
    "registered_detectors",
    "evidence_json",
    "param",
    "register",
    "run_detectors",
]


class AlertClass(StrEnum):
    STUCK = "stuck"
    REVERSE_FLOW = "reverse_flow"
    ROLLBACK = "rollback"
    SPIKE = "spike"
    COMM_LOSS = "comm_loss"
    UNDER_REGISTRATION = "under_registration"
    CUSTOMER_LEAK = "customer_leak"
    CUSTOMER_BURST = "customer_burst"
    ABNORMAL_USE = "abnormal_use"
    NETWORK_LEAK = "network_leak"
    NETWORK_BURST = "network_burst"
    ILLEGAL_CONNECTION = "illegal_connection"
    METER_BYPASS = "meter_bypass"


ALERT_FAMILY: Mapping[AlertClass, str] = {
    **dict.fromkeys(list(AlertClass)[:9], "meter_failure"),
    AlertClass.NETWORK_LEAK: "network",
    AlertClass.NETWORK_BURST: "network",
    AlertClass.ILLEGAL_CONNECTION: "unauthorized",
    AlertClass.METER_BYPASS: "unauthorized",
}
"""The product family of each class (meter_failure | network | unauthorized)."""


class LocationKind(StrEnum):
    METER = "meter"
    ZONE = "zone"
    SERVICE_POINT = "service_point"


ALERT_CANDIDATES = FrameSchema(
    "alert_candidates",
    {
        "detector": Column(pl.String(), "", "detector name"),
        "alert_class": Column(pl.String(), "", "an AlertClass value"),
        "location_kind": Column(pl.String(), "", "meter | zone | service_point"),
        "location_id": Column(pl.Int64(), "", "id of the meter, zone or service point"),
        "start": Column(UTC_US, "UTC", "estimated onset"),
        "end": Column(UTC_US, "UTC", "end, null while ongoing", True),
        "confidence": Column(pl.Float64(), "", "in [0, 1]"),
        "volume_m3": Column(pl.Float64(), "m³", "estimated lost or unbilled volume so far"),
        "cost_pln": Column(pl.Float64(), "PLN", "volume_m3 × price"),
        "evidence": Column(pl.String(), "", "JSON object: the numbers and short series that justify it"),
    },
)
"""The one output schema of every detector and of fusion's input."""


def param(default: Any, unit: str, doc: str) -> Any:
    """Declare a detector parameter: its default, unit (``""`` if none) and meaning."""
    return field(default=default, metadata={"unit": unit, "doc": doc})


@dataclass(frozen=True)
class BaseParams:
    """Parameters every detector has."""

    price_pln_per_m3: float = param(12.0, "PLN/m³", "price of a cubic metre lost or unbilled (water + sewage)")


def describe_params(params_type: type[BaseParams]) -> list[tuple[str, Any, str, str]]:
    """``(name, default, unit, doc)`` of every parameter.

    >>> describe_params(BaseParams)
    [('price_pln_per_m3', 12.0, 'PLN/m³', 'price of a cubic metre lost or unbilled (water + sewage)')]
    """
    out = []
    for f in fields(params_type):
        default = f.default if f.default is not MISSING else None
        out.append((f.name, default, str(f.metadata.get("unit", "?")), str(f.metadata.get("doc", ""))))
    return out


@dataclass(frozen=True, eq=False)
class EngineInput:
    """Everything a detector sees: the four frames (validated copies) and the analysis instant ``as_of`` (UTC).

    Derived views (the hourly grid, the zone balance) are computed once and shared by all detectors.
    """

    readings: pl.DataFrame
    meters: pl.DataFrame
    as_of: datetime
    boundary: pl.DataFrame = field(default_factory=lambda: empty(BOUNDARY))
    events: pl.DataFrame = field(default_factory=lambda: empty(EVENTS))
    start: datetime | None = None

    def __post_init__(self) -> None:
        for name, schema in (("readings", READINGS), ("meters", METERS), ("boundary", BOUNDARY), ("events", EVENTS)):
            object.__setattr__(self, name, validate(getattr(self, name), schema))
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware (UTC)")

    @cached_property
    def grid(self) -> HourlyGrid:
        return build_grid(self.readings, self.meters, self.as_of, self.start)

    @cached_property
    def customer_rows(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """``(n_meters,)`` grid rows that are customer meters."""
        customers = self.meters.filter(pl.col("kind") == "customer")["meter_id"].to_numpy()
        return np.isin(self.grid.meter_ids, customers)

    @cached_property
    def zone_balance(self) -> ZoneBalance:
        from gmina.engine.zone import zone_balance

        return zone_balance(self)

    def meter_attr(self, column: str, default: float) -> np.ndarray[Any, np.dtype[np.float64]]:
        """``(n_meters,)`` a numeric meter column aligned to grid rows, nulls replaced by ``default``."""
        m = self.meters.group_by("meter_id").agg(pl.col(column).first()).sort("meter_id")
        return m[column].cast(pl.Float64).fill_null(default).fill_nan(default).to_numpy()


@dataclass(frozen=True)
class Candidate:
    """One alert candidate before it becomes a row (times as UTC microseconds, volume in litres)."""

    alert_class: AlertClass
    location_kind: LocationKind
    location_id: int
    start_us: int
    end_us: int | None
    confidence: float
    volume_l: float
    evidence: Mapping[str, Any]


def evidence_json(evidence: Mapping[str, Any]) -> str:
    """Evidence as a JSON object: numpy values made plain, floats rounded to 3 places, NaN/inf as null.

    >>> evidence_json({"rate_lph": np.float64(12.34567), "series": np.array([1.0, np.nan])})
    '{"rate_lph": 12.346, "series": [1.0, null]}'
    """

    def plain(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return [plain(x) for x in v.tolist()]
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float):
            return round(v, 3) if math.isfinite(v) else None
        if isinstance(v, datetime):
            return v.isoformat()
        return v

    return json.dumps(plain(evidence), allow_nan=False, ensure_ascii=False)


def candidates_frame(detector: str, rows: Iterable[Candidate], price_pln_per_m3: float) -> pl.DataFrame:
    """Rows of ALERT_CANDIDATES, sorted by location, start and class."""
    data = [
        {
            "detector": detector,
            "alert_class": str(c.alert_class),
            "location_kind": str(c.location_kind),
            "location_id": int(c.location_id),
            "start": to_datetime(int(c.start_us)),
            "end": None if c.end_us is None else to_datetime(int(c.end_us)),
            "confidence": float(min(1.0, max(0.0, c.confidence))),
            "volume_m3": max(0.0, float(c.volume_l)) / 1000.0,
            "cost_pln": max(0.0, float(c.volume_l)) / 1000.0 * price_pln_per_m3,
            "evidence": evidence_json(c.evidence),
        }
        for c in rows
    ]
    frame = pl.DataFrame(data, schema=ALERT_CANDIDATES.dtypes) if data else empty(ALERT_CANDIDATES)
    return frame.sort(["location_kind", "location_id", "start", "alert_class"])


@runtime_checkable
class Detector(Protocol):
    """What the registry holds and the conformance suite checks."""

    name: ClassVar[str]
    alert_classes: ClassVar[frozenset[AlertClass]]
    params_type: ClassVar[type[BaseParams]]

    def detect(self, data: EngineInput, *, params: Any = None, seed: int = 0) -> pl.DataFrame: ...


P = TypeVar("P", bound=BaseParams)


class DetectorBase(ABC, Generic[P]):
    """Resolves parameters, seeds the generator and turns candidates into the output frame."""

    name: ClassVar[str]
    alert_classes: ClassVar[frozenset[AlertClass]]
    params_type: ClassVar[type[BaseParams]]

    def detect(self, data: EngineInput, *, params: P | None = None, seed: int = 0) -> pl.DataFrame:
        p = params if params is not None else cast(P, self.params_type())
        if not isinstance(p, self.params_type):
            raise TypeError(f"{self.name}: params must be {self.params_type.__name__}, got {type(p).__name__}")
        rows = self.run(data, p, np.random.default_rng(seed)) if data.grid.n_hours else []
        return candidates_frame(self.name, rows, p.price_pln_per_m3)

    @abstractmethod
    def run(self, data: EngineInput, params: P, rng: np.random.Generator) -> Sequence[Candidate]:
        """The detector's logic: candidates from the shared views of ``data``."""


_REGISTRY: dict[str, Detector] = {}

D = TypeVar("D", bound=type[Any])


def register(cls: D) -> D:
    """Class decorator: instantiate the detector and add it to the registry under its ``name``."""
    inst = cls()
    if not isinstance(inst, Detector):
        raise TypeError(f"{cls.__name__} does not implement the Detector protocol")
    if inst.name in _REGISTRY:
        raise ValueError(f"detector {inst.name!r} registered twice")
    _REGISTRY[inst.name] = inst
    return cls


def registered_detectors() -> list[Detector]:
    """All registered detectors, in registration order (importing ``gmina.engine.detectors`` registers them)."""
    import gmina.engine.detectors  # noqa: F401  (registration side effect)

    return list(_REGISTRY.values())


def run_detectors(
    data: EngineInput, *, params: Mapping[str, BaseParams] | None = None, seed: int = 0, only: Sequence[str] = ()
) -> pl.DataFrame:
    """Run every registered detector (or those named in ``only``) and concatenate their candidates."""
    params = params or {}
    frames = [
        d.detect(data, params=params.get(d.name), seed=seed)
        for d in registered_detectors()
        if not only or d.name in only
    ]
    return pl.concat(frames) if frames else empty(ALERT_CANDIDATES)
