"""Triangular cycles and cosine annealing with warm restarts."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies


def _ulps(values: np.ndarray) -> np.ndarray:
    """Return one ulp of the larger neighbour for each consecutive pair."""
    return np.spacing(np.maximum(np.abs(values[1:]), np.abs(values[:-1])))


def _restart_steps(cycle_steps: int, cycle_mult: float, count: int) -> list[int]:
    """Return the first step of each cycle, summing the cycle lengths in turn."""
    starts = []
    for cycle in range(count):
        if cycle_mult == 1.0:
            real = cycle * cycle_steps
        else:
            real = (cycle_mult**cycle - 1) * (cycle_steps / (cycle_mult - 1))
        starts.append(math.floor(real + 0.5))
    return starts


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (sch.cyclic(1.0, 3.0, 2), [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0]),
        (sch.cyclic(0.0, 1.0, 1, 3), [0.0, 1.0, 2 / 3, 1 / 3, 0.0, 1.0]),
        (
            sch.cyclic(0.0, 4.0, 1, mode="triangular2"),
            [0.0, 4.0, 0.0, 2.0, 0.0, 1.0, 0.0],
        ),
        (
            sch.cyclic(0.0, 1.0, 2, mode="exp_range", gamma=0.5),
            [0.0, 0.5 * 0.5, 0.25, 0.5 * 0.125, 0.0],
        ),
        (sch.cyclic(0.9, 0.8, 2), [0.9, 0.85, 0.8, 0.85, 0.9]),
        (sch.cosine_restarts(2.0, 2), [2.0, 1.0, 2.0, 1.0]),
        (sch.cosine_restarts(1.0, 1, cycle_mult=2), [1.0, 1.0, 0.5, 1.0]),
        (
            sch.cosine_restarts(1.0, 2, cycle_decay=0.5, end_value=0.2),
            [1.0, 0.6, 0.6, 0.4, 0.4, 0.3],
        ),
        (
            sch.cosine_restarts(1.0, 4, warmup_steps=2),
            [0.5, 1.0, 1.0, 0.5, 0.5, 1.0],
        ),
        (
            sch.cosine_restarts(1.0, 2, cycle_mult=1.5),
            [1.0, 0.5, 1.0, 0.75, 0.25, 1.0],
        ),
    ],
    ids=[
        "triangular",
        "uneven",
        "triangular2",
        "exp-range",
        "upside-down",
        "restarts",
        "restarts-doubling",
        "restarts-decay-floor",
        "restarts-warmup",
        "restarts-real-mult",
    ],
)
def test_golden_values(schedule: sch.Schedule, expected: list[float]) -> None:
    values = [schedule(step) for step in range(len(expected))]
    assert values == pytest.approx(expected, rel=1e-14, abs=1e-15)


@given(strategies.cyclics(), st.integers(0, 30))
def test_cyclic_cycle_starts_and_first_peak_exact(
    schedule: sch.Schedule, cycle: int
) -> None:
    fields = schedule.to_dict()
    up = fields["up_steps"]
    down = fields["down_steps"] or up
    assert schedule(cycle * (up + down)) == fields["init_value"]
    if fields["mode"] != "exp_range":
        assert schedule(up) == fields["peak_value"]


@given(strategies.cyclics(), strategies.steps)
def test_cyclic_matches_torch_formula(schedule: sch.Schedule, k: int) -> None:
    """torch: x = 1 + k / (up + down) - cycle, then x / r or (x - 1) / (r - 1)."""
    fields = schedule.to_dict()
    up = fields["up_steps"]
    total = up + (fields["down_steps"] or up)
    cycle = math.floor(1 + k / total)
    x = 1.0 + k / total - cycle
    ratio = up / total
    scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    factor = 1.0
    if fields["mode"] == "triangular2":
        factor = 0.5 ** (cycle - 1)
    elif fields["mode"] == "exp_range":
        factor = fields["gamma"] ** k
    base, peak = fields["init_value"], fields["peak_value"]
    expected = base + (peak - base) * scale * factor
    # x carries an absolute rounding error near 1e-16, so the tolerance is
    # relative to the height of the triangle, scaled by the cycle length.
    tolerance = abs(peak - base) * total * 1e-15
    assert schedule(k) == pytest.approx(expected, rel=1e-12, abs=tolerance)


@given(strategies.cyclics())
def test_cyclic_phases_monotone(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    up = fields["up_steps"]
    down = fields["down_steps"] or up
    values = schedule(np.arange(2 * (up + down) + 1))
    sign = 1.0 if fields["peak_value"] >= fields["init_value"] else -1.0
    for start in (0, up + down):
        rising = values[start : start + up + 1]
        falling = values[start + up : start + up + down + 1]
        assert np.all(sign * np.diff(falling) <= _ulps(falling))
        # exp_range shrinks the amplitude every step, so its rise can turn
        # back before the peak when gamma is small.
        if fields["mode"] != "exp_range":
            assert np.all(sign * np.diff(rising) >= -_ulps(rising))


@given(strategies.cyclics())
def test_cyclic_continuous_across_cycles(schedule: sch.Schedule) -> None:
    """No step moves further than the steeper side of the first triangle."""
    fields = schedule.to_dict()
    up = fields["up_steps"]
    down = fields["down_steps"] or up
    values = schedule(np.arange(3 * (up + down) + 1))
    height = abs(fields["peak_value"] - fields["init_value"])
    slope = 1 / min(up, down)
    if fields["mode"] == "exp_range":
        # The shrinking amplitude adds at most about 1 / (e * up_steps).
        slope += 1 / up
    limit = height * slope * (1 + 1e-12) + 2 * np.spacing(values[:-1])
    assert np.all(np.abs(np.diff(values)) <= limit)


@given(strategies.cosine_restarts())
def test_restarts_start_at_decayed_peak(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    starts = _restart_steps(fields["cycle_steps"], fields["cycle_mult"], 6)
    end, peak = fields["end_value"], fields["peak_value"]
    for cycle, start in enumerate(starts):
        if start > 50_000:
            break
        height = end + (peak - end) * fields["cycle_decay"] ** cycle
        top = start + fields["warmup_steps"]
        assert schedule(top) == pytest.approx(height, rel=1e-14, abs=1e-300)
        if fields["warmup_steps"]:
            assert schedule(top - 1) == pytest.approx(height, rel=1e-14, abs=1e-300)
    assert schedule(fields["warmup_steps"]) == peak


@given(strategies.cosine_restarts())
def test_restarts_anneal_monotone(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    starts = _restart_steps(fields["cycle_steps"], fields["cycle_mult"], 4)
    values = schedule(np.arange(starts[-1]))
    for start, stop in itertools.pairwise(starts):
        anneal = values[start + fields["warmup_steps"] : stop]
        assert np.all(np.diff(anneal) <= _ulps(anneal))
        warmup = values[start : start + fields["warmup_steps"] + 1]
        assert np.all(np.diff(warmup) >= -_ulps(warmup))


@given(
    st.floats(0.1, 10),
    st.integers(1, 200),
    st.integers(1, 3),
    st.floats(0, 0.1),
    st.integers(0, 5_000),
)
def test_restarts_match_torch_formula(
    peak: float, t_0: int, t_mult: int, eta_min: float, k: int
) -> None:
    """torch: eta_min + (peak - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2."""
    t_cur, t_i = k, t_0
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= t_mult
    expected = eta_min + (peak - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
    schedule = sch.cosine_restarts(peak, t_0, cycle_mult=t_mult, end_value=eta_min)
    assert schedule(k) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("cycle_mult", [1, 2, 1.001], ids=["mult-1", "mult-2", "real"])
def test_restarts_far_steps_stay_in_bounds(cycle_mult: float) -> None:
    """Past 2**53 the starts round, but values stay finite, in bounds, quiet."""
    schedule = sch.cosine_restarts(1.0, 10, cycle_mult=cycle_mult, warmup_steps=3)
    steps = np.array([0, 10**6, 10**12, 2**52, 2**62, 1e30, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = schedule(steps)
    assert np.all((values >= 0.0) & (values <= 1.0))
    for step, value in zip(steps.tolist(), values.tolist(), strict=True):
        assert schedule(step) == value, f"step {step}"


def test_million_steps_in_one_call() -> None:
    steps = np.arange(1_000_000)
    for schedule in (
        sch.cyclic(0.1, 1.0, 2_000, mode="exp_range", gamma=0.99999),
        sch.cosine_restarts(1.0, 100, cycle_mult=1.3, cycle_decay=0.9, warmup_steps=5),
    ):
        values = schedule(steps)
        assert values.shape == (1_000_000,)
        assert np.all(np.isfinite(values))


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: sch.cyclic(-0.1, 1.0, 10),
            ValueError,
            "init_value must be >= 0, got -0.1",
        ),
        (lambda: sch.cyclic(0.1, 1.0, 0), ValueError, "up_steps must be >= 1, got 0"),
        (
            lambda: sch.cyclic(0.1, 1.0, 10, 0),
            ValueError,
            "down_steps must be >= 1, got 0",
        ),
        (
            lambda: sch.cyclic(0.1, 1.0, 10, mode="cosine"),
            ValueError,
            "mode must be one of 'triangular', 'triangular2', 'exp_range', "
            "got 'cosine'",
        ),
        (
            lambda: sch.cyclic(0.1, 1.0, 10, gamma=1.5),
            ValueError,
            r"gamma must be in \(0, 1\], got 1.5",
        ),
        (
            lambda: sch.cosine_restarts(1.0, 0),
            ValueError,
            "cycle_steps must be >= 1, got 0",
        ),
        (
            lambda: sch.cosine_restarts(1.0, 10, cycle_mult=0.5),
            ValueError,
            "cycle_mult must be >= 1, got 0.5",
        ),
        (
            lambda: sch.cosine_restarts(1.0, 10, cycle_decay=1.5),
            ValueError,
            r"cycle_decay must be in \[0, 1\], got 1.5",
        ),
        (
            lambda: sch.cosine_restarts(1.0, 10, warmup_steps=10),
            ValueError,
            r"warmup_steps must be < cycle_steps \(10\), got 10",
        ),
        (
            lambda: sch.cosine_restarts(1.0, 10, end_value=2.0),
            ValueError,
            r"end_value must be <= peak_value \(1.0\), got 2.0",
        ),
        (
            lambda: sch.cosine_restarts(1.0, 10, cycle_mult="2"),
            TypeError,
            "cycle_mult must be a real number",
        ),
    ],
    ids=[
        "cyclic-negative",
        "up-steps",
        "down-steps",
        "mode",
        "gamma",
        "cycle-steps",
        "cycle-mult",
        "cycle-decay",
        "warmup-too-long",
        "floor-above-peak",
        "mult-type",
    ],
)
def test_invalid_arguments_raise(build, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()
