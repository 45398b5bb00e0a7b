"""Constant, linear and cosine curves: formulas, endpoints and argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (sch.linear(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]),
        (sch.linear(1.0, 0.0, 5, include_start=False), [0.8, 0.6, 0.4, 0.2, 0.0, 0.0]),
        (sch.cosine(2.0, 0.0, 3), [2.0, 1.0, 0.0, 0.0]),
        (sch.cosine(1.0, 0.0, 2, include_start=False), [0.5, 0.0, 0.0]),
        (sch.linear(3.0, 7.0, 1), [7.0, 7.0]),
        (sch.constant(0.3), [0.3, 0.3]),
    ],
    ids=[
        "linear",
        "linear-exclusive",
        "cosine",
        "cosine-exclusive",
        "one-step",
        "constant",
    ],
)
def test_golden_values(schedule: sch.Schedule, expected: list[float]) -> None:
    values = [schedule(step) for step in range(len(expected))]
    assert values == pytest.approx(expected, rel=1e-15, abs=0)


@given(strategies.interpolations())
def test_endpoints_exact(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    steps = fields["steps"]
    if fields["include_start"] and steps > 1:
        assert schedule(0) == fields["init_value"]
    assert schedule(steps - 1) == fields["end_value"]


@given(strategies.interpolations())
def test_monotone_to_one_ulp(schedule: sch.Schedule) -> None:
    values = schedule(np.arange(schedule.length or 1))
    fields = schedule.to_dict()
    direction = 1.0 if fields["end_value"] >= fields["init_value"] else -1.0
    steps = direction * np.diff(values)
    tolerance = np.spacing(np.maximum(np.abs(values[1:]), np.abs(values[:-1])))
    assert np.all(steps >= -tolerance)


@given(
    st.floats(0, 10),
    st.floats(0, 10),
    st.integers(2, 1000),
    st.integers(0, 1000),
)
def test_cosine_matches_formula(init: float, end: float, steps: int, k: int) -> None:
    k = min(k, steps - 1)
    weight = (1 + math.cos(math.pi * k / (steps - 1))) / 2
    expected = end + (init - end) * weight
    # The formula cancels when the value is far below the larger end (init
    # 1e-38, end 1), so allow a few ulps of that end as well.
    assert sch.cosine(init, end, steps)(k) == pytest.approx(
        expected, rel=1e-12, abs=4e-16 * max(init, end, 1e-300)
    )


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: sch.linear(-1.0, 0.0, 5),
            ValueError,
            "init_value must be >= 0, got -1.0",
        ),
        (
            lambda: sch.cosine(1.0, float("nan"), 5),
            ValueError,
            "end_value must be finite",
        ),
        (lambda: sch.cosine(1.0, 0.0, 0), ValueError, "steps must be >= 1, got 0"),
        (lambda: sch.cosine(1.0, 0.0, 2.5), TypeError, "steps must be an integer"),
        (
            lambda: sch.linear("1", 0.0, 5),
            TypeError,
            "init_value must be a real number",
        ),
        (lambda: sch.constant(float("inf")), ValueError, "value must be finite"),
        (lambda: sch.linear(1.0, 0.0, 5, include_start=1), TypeError, "include_start"),
    ],
    ids=["negative", "nan", "zero-steps", "float-steps", "string", "inf", "flag"],
)
def test_invalid_arguments_raise(build, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()
