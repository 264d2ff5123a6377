"""Evidence fusion: one ranked case per cause from the candidates of all detectors.

Candidates of the same ``alert_class`` at the same location whose intervals overlap (or are less than ``gap_h`` apart;
an ongoing candidate extends to infinity) are one case. A case's confidence is the noisy-OR over its detectors of
each one's strongest candidate (independent witnesses: a corroborated device flag and a data detector agreeing make
it surer; one detector's repeated candidates — a device flag tripped again and again — are one witness), its volume
and cost the largest estimate, its start the earliest, its end null while any candidate is ongoing.

One cause, one case: where a more specific explanation of the same observation is raised at the same place and time
(``SUBSUMED_BY``: a burst explains an abnormal day, reverse flow a standing forward register), the less specific case
is dropped. Cases are ranked by expected cost (confidence × cost), then confidence.
"""

from __future__ import annotations

import polars as pl

from gmina.engine.base import ALERT_CANDIDATES
from gmina.engine.frames import UTC_US, Column, FrameSchema, validate

__all__ = ["CASES", "CLEAR_AFTER_H", "REOPEN_WITHIN_H", "fuse"]

CLEAR_AFTER_H = 24.0
"""Hours an open alert must go unreported before it is cleared: a case that dips below the raise level for a run or
two (a noisy night, a confidence at the edge) stays one alert instead of being cleared and raised again."""

REOPEN_WITHIN_H = 7 * 24.0
"""Hours after an alert was cleared in which the same episode reported again (a case of its class and place that
began before the clearing) reopens that alert instead of raising a new one: one problem, one alert."""

CASES = FrameSchema(
    "cases",
    {
        "rank": Column(pl.Int64(), "", "1 = most at stake"),
        "alert_class": Column(pl.String(), "", "an AlertClass value"),
        "location_kind": Column(pl.String(), "", "meter | zone | service_point"),
        "location_id": Column(pl.Int64(), "", "id of the location"),
        "start": Column(UTC_US, "UTC", "earliest onset"),
        "end": Column(UTC_US, "UTC", "end, null while ongoing", True),
        "confidence": Column(pl.Float64(), "", "noisy-OR of the candidates' confidences, in [0, 1]"),
        "volume_m3": Column(pl.Float64(), "m³", "largest estimate"),
        "cost_pln": Column(pl.Float64(), "PLN", "largest estimate"),
        "expected_cost_pln": Column(pl.Float64(), "PLN", "confidence × cost"),
        "detectors": Column(pl.String(), "", "comma-separated names of the detectors that contributed"),
        "n_candidates": Column(pl.Int64(), "", "candidates merged"),
        "evidence": Column(pl.String(), "", "JSON list of {detector, confidence, evidence}"),
    },
)

_KEY = ["alert_class", "location_kind", "location_id"]

SUBSUMED_BY: dict[str, tuple[str, ...]] = {
    "abnormal_use": ("customer_burst", "customer_leak", "spike"),
    "stuck": ("reverse_flow",),
    "rollback": ("reverse_flow",),
}
"""A raised case of a class on the right explains a case of the class on the left at the same place and time."""
_FAR = 2**62


