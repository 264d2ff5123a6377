"""The grid helpers of ``gmina.engine.series`` against plain references, on random arrays.

``runs`` must list exactly the maximal runs a row-by-row scan finds; ``nanmedian`` and ``mad_sigma`` must give
``np.nanmedian``'s values bit for bit (NaN, infinities, signed zeros, values near overflow included).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gmina.engine.series import LevelShift, level_shift, mad_sigma, nanmedian, padded_median, row_quantile, runs


def reference_runs(cond: np.ndarray, min_len: int) -> tuple[list[int], list[int], list[int]]:
    rows, starts, ends = [], [], []
    for r, line in enumerate(cond.tolist()):
        j = 0
        while j < len(line):
            if not line[j]:
                j += 1
                continue
            k = j
            while k < len(line) and line[k]:
                k += 1
            if k - j >= min_len:
                rows.append(r)
                starts.append(j)
                ends.append(k)
            j = k
    return rows, starts, ends


def reference_nanmedian(x: np.ndarray, axis: int | None) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(x, axis=axis), dtype=np.float64)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.shape == b.shape
        and bool(np.array_equal(a, b, equal_nan=True))
        and bool(np.array_equal(np.signbit(a), np.signbit(b)))
    )


booleans = hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=70))
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, np.nan, 1e308, -1e308]),
)
floats = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=30), elements=values)


@settings(max_examples=300, deadline=None)
@given(booleans, st.integers(-1, 80))
def test_runs_are_the_maximal_runs_of_a_row_scan(cond: np.ndarray, min_len: int) -> None:
    row, start, end = runs(cond, min_len)
    assert row.dtype == start.dtype == end.dtype == np.int64
    assert (row.tolist(), start.tolist(), end.tolist()) == reference_runs(cond, min_len)


@settings(max_examples=300, deadline=None)
@given(floats, st.sampled_from([None, 0, -1]))
def test_nanmedian_and_mad_sigma_are_numpys_values(x: np.ndarray, axis: int | None) -> None:
    assert _same(nanmedian(x, axis=axis), reference_nanmedian(x, axis))
    med = reference_nanmedian(x, axis)
    with np.errstate(invalid="ignore", over="ignore"):
        dev = np.abs(x - (np.expand_dims(med, axis) if axis is not None else med))
        assert _same(mad_sigma(x, axis=axis), 1.4826 * reference_nanmedian(dev, axis))


finite_rows = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
    elements=st.one_of(st.floats(-1e12, 1e12), st.sampled_from([0.0, 1.0, 2.5, np.nan])),
)


@settings(max_examples=300, deadline=None)
@given(finite_rows, st.floats(0.0, 1.0))
def test_row_quantile_is_numpys_nanquantile(x: np.ndarray, q: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.asarray(np.nanquantile(x, q, axis=1), dtype=np.float64)
    assert np.array_equal(row_quantile(x, q), expected, equal_nan=True)


def reference_level_shift(
    x: np.ndarray, reference_len: int, min_reference: int, min_after: int, min_sigma: float
) -> LevelShift | None:
    """The split-by-split scan that :func:`level_shift` vectorises."""
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size < min_reference + min_after:
        return None
    best: LevelShift | None = None
    for i in range(min_reference, valid.size - min_after + 1):
        ref = x[valid[max(0, i - reference_len) : i]]
        after = x[valid[i:]]
        base = float(np.median(ref))
        sigma = max(min_sigma, 1.4826 * float(np.median(np.abs(ref - base))))
        excess = float(np.median(after)) - base
        score = excess / (sigma * float(np.sqrt(1.0 / after.size + 1.0 / ref.size)))
        if best is None or score > best.score:
            best = LevelShift(int(valid[i]), base, sigma, excess, score)
    if best is not None and best.excess > 0:
        rising = valid[(valid >= best.start) & (x[valid] >= best.reference + 0.5 * best.excess)]
        if rising.size:
            excess = float(np.median(x[valid[valid >= rising[0]]])) - best.reference
            best = LevelShift(int(rising[0]), best.reference, best.sigma, excess, best.score)
    return best


series_values = hnp.arrays(
    np.float64,
    st.integers(0, 60),
    elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.0, 5.0, np.nan])),
)


@settings(max_examples=300, deadline=None)
@given(series_values, st.integers(1, 20), st.integers(1, 10), st.integers(1, 5), st.floats(0.01, 10.0))
def test_level_shift_is_the_split_by_split_scan(
    x: np.ndarray, reference_len: int, min_reference: int, min_after: int, min_sigma: float
) -> None:
    kw = {"reference_len": reference_len, "min_reference": min_reference, "min_after": min_after}
    assert level_shift(x, **kw, min_sigma=min_sigma) == reference_level_shift(x, **kw, min_sigma=min_sigma)


@settings(max_examples=200, deadline=None)
@given(finite_rows)
def test_padded_median_is_numpys_nanmedian(x: np.ndarray) -> None:
    assert np.array_equal(padded_median(x), reference_nanmedian(x, 1), equal_nan=True)


def test_long_runs_among_many_short_ones() -> None:
    cond = np.zeros((3, 200), dtype=np.bool_)
    cond[:, ::2] = True  # a hundred runs of one hour per row
    cond[1, 50:130] = True  # one of 80
    cond[2, 199:] = True
    assert [a.tolist() for a in runs(cond, 24)] == [[1], [50], [131]]  # column 130 is even: part of the run
    assert len(runs(cond, 1)[0]) == 100 + (25 + 1 + 34) + (99 + 1)
