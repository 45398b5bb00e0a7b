"""Exponential, polynomial, step-wise and inverse square root decays."""

from __future__ import annotations

import bisect
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies


def _ulps(values: np.ndarray) -> np.ndarray:
    """Return one ulp of the larger neighbour for each consecutive pair."""
    return np.spacing(np.maximum(np.abs(values[1:]), np.abs(values[:-1])))


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (sch.exponential(1.0, 1e-4, 5), [1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-4]),
        (sch.exponential(1.0, 8.0, 3, include_start=False), [2.0, 4.0, 8.0, 8.0]),
        (sch.exponential_decay(3.0, 0.5), [3.0, 1.5, 0.75, 0.375]),
        (
            sch.exponential_decay(1.0, 0.25, decay_steps=2),
            [1.0, 0.5, 0.25, 0.125, 0.0625],
        ),
        (
            sch.exponential_decay(1.0, 0.5, decay_steps=3, staircase=True),
            [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25],
        ),
        (sch.step_decay(2.0, 2), [2.0, 2.0, 0.2, 0.2, 0.02]),
        (sch.polynomial(1.0, 0.0, 5), [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]),
        (sch.polynomial(1.0, 0.0, 3, power=2.0), [1.0, 0.25, 0.0, 0.0]),
        (
            sch.polynomial(2.0, 1.0, 5, power=0.5),
            [2.0, 1.8660254037844386, 1.7071067811865475, 1.5, 1.0],
        ),
        (sch.polynomial(0.0, 4.0, 2, include_start=False), [2.0, 4.0, 4.0]),
        (sch.multi_step(1.0, [1, 3], gamma=0.5), [1.0, 0.5, 0.5, 0.25, 0.25]),
        (sch.multi_step(1.0, [2], gamma=3.0), [1.0, 1.0, 3.0, 3.0]),
        (
            sch.inverse_sqrt(2.0, 1.0),
            [2.0, 2.0 / math.sqrt(2), 2.0 / math.sqrt(3), 1.0],
        ),
        (sch.inverse_sqrt(1.0, 10.0), [1.0, math.sqrt(10 / 11), math.sqrt(10 / 12)]),
    ],
    ids=[
        "exponential",
        "exponential-exclusive",
        "decay",
        "decay-every-2",
        "decay-staircase",
        "step-decay",
        "polynomial-linear",
        "polynomial-square",
        "polynomial-sqrt",
        "polynomial-exclusive",
        "multi-step",
        "multi-step-growth",
        "inverse-sqrt",
        "inverse-sqrt-timescale",
    ],
)
def test_golden_values(schedule: sch.Schedule, expected: list[float]) -> None:
    values = [schedule(step) for step in range(len(expected))]
    assert values == pytest.approx(expected, rel=1e-14, abs=0)


