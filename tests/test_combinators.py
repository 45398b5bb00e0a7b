"""Combinators: join, warmup, scale, repeat and clip, and their checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies


@given(st.lists(strategies.interpolations(), min_size=1, max_size=4), strategies.steps)
def test_join_gives_each_piece_its_local_step(
    pieces: list[sch.Schedule], step: int
) -> None:
    joined = sch.join(pieces)
    start = 0
    for piece in pieces:
        assert piece.length is not None
        if step < start + piece.length:
            assert joined(step) == piece(step - start)
            return
        start += piece.length
    assert joined(step) == pieces[-1](pieces[-1].length - 1)


@given(st.lists(strategies.interpolations(), min_size=1, max_size=4))
def test_join_length_and_boundaries(pieces: list[sch.Schedule]) -> None:
    joined = sch.join(pieces)
    lengths = [piece.length for piece in pieces]
    assert joined.length == sum(lengths)  # type: ignore[arg-type]
    assert list(joined.boundaries) == list(np.cumsum(lengths[:-1]))


@given(st.floats(0, 5), st.integers(1, 300), st.floats(0, 5), st.integers(2, 300))
def test_warmup_rises_then_runs_wrapped(
    peak: float, warmup_steps: int, end: float, decay_steps: int
) -> None:
    inner = sch.cosine(peak, end, decay_steps)
    schedule = sch.warmup(inner, warmup_steps)
    assert schedule(0) == pytest.approx(peak / warmup_steps, rel=1e-15)
    assert schedule(warmup_steps - 1) == peak
    for k in range(warmup_steps):
        assert schedule(k) == pytest.approx(peak * (k + 1) / warmup_steps, rel=1e-14)
    for k in (0, decay_steps // 2, decay_steps - 1):
        assert schedule(warmup_steps + k) == inner(k)
    assert schedule.length == warmup_steps + decay_steps


def test_warmup_from_nonzero_value() -> None:
    schedule = sch.warmup(sch.constant(1.0), 4, init_value=0.2)
    assert [schedule(k) for k in range(5)] == pytest.approx([0.4, 0.6, 0.8, 1.0, 1.0])


def test_join_sorted_and_unsorted_paths_agree() -> None:
    joined = sch.join([sch.linear(0, 1, 10), sch.cosine(1, 0, 20), sch.constant(0.5)])
    steps = np.arange(50)
    shuffled = np.random.default_rng(0).permutation(steps)
    np.testing.assert_array_equal(joined(shuffled), joined(steps)[shuffled])


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (sch.scale(sch.linear(0.0, 1.0, 3), 4.0), [0.0, 2.0, 4.0, 4.0]),
        (sch.scale(sch.constant(3.0), 0.0), [0.0, 0.0]),
        (
            sch.repeat(sch.linear(1.0, 0.0, 3)),
            [1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0],
        ),
        (
            sch.repeat(sch.linear(1.0, 0.0, 2), count=2),
            [1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        ),
        (sch.clip(sch.linear(0.0, 4.0, 5), 1.0, 3.0), [1.0, 1.0, 2.0, 3.0, 3.0]),
        (sch.clip(sch.exponential_decay(1.0, 0.5), low=0.3), [1.0, 0.5, 0.3, 0.3]),
    ],
    ids=["scale", "scale-zero", "repeat", "repeat-count", "clip", "clip-floor"],
)
def test_golden_values(schedule: sch.Schedule, expected: list[float]) -> None:
    values = [schedule(step) for step in range(len(expected))]
    assert values == pytest.approx(expected, rel=1e-15, abs=0)


@given(strategies.schedules(), st.floats(0.0, 100.0), strategies.steps)
def test_scale_multiplies_every_value(
    inner: sch.Schedule, factor: float, step: int
) -> None:
    scaled = sch.scale(inner, factor)
    assert scaled(step) == inner(step) * factor
    assert scaled.length == inner.length
    low, high = inner.bounds
    assert scaled.bounds == (low * factor, high * factor)


@given(strategies.interpolations(), st.none() | st.integers(1, 5), strategies.steps)
def test_repeat_is_periodic(inner: sch.Schedule, count: int | None, step: int) -> None:
    repeated = sch.repeat(inner, count)
    period = inner.length
    assert period is not None
    if count is None:
        assert repeated.length is None
        assert repeated(step) == inner(step % period)
        return
    assert repeated.length == count * period
    if step < count * period:
        assert repeated(step) == inner(step % period)
    else:
        assert repeated(step) == inner(period - 1)


@given(strategies.schedules(), strategies.values, strategies.values)
def test_clip_stays_in_range(inner: sch.Schedule, first: float, second: float) -> None:
    low, high = sorted((first, second))
    clipped = sch.clip(inner, low, high)
    steps = np.arange(3 * (inner.length or 1_000))
    values = clipped(steps)
    np.testing.assert_array_equal(values, np.clip(inner(steps), low, high))
    assert clipped.bounds[0] >= low
    assert clipped.bounds[1] <= high


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: sch.join([]), ValueError, "at least one"),
        (lambda: sch.join(sch.constant(1.0)), TypeError, "schedules must be a list"),
        (lambda: sch.join([sch.constant(1.0), 3]), TypeError, r"schedules\[1\]"),
        (
            lambda: sch.join([sch.constant(1.0), sch.constant(2.0)]),
            ValueError,
            r"schedules\[0\] has no end",
        ),
        (lambda: sch.warmup(0.1, 10), TypeError, "schedule must be a Schedule"),
        (lambda: sch.warmup(sch.constant(1.0), 0), ValueError, "steps must be >= 1"),
        (
            lambda: sch.warmup(sch.constant(1.0), 5, init_value=-1),
            ValueError,
            "init_value must be >= 0",
        ),
        (
            lambda: sch.scale(sch.constant(1.0), -2.0),
            ValueError,
            "factor must be >= 0, got -2.0",
        ),
        (lambda: sch.scale(2.0, 1.0), TypeError, "schedule must be a Schedule"),
        (
            lambda: sch.repeat(sch.constant(1.0)),
            ValueError,
            r"schedule must be finite to repeat, got constant\(value=1.0\)",
        ),
        (
            lambda: sch.repeat(sch.linear(1, 0, 3), count=0),
            ValueError,
            "count must be >= 1, got 0",
        ),
        (
            lambda: sch.clip(sch.constant(1.0), 0.5, 0.2),
            ValueError,
            r"high must be >= low \(0.5\), got 0.2",
        ),
        (
            lambda: sch.clip(sch.constant(1.0), -0.1),
            ValueError,
            "low must be >= 0, got -0.1",
        ),
    ],
    ids=[
        "empty",
        "not-a-list",
        "not-a-schedule",
        "endless-middle",
        "warmup-float",
        "warmup-zero",
        "warmup-negative",
        "scale-negative",
        "scale-float",
        "repeat-endless",
        "repeat-count",
        "clip-order",
        "clip-negative",
    ],
)
def test_invalid_arguments_raise(build, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()
