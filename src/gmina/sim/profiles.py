"""Documented parameters of the consumer model: end uses, diurnal timing, week, season, households.

The residential end-use parameters follow the SIMDEUM model of Blokker, Vreeburg & van Dijk, "Simulating
residential water demand with a stochastic end-use model", J. Water Resour. Plann. Manage. 136(1), 2010,
19–26 (frequencies, durations and flow intensities per end use), adapted to Polish totals: about 95–105
litres per person per day (GUS, Gospodarka komunalna 2022: 33–36 m³ per person per year in households)
and 2.5 persons per household (NSP 2021). Diurnal shapes are the usual double-peaked residential pattern
(morning peak 6–8 h on workdays, 8–11 h at weekends; evening peak 18–22 h; night minimum 2–4 h), as in
Blokker (2010) Fig. 4 and the Polish design literature (e.g. PN-EN 806-3 background data).

Everything here is a plain constant so that the model is reviewable in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gmina.sim.calendar import SATURDAY, SUNDAY, WEEKDAY


@dataclass(frozen=True)
class EndUse:
    """One residential end use as a Poisson rectangular pulse: count, duration and flow of each use."""

    name: str
    per_person_day: float  # mean uses per person per day (Poisson rate)
    duration_s: float  # median pulse duration, seconds (log-normal)
    duration_sigma: float  # log-normal sigma of the duration
    flow_lpm: float  # median flow intensity while running, L/min (log-normal, sigma 0.2)
    profile: str  # diurnal profile name, see DIURNAL


END_USES: tuple[EndUse, ...] = (
    # Blokker 2010 Table 2: toilet 6.0 uses/p/d, 6–9 L cistern at 0.1 L/s → a 60–90 s fill at ~6 L/min
    EndUse("toilet", 4.6, 65.0, 0.15, 5.0, "indoor"),
    # bathroom tap 4.1/p/d, 40 s at 0.083 L/s
    EndUse("washbasin", 3.6, 35.0, 0.8, 4.8, "indoor"),
    # kitchen tap 3.5/p/d, 45 s at 0.1 L/s (drinking, cooking, dishes by hand)
    EndUse("kitchen_tap", 3.0, 35.0, 0.9, 5.5, "indoor"),
    # shower 0.7/p/d, 8.5 min at 0.142 L/s (Polish showers shorter: 6.5 min at 7.5 L/min)
    EndUse("shower", 0.5, 390.0, 0.45, 7.5, "shower"),
    # bath 0.04/p/d, ~110 L
    EndUse("bath", 0.04, 540.0, 0.2, 12.0, "shower"),
    # washing machine 0.25/p/d, ~45 L per wash (the fills lumped into one pulse)
    EndUse("washing_machine", 0.25, 330.0, 0.25, 8.0, "laundry"),
    # dishwasher ~0.12/p/d, ~12 L per cycle
    EndUse("dishwasher", 0.12, 120.0, 0.2, 6.0, "laundry"),
)

OCCUPANTS = np.array([1, 2, 3, 4, 5, 6], dtype=np.int64)
OCCUPANT_P = np.array([0.24, 0.29, 0.20, 0.17, 0.07, 0.03])
"""Persons per household (GUS NSP 2021 shares; mean 2.6)."""

USAGE_SIGMA = 0.3
"""Household-to-household variation: every household's rates are scaled by LogNormal(0, 0.3)."""

COMMERCIAL_DAILY_L = (1500.0, 0.8, 200.0, 15000.0)
"""Commercial service point volume on an open day: median 1.5 m³/d, log-sigma 0.8, clipped to 0.2–15 m³/d
(shops, offices, small services and workshops in a gmina)."""
COMMERCIAL_USE_L = (12.0, 0.6, 9.0)
"""Commercial draws: median 12 L per use, log-sigma 0.6, flowing at 9 L/min."""
COMMERCIAL_DAY_FACTOR = {WEEKDAY: 1.0, SATURDAY: 0.45, SUNDAY: 0.05}

WEEK_FACTOR = {WEEKDAY: 1.0, SATURDAY: 1.12, SUNDAY: 1.08}
"""Households use more at weekends and holidays (more time at home)."""

SEASON_AMPLITUDE = 0.07
SEASON_PEAK_DOY = 196
"""Indoor use is ~7 % above the annual mean in mid-July and as much below in mid-January."""

GARDEN_SHARE = 0.3
GARDEN_SEASON = ((5, 1), (9, 15))
"""30 % of households water a garden from 1 May to 15 September, on dry days only."""
GARDEN_PER_WEEK = 3.0
GARDEN_DURATION_MIN = (20.0, 60.0)
GARDEN_FLOW_LPM = (10.0, 18.0)
DRY_DAY_P = 0.6