@given(strategies.exponentials())
def test_exponential_endpoints_exact(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    steps = fields["steps"]
    if fields["include_start"] and steps > 1:
        assert schedule(0) == fields["init_value"]
    assert schedule(steps - 1) == fields["end_value"]


@given(strategies.exponentials())
def test_exponential_constant_ratio(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    steps = fields["steps"]
    if steps < 3 or not fields["include_start"]:
        return
    values = schedule(np.arange(steps))
    expected = (fields["end_value"] / fields["init_value"]) ** (1 / (steps - 1))
    ratios = values[1:] / values[:-1]
    np.testing.assert_allclose(ratios, expected, rtol=1e-9, atol=0)


@given(strategies.exponentials() | strategies.polynomials())
def test_monotone_to_one_ulp(schedule: sch.Schedule) -> None:
    values = schedule(np.arange(schedule.length or 1))
    fields = schedule.to_dict()
    direction = 1.0 if fields["end_value"] >= fields["init_value"] else -1.0
    assert np.all(direction * np.diff(values) >= -_ulps(values))


@given(strategies.polynomials())
def test_polynomial_endpoints_exact(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    steps = fields["steps"]
    if fields["include_start"] and steps > 1:
        assert schedule(0) == fields["init_value"]
    assert schedule(steps - 1) == fields["end_value"]


@given(
    st.floats(0, 10),
    st.floats(0, 10),
    st.integers(2, 1_000),
    st.floats(0.1, 5.0),
    st.integers(0, 1_000),
)
def test_polynomial_matches_optax_formula(
    init: float, end: float, steps: int, power: float, k: int
) -> None:
    """optax: (init - end) * (1 - c / N) ** power + end, c = min(k, N)."""
    transition_steps = steps - 1
    count = min(k, transition_steps)
    expected = (init - end) * (1 - count / transition_steps) ** power + end
    actual = sch.polynomial(init, end, steps, power=power)(k)
    # The written-out formula adds two terms that can cancel (init 1e-43 and
    # end 1 give 0 at step 0), so its own rounding error is a few ulps of the
    # larger end, not of the result.
    oracle_error = 4 * math.ulp(max(init, end))
    assert actual == pytest.approx(expected, rel=1e-12, abs=oracle_error)


@given(strategies.values, strategies.gammas, st.integers(1, 50), strategies.steps)
def test_exponential_decay_matches_formula(
    init: float, gamma: float, decay_steps: int, k: int
) -> None:
    smooth = sch.exponential_decay(init, gamma, decay_steps)
    stairs = sch.exponential_decay(init, gamma, decay_steps, staircase=True)
    assert smooth(k) == pytest.approx(
        init * gamma ** (k / decay_steps), rel=1e-12, abs=1e-300
    )
    assert stairs(k) == pytest.approx(
        init * gamma ** (k // decay_steps), rel=1e-12, abs=1e-300
    )


@given(strategies.exponential_decays())
def test_exponential_decay_monotone(schedule: sch.Schedule) -> None:
    values = schedule(np.arange(3_000))
    assert values[0] == schedule.to_dict()["init_value"]
    assert np.all(np.diff(values) <= 0.0)


@given(strategies.multi_steps(), strategies.steps)
def test_multi_step_counts_milestones(schedule: sch.Schedule, k: int) -> None:
    """torch's rule: gamma ** bisect_right(milestones, step), held at the end."""
    fields = schedule.to_dict()
    count = bisect.bisect_right(fields["milestones"], k)
    expected = fields["init_value"] * fields["gamma"] ** count
    assert schedule(k) == pytest.approx(expected, rel=1e-13, abs=1e-300)


@given(strategies.multi_steps())
def test_multi_step_length_is_last_milestone(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    milestones = fields["milestones"]
    assert schedule.length == milestones[-1] + 1
    for milestone in milestones:
        before, after = schedule(milestone - 1), schedule(milestone)
        assert after == pytest.approx(before * fields["gamma"], rel=1e-13, abs=1e-300)


@given(strategies.inverse_sqrts())
def test_inverse_sqrt_starts_at_init_and_falls(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    values = schedule(np.arange(3_000))
    assert values[0] == fields["init_value"]
    assert np.all(np.diff(values) <= _ulps(values))


def test_inverse_sqrt_matches_hugging_face_after_warmup() -> None:
    """HF: 1 / sqrt((t + timescale - w) / timescale) for t >= w."""
    warmup_steps, timescale = 50, 400
    schedule = sch.warmup(sch.inverse_sqrt(1.0, timescale), warmup_steps)
    for t in range(warmup_steps, 3_000, 7):
        expected = 1.0 / math.sqrt((t + timescale - warmup_steps) / timescale)
        assert schedule(t) == pytest.approx(expected, rel=1e-14), f"step {t}"


def test_step_decay_is_staircase_exponential_decay() -> None:
    assert sch.step_decay(0.5, 30, gamma=0.2) == sch.exponential_decay(
        0.5, 0.2, 30, staircase=True
    )


def test_million_steps_in_one_call() -> None:
    steps = np.arange(1_000_000)
    for schedule in (
        sch.exponential(1.0, 1e-3, 1_000_000),
        sch.exponential_decay(1.0, 0.99999),
        sch.polynomial(1.0, 0.0, 1_000_000, power=2.0),
        sch.multi_step(1.0, list(range(1_000, 1_000_000, 1_000))),
        sch.inverse_sqrt(1.0, 1_000.0),
    ):
        values = schedule(steps)
        assert values.shape == (1_000_000,)
        assert np.all(np.isfinite(values))


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: sch.exponential(0.0, 1.0, 5),
            ValueError,
            "init_value must be > 0, got 0.0",
        ),
        (
            lambda: sch.exponential(1.0, -1.0, 5),
            ValueError,
            "end_value must be > 0, got -1.0",
        ),
        (lambda: sch.exponential(1.0, 0.1, 0), ValueError, "steps must be >= 1, got 0"),
        (
            lambda: sch.exponential_decay(1.0, 1.5),
            ValueError,
            r"gamma must be in \(0, 1\], got 1.5",
        ),
        (
            lambda: sch.exponential_decay(1.0, 0.0),
            ValueError,
            r"gamma must be in \(0, 1\], got 0.0",
        ),
        (
            lambda: sch.exponential_decay(1.0, 0.5, 0),
            ValueError,
            "decay_steps must be >= 1, got 0",
        ),
        (
            lambda: sch.exponential_decay(1.0, 0.5, staircase="yes"),
            TypeError,
            "staircase must be a bool",
        ),
        (
            lambda: sch.step_decay(1.0, 2.5),
            TypeError,
            "decay_steps must be an integer, got 2.5",
        ),
        (
            lambda: sch.polynomial(1.0, 0.0, 5, power=0.0),
            ValueError,
            "power must be > 0, got 0.0",
        ),
        (
            lambda: sch.polynomial(1.0, 0.0, 5, power=float("inf")),
            ValueError,
            "power must be finite",
        ),
        (
            lambda: sch.multi_step(1.0, []),
            ValueError,
            r"milestones must hold at least one step, got \[\]",
        ),
        (
            lambda: sch.multi_step(1.0, [5, 3]),
            ValueError,
            r"strictly increasing, got \[5, 3\]",
        ),
        (
            lambda: sch.multi_step(1.0, [0, 3]),
            ValueError,
            r"milestones\[0\] must be >= 1, got 0",
        ),
        (
            lambda: sch.multi_step(1.0, 10),
            TypeError,
            "milestones must be a list of integers, got int",
        ),
        (
            lambda: sch.multi_step(1.0, [2], gamma=-0.1),
            ValueError,
            "gamma must be > 0, got -0.1",
        ),
        (
            lambda: sch.inverse_sqrt(1.0, 0),
            ValueError,
            "timescale must be > 0, got 0.0",
        ),
        (
            lambda: sch.inverse_sqrt(-1.0, 10),
            ValueError,
            "init_value must be >= 0, got -1.0",
        ),
    ],
    ids=[
        "exponential-zero",
        "exponential-negative",
        "exponential-steps",
        "gamma-above-one",
        "gamma-zero",
        "decay-steps",
        "staircase-type",
        "step-decay-float",
        "power-zero",
        "power-inf",
        "milestones-empty",
        "milestones-unsorted",
        "milestone-zero",
        "milestones-type",
        "multi-step-gamma",
        "timescale-zero",
        "inverse-sqrt-negative",
    ],
)
def test_invalid_arguments_raise(build, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()
