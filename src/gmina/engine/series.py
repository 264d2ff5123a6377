"""Small vectorised helpers on ``(rows, hours)`` arrays: runs of a condition, robust statistics, daily sums."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

__all__ = ["daily_sums", "mad_sigma", "nanmedian", "runs"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def runs(cond: NDArray[np.bool_], min_len: int = 1) -> tuple[I64, I64, I64]:
    """Maximal runs of ``True`` along axis 1 of a 2-D array: ``(row, start, end)`` with ``end`` exclusive.

    >>> runs(np.array([[True, True, False, True], [False, True, True, True]]), min_len=2)
    (array([0, 1]), array([0, 1]), array([2, 4]))
    """
    m, h = cond.shape
    padded = np.zeros((m, h + 2), dtype=np.int8)
    padded[:, 1:-1] = cond
    d = np.diff(padded, axis=1)
    r0, s = np.nonzero(d == 1)
    _, e = np.nonzero(d == -1)
    keep = (e - s) >= min_len
    return r0[keep].astype(np.int64), s[keep].astype(np.int64), e[keep].astype(np.int64)


def nanmedian(x: NDArray[np.floating], axis: int | None = None) -> F64:
    """``np.nanmedian`` without the all-NaN warning (the result is NaN there)."""
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