_HOURLY = {
    # relative use per local hour 0..23
    ("indoor", WEEKDAY): [2, 1, 0.6, 0.5, 0.8, 3, 8, 10, 7, 5, 4, 4, 4.5, 4, 3.5, 4, 5, 6.5, 7.5, 7.5, 7, 6, 4.5, 3],
    ("indoor", SATURDAY): [3, 1.5, 0.8, 0.5, 0.5, 1, 2.5, 5, 8, 9, 8, 7, 6.5, 5.5, 4.5, 4.5, 5, 6, 7, 7.5, 7, 6, 5, 4],
    ("indoor", SUNDAY): [3, 1.5, 0.8, 0.5, 0.5, 1, 2, 4, 7, 9, 8.5, 7.5, 7, 5.5, 4.5, 4.5, 5, 6, 7, 7.5, 7, 6, 4.5, 3],
    ("shower", WEEKDAY): [1, 0.3, 0.1, 0.1, 0.3, 3, 10, 9, 4, 2, 1.5, 1, 1, 1, 1, 1.5, 2, 3, 4, 6, 8, 8, 5, 2.5],
    ("shower", SATURDAY): [1.5, 0.5, 0.2, 0.1, 0.1, 0.5, 2, 4, 7, 8, 7, 4, 2, 1.5, 1.5, 1.5, 2, 3, 4, 6, 8, 8, 5, 3],
    ("shower", SUNDAY): [1.5, 0.5, 0.2, 0.1, 0.1, 0.5, 1.5, 3.5, 7, 8, 7, 4, 2, 1.5, 1.5, 1.5, 2, 3, 4, 6, 8, 7.5, 5, 2],  # noqa: E501
    ("laundry", WEEKDAY): [0.3, 0.1, 0.1, 0.1, 0.1, 0.3, 1, 3, 4, 5, 5, 4.5, 4, 4, 4, 4.5, 5, 6, 7, 7, 6, 4, 2, 1],
    ("laundry", SATURDAY): [0.3, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 2, 5, 7, 7.5, 7, 6, 5, 4.5, 4.5, 4.5, 5, 5, 4.5, 3.5, 2.5, 1.5, 0.8],  # noqa: E501
    ("laundry", SUNDAY): [0.3, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 6, 7, 7, 6, 5, 4.5, 4.5, 4.5, 5, 5, 4.5, 3.5, 2.5, 1.5, 0.8],  # noqa: E501
    ("commercial", WEEKDAY): [0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 3, 7, 9, 9, 9, 9, 9.5, 9, 8.5, 8, 7, 5, 3, 1.5, 1, 0.6, 0.4, 0.3],  # noqa: E501
    ("commercial", SATURDAY): [0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1.5, 5, 8, 9, 9, 8.5, 7, 4, 2, 1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3],  # noqa: E501
    ("commercial", SUNDAY): [1] * 24,
    ("garden", WEEKDAY): [0, 0, 0, 0, 0.5, 2, 3, 1, 0.2, 0, 0, 0, 0, 0, 0, 0, 0.3, 1, 3, 6, 7, 5, 1.5, 0.2],
}  # fmt: skip
_HOURLY[("garden", SATURDAY)] = _HOURLY[("garden", WEEKDAY)]
_HOURLY[("garden", SUNDAY)] = _HOURLY[("garden", WEEKDAY)]

PROFILE_NAMES = ("indoor", "shower", "laundry", "commercial", "garden")


def minute_cdf(profile: str) -> NDArray[np.float64]:
    """Cumulative distribution of a use's start minute over the local day, shape (3 day types, 1440).

    Hourly weights are interpolated linearly to minutes (centred on the half hour, circular).
    """
    out = np.empty((3, 1440))
    centres = np.arange(24) * 60 + 30.0
    minutes = np.arange(1440) + 0.5
    for day_type in (WEEKDAY, SATURDAY, SUNDAY):
        hourly = np.asarray(_HOURLY[(profile, day_type)], dtype=np.float64)
        ext_x = np.concatenate([centres - 1440, centres, centres + 1440])
        ext_y = np.concatenate([hourly, hourly, hourly])
        weight = np.interp(minutes, ext_x, ext_y)
        cdf = np.cumsum(weight)
        out[day_type] = cdf / cdf[-1]
    return out


def season_factor(day_of_year: NDArray[np.int64]) -> NDArray[np.float64]:
    """Seasonal multiplier of indoor use per day of year (mean 1)."""
    phase = 2.0 * np.pi * (day_of_year.astype(np.float64) - SEASON_PEAK_DOY) / 365.25
    return np.asarray(1.0 + SEASON_AMPLITUDE * np.cos(phase), dtype=np.float64)


def litres_per_person_day() -> float:
    """Mean litres per person per day of the end-use model, household variation included (≈ 100 L)."""
    per_use = (
        u.per_person_day * u.duration_s / 60.0 * u.flow_lpm * np.exp(u.duration_sigma**2 / 2 + 0.02) for u in END_USES
    )
    return float(sum(per_use) * np.exp(USAGE_SIGMA**2 / 2))
