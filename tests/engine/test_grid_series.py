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

from gmina.engine.series import mad_sigma, nanmedian, runs


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


def test_long_runs_among_many_short_ones() -> None:
    cond = np.zeros((3, 200), dtype=np.bool_)
    cond[:, ::2] = True  # a hundred runs of one hour per row
    cond[1, 50:130] = True  # one of 80
    cond[2, 199:] = True
    assert [a.tolist() for a in runs(cond, 24)] == [[1], [50], [131]]  # column 130 is even: part of the run
    assert len(runs(cond, 1)[0]) == 100 + (25 + 1 + 34) + (99 + 1)