def fuse(candidates: pl.DataFrame, *, gap_h: float = 24.0, raised: float = 0.5) -> pl.DataFrame:
    """Merge ALERT_CANDIDATES into ranked CASES.

    >>> from datetime import datetime, UTC
    >>> from gmina.engine.base import empty
    >>> t = datetime(2025, 1, 1, tzinfo=UTC)
    >>> row = {"alert_class": "meter_bypass", "location_kind": "meter", "location_id": 5, "start": t, "end": None,
    ...        "volume_m3": 1.0, "cost_pln": 12.0, "evidence": "{}"}
    >>> c = pl.DataFrame([{**row, "detector": "unauthorized", "confidence": 0.6},
    ...                   {**row, "detector": "device_alarms", "confidence": 0.5}], schema=ALERT_CANDIDATES.dtypes)
    >>> fuse(c).select("rank", "confidence", "detectors", "n_candidates").rows()
    [(1, 0.8, 'device_alarms,unauthorized', 2)]
    >>> fuse(empty(ALERT_CANDIDATES)).height
    0
    """
    c = validate(candidates, ALERT_CANDIDATES)
    if c.is_empty():
        return pl.DataFrame(schema=CASES.dtypes)
    gap_us = int(gap_h * 3_600_000_000)
    c = (
        c.with_columns(
            pl.col("start").cast(pl.Int64).alias("_s"),
            pl.col("end").cast(pl.Int64).fill_null(_FAR).alias("_e"),
        )
        .sort([*_KEY, "_s", "detector"])
        .with_columns(pl.col("_e").cum_max().shift(1).over(_KEY).alias("_prev"))
        .with_columns(
            (pl.col("_prev").is_null() | (pl.col("_s") > pl.col("_prev") + gap_us)).cum_sum().over(_KEY).alias("_case")
        )
    )
    piece = pl.concat_str(
        pl.lit('{"detector": "'),
        pl.col("detector"),
        pl.lit('", "confidence": '),
        pl.col("confidence").round(3).cast(pl.String),
        pl.lit(', "evidence": '),
        pl.col("evidence"),
        pl.lit("}"),
    )
    cases = c.group_by([*_KEY, "_case"]).agg(
        pl.col("_s").min().alias("start"),
        pl.when(pl.col("_e").max() >= _FAR).then(None).otherwise(pl.col("_e").max()).alias("end"),
        pl.col("volume_m3").max(),
        pl.col("cost_pln").max(),
        pl.col("detector").unique().sort().str.join(",").alias("detectors"),
        pl.len().cast(pl.Int64).alias("n_candidates"),
        (pl.lit("[") + piece.str.join(", ") + pl.lit("]")).alias("evidence"),
    )
    # a detector's repeated candidates are one witness: its strongest one joins the noisy-OR
    witnesses = (
        c.group_by([*_KEY, "_case", "detector"])
        .agg(pl.col("confidence").clip(0.0, 0.999).max())
        .group_by([*_KEY, "_case"])
        .agg((1.0 - (1.0 - pl.col("confidence")).product()).alias("confidence"))
    )
    cases = (
        cases.join(witnesses, on=[*_KEY, "_case"])
        .with_columns(
            pl.col("start").cast(UTC_US),
            pl.col("end").cast(UTC_US),
            pl.col("confidence").round(6),
            (pl.col("confidence") * pl.col("cost_pln")).alias("expected_cost_pln"),
        )
        .pipe(_drop_subsumed, gap_us, raised)
        .sort(["expected_cost_pln", "confidence", *_KEY, "start"], descending=[True, True, False, False, False, False])
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )
    return cases.select(list(CASES.columns))


def _drop_subsumed(cases: pl.DataFrame, gap_us: int, raised: float) -> pl.DataFrame:
    """Drop the cases a raised (``confidence ≥ raised``) case of a more specific class explains (``SUBSUMED_BY``)."""
    drop = pl.lit(False)
    for weak, strong in SUBSUMED_BY.items():
        explainers = cases.filter(pl.col("alert_class").is_in(strong) & (pl.col("confidence") >= raised)).select(
            "location_kind", "location_id", pl.col("start").cast(pl.Int64).alias("_s2"),
            pl.col("end").cast(pl.Int64).fill_null(_FAR).alias("_e2"),
        )  # fmt: skip
        if explainers.is_empty():
            continue
        weak_cases = cases.with_row_index("_i").filter(pl.col("alert_class") == weak)
        hit = (
            weak_cases.join(explainers, on=["location_kind", "location_id"])
            .filter(
                (pl.col("start").cast(pl.Int64) <= pl.col("_e2") + gap_us)
                & (pl.col("_s2") <= pl.col("end").cast(pl.Int64).fill_null(_FAR) + gap_us)
            )["_i"]
            .unique()
        )
        drop = drop | pl.int_range(pl.len()).is_in(hit.to_list())
    return cases.filter(~drop)
