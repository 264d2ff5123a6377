"""Django-free water analytics engine: detectors and water balance on polars frames (see docs/engine.md).

Entry points: build an :class:`EngineInput` from the four frames (``frames.READINGS``, ``METERS``, ``BOUNDARY``,
``EVENTS``) and ``as_of``; :func:`run_detectors` returns ALERT_CANDIDATES; :func:`fuse` turns them into ranked CASES.
"""

from gmina.engine.base import (
    ALERT_CANDIDATES,
    ALERT_FAMILY,
    AlertClass,
    BaseParams,
    Detector,
    EngineInput,
    LocationKind,
    describe_params,
    register,
    registered_detectors,
    run_detectors,
)
from gmina.engine.frames import BOUNDARY, EVENTS, METERS, READINGS, SchemaError, validate
from gmina.engine.fusion import CASES, fuse
from gmina.engine.grid import HourlyGrid, build_grid, hourly_consumption
from gmina.engine.zone import ZoneBalance, zone_balance

__all__ = [
    "ALERT_CANDIDATES",
    "ALERT_FAMILY",
    "BOUNDARY",
    "CASES",
    "EVENTS",
    "METERS",
    "READINGS",
    "AlertClass",
    "BaseParams",
    "Detector",
    "EngineInput",
    "HourlyGrid",
    "LocationKind",
    "SchemaError",
    "ZoneBalance",
    "build_grid",
    "describe_params",
    "fuse",
    "hourly_consumption",
    "register",
    "registered_detectors",
    "run_detectors",
    "validate",
    "zone_balance",
]
