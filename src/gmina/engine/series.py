"""Small vectorised helpers on ``(rows, hours)`` arrays: runs of a condition, robust statistics, daily sums."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

__all__ = ["LevelShift", "daily_sums", "level_shift", "mad_sigma", "nanmedian", "padded_median", "row_quantile", "runs"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def runs(cond: NDArray[np.bool_], min_len: int = 1) -> tuple[I64, I64, I64]:
    """Maximal runs of ``True`` along axis 1 of a 2-D array: ``(row, start, end)`` with ``end`` exclusive.

    Sorted by row, then start.

    >>> runs(np.array([[True, True, False, True], [False, True, True, True]]), min_len=2)
    (array([0, 1]), array([0, 1]), array([2, 4]))
    """
    m, h = cond.shape
    span = max(1, min_len)
    if span > h:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    # A run of at least ``span`` is a run of "the next ``span`` columns are all True" (``span - 1`` shorter): long
    # runs are few, so only their edges are searched for, not every change of ``cond``.
    ahead = _all_ahead(cond, span)
    row, start, end = _edges(ahead)
    return row, start, end + (span - 1)


def _all_ahead(cond: NDArray[np.bool_], span: int) -> NDArray[np.bool_]:
    """``(rows, h - span + 1)``: whether ``cond[:, j : j + span]`` is all True (doubling windows, log2 passes)."""
    if span == 1:
        return cond
    width, ahead = 1, cond
    while 2 * width <= span:
        ahead = ahead[:, :-width] & ahead[:, width:]
        width *= 2
    if width < span:  # two overlapping windows of ``width`` cover ``span``
        ahead = ahead[:, : ahead.shape[1] - (span - width)] & ahead[:, span - width :]
    return ahead


def _edges(cond: NDArray[np.bool_]) -> tuple[I64, I64, I64]:
    """Maximal runs of ``True`` along axis 1: ``(row, start, end)``, from the changes of the row-padded array."""
    m, h = cond.shape
    padded = np.zeros((m, h + 1), dtype=np.bool_)  # a False after each row: runs end within their row
    padded[:, :h] = cond
    flat = padded.ravel()
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if flat.size and flat[0]:
        changes = np.r_[0, changes]
    starts, ends = changes[0::2], changes[1::2]  # False → True, then True → False
    row = starts // (h + 1)
    return row.astype(np.int64), (starts - row * (h + 1)).astype(np.int64), (ends - row * (h + 1)).astype(np.int64)


def nanmedian(x: NDArray[np.floating], axis: int | None = None) -> F64:
    """``np.nanmedian`` without the all-NaN warning (the result is NaN there).

    Rows without NaN (nor signed zeros, nor values near overflow) are sorted instead of masked: the same values, in
    a fraction of the time.

    >>> nanmedian(np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 6.0]]), axis=1).tolist()
    [2.0, 4.0]
    """
    if x.size == 0 or x.dtype != np.float64:
        return _nanmedian(x, axis)
    x = cast(F64, x)
    if axis is None or x.ndim == 1:
        flat = x.reshape(1, -1)
        return _sorted_median(flat).reshape(()) if _plain(flat).all() else _nanmedian(x, axis)
    moved = np.moveaxis(x, axis, -1)
    rows = cast(F64, moved.reshape(-1, moved.shape[-1]))
    plain = _plain(rows)
    out = np.empty(rows.shape[0])
    if plain.all():
        out[:] = _sorted_median(rows)
    else:
        out[plain] = _sorted_median(rows[plain])
        rest = np.flatnonzero(~plain)
        gaps = _plain(np.where(np.isnan(rows[rest]), 0.0, rows[rest]))  # plain but for NaN: sorted, NaN last
        out[rest[gaps]] = padded_median(rows[rest[gaps]])
        out[rest[~gaps]] = _nanmedian(rows[rest[~gaps]], 1)
    return out.reshape(moved.shape[:-1])


def _plain(rows: F64) -> NDArray[np.bool_]:
    """Rows without NaN, infinities, negative zeros or values near overflow (where sorting gives numpy's median)."""
    with np.errstate(invalid="ignore"):
        plain: NDArray[np.bool_] = np.all((np.abs(rows) < SAFE) & ((rows != 0) | ~np.signbit(rows)), axis=1)
    return plain


SAFE = 1e300
"""Values below this magnitude cannot overflow when the two middle ones are added."""


def _sorted_median(rows: F64) -> F64:
    """Median of each row (no NaN): the middle value, or the mean of the two middle values, as ``np.nanmedian``."""
    n = rows.shape[1]
    s = np.sort(rows, axis=1)
    lo, hi = s[:, (n - 1) // 2], s[:, n // 2]
    return np.asarray((lo + hi) / 2.0)


def padded_median(rows: F64) -> F64:
    """Median of each row's known values, for rows padded with NaN; NaN for a row with none (no warning).

    >>> padded_median(np.array([[3.0, 1.0, np.nan], [np.nan, np.nan, np.nan], [4.0, 2.0, 1.0]])).tolist()
    [2.0, nan, 2.0]
    """
    if rows.shape[1] == 0:
        return np.full(rows.shape[0], np.nan)
    k = np.count_nonzero(~np.isnan(rows), axis=1)
    s = np.sort(rows, axis=1)  # NaN last
    i = np.arange(rows.shape[0])
    lo, hi = s[i, np.maximum(k - 1, 0) // 2], s[i, k // 2 - (k == 0)]
    return np.where(k > 0, (lo + hi) / 2.0, np.nan)


def _nanmedian(x: NDArray[np.floating], axis: int | None) -> F64:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(x, axis=axis), dtype=np.float64)


def mad_sigma(x: NDArray[np.floating], axis: int | None = None) -> F64:
    """Robust standard deviation: 1.4826 × median absolute deviation, ignoring NaN.

    >>> float(mad_sigma(np.array([1.0, 2.0, 3.0, 4.0, 100.0])))
    1.4826
    """
    med = nanmedian(x, axis=axis)
    dev = np.abs(x - (np.expand_dims(med, axis) if axis is not None else med))
    return 1.4826 * nanmedian(dev, axis=axis)


def daily_sums(volume: F64, day: I64, min_hours: int = 20) -> F64:
    """``(rows, n_days)`` litres per local day; NaN where fewer than ``min_hours`` hours are known.

    >>> daily_sums(np.array([[1.0, 2.0, np.nan, 4.0]]), np.array([0, 0, 1, 1]), min_hours=2)
    array([[ 3., nan]])
    """
    n_days = int(day.max()) + 1 if day.size else 0
    onehot = np.zeros((day.size, n_days))
    onehot[np.arange(day.size), day] = 1.0
    known = ~np.isnan(volume)
    sums = np.where(known, volume, 0.0) @ onehot
    counts = known.astype(np.float64) @ onehot
    return np.where(counts >= min_hours, sums, np.nan)


@dataclass(frozen=True)
class LevelShift:
    """The best upward level shift of a series: it starts at ``start`` (an index into the series), the values from
    there have a median ``excess`` above the ``reference`` (the median of up to ``reference_len`` values before it),
    ``score`` standard errors of the reference's robust spread ``sigma``."""

    start: int
    reference: float
    sigma: float
    excess: float
    score: float


def level_shift(
    x: F64, *, reference_len: int, min_reference: int, min_after: int, min_sigma: float
) -> LevelShift | None:
    """The upward level shift of ``x`` (NaN skipped) with the highest score, or ``None`` when too short.

    Every split with at least ``min_reference`` known values before and ``min_after`` after is tried; the score is
    ``(median after − median reference) / (σ · √(1/n_after + 1/n_reference))`` with ``σ = max(min_sigma, MAD σ)``.
    The shift starts at the first value from the best split on that is at least half the excess above the reference.

    >>> x = np.r_[np.zeros(10), np.full(4, 5.0)] + np.tile([0.1, -0.1], 7)
    >>> s = level_shift(x, reference_len=14, min_reference=5, min_after=2, min_sigma=0.5)
    >>> s.start, round(s.excess, 1)
    (10, 5.0)
    """
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size < min_reference + min_after:
        return None
    xv = x[valid]
    n = xv.size
    split = np.arange(min_reference, n - min_after + 1)
    # every split at once: its reference window and its tail as rows padded with NaN
    cols = np.arange(reference_len)
    at = split[:, None] - reference_len + cols[None, :]
    ref = np.where(at >= 0, xv[np.maximum(at, 0)], np.nan)
    at = split[:, None] + np.arange(n - min_reference)[None, :]
    after = np.where(at < n, xv[np.minimum(at, n - 1)], np.nan)
    base = padded_median(ref)
    sigma = np.maximum(min_sigma, 1.4826 * padded_median(np.abs(ref - base[:, None])))
    excess = padded_median(after) - base
    n_ref = np.minimum(split, reference_len)
    score = excess / (sigma * np.sqrt(1.0 / (n - split) + 1.0 / n_ref))
    j = int(np.argmax(score))
    best = LevelShift(int(valid[split[j]]), float(base[j]), float(sigma[j]), float(excess[j]), float(score[j]))
    if best.excess > 0:  # a median tolerates a few low values: start where the rise is
        rising = valid[(valid >= best.start) & (x[valid] >= best.reference + 0.5 * best.excess)]
        if rising.size:
            rise = float(np.median(x[valid[valid >= rising[0]]])) - best.reference
            best = LevelShift(int(rising[0]), best.reference, best.sigma, rise, best.score)
    return best


def row_quantile(x: F64, q: float) -> F64:
    """Each row's ``q`` quantile over its known values; NaN for a row with none (no warning).

    >>> row_quantile(np.array([[1.0, 2.0, 3.0, np.nan], [np.nan] * 4]), 0.5).tolist()
    [2.0, nan]
    """
    out = np.full(x.shape[0], np.nan)
    n = np.count_nonzero(~np.isnan(x), axis=1)
    rows = np.flatnonzero(n > 0)
    if rows.size:
        # numpy's linear method (``np.nanquantile``) on rows sorted once, NaN last: the same values, without a
        # Python-level pass per row
        s = np.sort(x[rows], axis=1)
        k = n[rows]
        at = (k - 1) * q
        lo = np.floor(at).astype(np.int64)
        t = at - lo
        a = s[np.arange(rows.size), lo]
        b = s[np.arange(rows.size), np.minimum(lo + 1, k - 1)]
        gap = b - a
        out[rows] = np.where(t >= 0.5, b - gap * (1 - t), a + gap * t)
    return out
