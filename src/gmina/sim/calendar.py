"""The scenario's calendar: local (Europe/Warsaw) days, their UTC offsets, day types and Polish holidays.

Consumption follows local time; everything the simulator writes is UTC. Local day ``d`` (``d = 0`` is the
local date of the scenario start) begins at UTC minute ``d * 1440 - offset_min[d]`` counted from the
scenario start, which is a UTC midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from gmina.engine.calendar import easter_sunday, polish_holidays

WARSAW = ZoneInfo("Europe/Warsaw")

WEEKDAY, SATURDAY, SUNDAY = 0, 1, 2
"""Day types: Monday–Friday, Saturday, Sunday or public holiday."""

__all__ = ["SATURDAY", "SUNDAY", "WARSAW", "WEEKDAY", "Calendar", "easter_sunday", "polish_holidays"]


@dataclass(frozen=True)
class Calendar:
    """Local days covering a UTC window of ``days`` days from ``start`` (a UTC midnight)."""

    start: datetime
    days: int
    dates: tuple[date, ...]  # local date of each local day, one more than ``days`` to cover the tail
    offset_min: NDArray[np.int64]  # UTC offset of each local day at noon, minutes (60 or 120)
    day_type: NDArray[np.int64]  # WEEKDAY / SATURDAY / SUNDAY per local day
    day_of_year: NDArray[np.int64]

    @property
    def minutes(self) -> int:
        return self.days * 1440

    def day_start_minute(self) -> NDArray[np.int64]:
        """UTC minute (from the start) at which each local day begins (may be negative for day 0)."""
        return np.arange(len(self.dates), dtype=np.int64) * 1440 - self.offset_min

    def utc(self, minute: float) -> datetime:
        return self.start + timedelta(minutes=minute)


def build_calendar(start: datetime, days: int) -> Calendar:
    if start.tzinfo is None or start.utcoffset() != timedelta(0):
        raise ValueError("the scenario start must be a UTC datetime")
    if (start.hour, start.minute, start.second, start.microsecond) != (0, 0, 0, 0):
        raise ValueError("the scenario start must be a UTC midnight")
    if days < 1:
        raise ValueError("days must be positive")
    first = start.astimezone(UTC).date()
    dates = tuple(first + timedelta(days=d) for d in range(days + 1))
    holidays: set[date] = set()
    for year in {d.year for d in dates}:
        holidays |= polish_holidays(year)
    offsets, types = [], []
    for day in dates:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=WARSAW)
        offset = noon.utcoffset()
        offsets.append(int(offset.total_seconds() // 60) if offset is not None else 60)
        types.append(SUNDAY if day in holidays or day.weekday() == 6 else SATURDAY if day.weekday() == 5 else WEEKDAY)
    return Calendar(
        start=start,
        days=days,
        dates=dates,
        offset_min=np.asarray(offsets, dtype=np.int64),
        day_type=np.asarray(types, dtype=np.int64),
        day_of_year=np.asarray([d.timetuple().tm_yday for d in dates], dtype=np.int64),
    )
