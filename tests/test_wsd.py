"""Warmup-stable-decay and flat-then-cosine: phases, exact ends, checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

import lrkit.schedules as sch
from tests import strategies

_DECAYS = {
    "linear": lambda p: 1.0 - p,
    "cosine": lambda p: (1.0 + math.cos(math.pi * p)) / 2.0,
    "1-sqrt": lambda p: 1.0 - math.sqrt(p),
}


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (
            sch.warmup_stable_decay(1.0, 2, 2, 4, decay_shape="linear"),
            [0.5, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0],
        ),
        (
            sch.warmup_stable_decay(2.0, 0, 1, 2, decay_shape="cosine", min_ratio=0.5),
            [2.0, 1.5, 1.0, 1.0],
        ),
        (
            sch.warmup_stable_decay(1.0, 1, 0, 4, decay_shape="1-sqrt"),
            [1.0, 0.5, 1 - math.sqrt(0.5), 1 - math.sqrt(0.75), 0.0],
        ),
        (
            sch.flat_cos(1.0, 5, pct_start=0.5, final_div=2.0),
            [1.0, 1.0, 1.0, 0.75, 0.5, 0.5],
        ),
        (sch.flat_cos(4.0, 3, pct_start=0.0, final_div=4.0), [4.0, 2.5, 1.0]),
    ],
    ids=[
        "wsd-linear",
        "wsd-cosine-floor",
        "wsd-1-sqrt",
        "flat-cos",
        "flat-cos-no-flat",
    ],
)
def test_golden_values(schedule: sch.Schedule, expected: list[float]) -> None:
    values = [schedule(step) for step in range(len(expected))]
    assert values == pytest.approx(expected, rel=1e-14, abs=1e-15)


@given(strategies.wsds())
def test_wsd_phases_follow_formula(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    peak = fields["peak_value"]
    warmup, stable, decay = (
        fields["warmup_steps"],
        fields["stable_steps"],
        fields["decay_steps"],
    )
    floor = peak * fields["min_ratio"]
    shape = _DECAYS[fields["decay_shape"]]
    values = schedule(np.arange(warmup + stable + decay))

    for k in range(warmup):
        expected = peak * (k + 1) / warmup
        # linear mixes with weight 1 - p, which carries an error near one ulp
        # of the peak, so early warmup steps match to ulps of the peak.
        assert values[k] == pytest.approx(
            expected, rel=1e-14, abs=2e-16 * peak + 1e-300
        ), f"step {k}"
    assert np.all(values[max(warmup - 1, 0) : warmup + stable] == peak)
    for k in range(warmup + stable, warmup + stable + decay, max(1, decay // 50)):
        progress = (k - warmup - stable + 1) / decay
        expected = floor + (peak - floor) * shape(progress)
        assert values[k] == pytest.approx(
            expected, rel=1e-12, abs=1e-14 * peak + 1e-300
        )
    assert values[-1] == floor
    assert schedule.length == warmup + stable + decay


@given(strategies.wsds())
def test_wsd_phases_monotone(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    top = fields["warmup_steps"] + fields["stable_steps"]
    values = schedule(np.arange(top + fields["decay_steps"]))
    rising = values[: fields["warmup_steps"]]
    falling = values[max(top - 1, 0) :]
    assert np.all(np.diff(rising) >= 0.0)
    ulps = np.spacing(falling[:-1])
    assert np.all(np.diff(falling) <= ulps)


def test_wsd_matches_hugging_face_one_step_earlier() -> None:
    """HF decays with p = (t - w - S) / D, so its step t + 1 is lrkit's t."""
    warmup, stable, decay, ratio = 10, 30, 40, 0.1
    schedule = sch.warmup_stable_decay(
        1.0, warmup, stable, decay, decay_shape="cosine", min_ratio=ratio
    )
    for t in range(warmup + stable, warmup + stable + decay):
        progress = (t + 1 - warmup - stable) / decay
        multiplier = 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * progress))
        expected = multiplier * (1.0 - ratio) + ratio
        assert schedule(t) == pytest.approx(expected, rel=1e-12), f"step {t}"


@given(strategies.flat_coses())
def test_flat_cos_flat_then_exact_end(schedule: sch.Schedule) -> None:
    fields = schedule.to_dict()
    total = fields["total_steps"]
    peak = fields["peak_value"]
    flat_end = round(fields["pct_start"] * (total - 1))
    values = schedule(np.arange(total))
    assert np.all(values[: flat_end + 1] == peak)
    assert values[-1] == peak / fields["final_div"]
    anneal = values[flat_end:]
    assert np.all(np.diff(anneal) <= np.spacing(anneal[:-1]))


@given(strategies.flat_coses())
def test_flat_cos_matches_fastai_cosine(schedule: sch.Schedule) -> None:
    """fastai's SchedCos(a, b)(p) = a + (1 + cos(pi * (1 - p))) * (b - a) / 2."""
    fields = schedule.to_dict()
    total = fields["total_steps"]
    peak = fields["peak_value"]
    end = peak / fields["final_div"]
    flat_end = round(fields["pct_start"] * (total - 1))
    anneal_steps = total - 1 - flat_end
    for j in range(0, anneal_steps, max(1, anneal_steps // 40)):
        progress = (j + 1) / anneal_steps
        expected = peak + (1 + math.cos(math.pi * (1 - progress))) * (end - peak) / 2
        actual = schedule(flat_end + 1 + j)
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-14 * peak + 1e-300)


def test_flat_cos_defaults_follow_fastai() -> None:
    schedule = sch.flat_cos(1.0, 1_001)
    assert schedule(750) == 1.0
    assert schedule(751) < 1.0
    assert schedule(1_000) == 1e-5


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: sch.warmup_stable_decay(-1.0, 1, 1, 1),
            ValueError,
            "peak_value must be >= 0, got -1.0",
        ),
        (
            lambda: sch.warmup_stable_decay(1.0, -1, 1, 1),
            ValueError,
            "warmup_steps must be >= 0, got -1",
        ),
        (
            lambda: sch.warmup_stable_decay(1.0, 1, -2, 1),
            ValueError,
            "stable_steps must be >= 0, got -2",
        ),
        (
            lambda: sch.warmup_stable_decay(1.0, 1, 1, 0),
            ValueError,
            "decay_steps must be >= 1, got 0",
        ),
        (
            lambda: sch.warmup_stable_decay(1.0, 1, 1, 1, decay_shape="sqrt"),
            ValueError,
            "decay_shape must be one of '1-sqrt', 'cosine', 'linear', got 'sqrt'",
        ),
        (
            lambda: sch.warmup_stable_decay(1.0, 1, 1, 1, min_ratio=1.5),
            ValueError,
            r"min_ratio must be in \[0, 1\], got 1.5",
        ),
        (lambda: sch.flat_cos(1.0, 1), ValueError, "total_steps must be >= 2, got 1"),
        (
            lambda: sch.flat_cos(1.0, 10, pct_start=1.0),
            ValueError,
            r"pct_start must be in \[0, 1\), got 1.0",
        ),
        (
            lambda: sch.flat_cos(1.0, 10, pct_start=0.99),
            ValueError,
            "pct_start=0.99 with total_steps=10 leaves no step for the cosine",
        ),
        (
            lambda: sch.flat_cos(1.0, 10, final_div=0.5),
            ValueError,
            "final_div must be >= 1, got 0.5",
        ),
    ],
    ids=[
        "peak",
        "warmup",
        "stable",
        "decay",
        "shape",
        "ratio",
        "total",
        "pct-start",
        "no-cosine",
        "final-div",
    ],
)
def test_invalid_arguments_raise(build, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()
