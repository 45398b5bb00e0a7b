"""join and warmup: local steps, boundaries, continuity and argument checks."""

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
    ],
    ids=[
        "empty",
        "not-a-list",
        "not-a-schedule",
        "endless-middle",
        "warmup-float",
        "warmup-zero",
        "warmup-negative",
    ],
)
def test_invalid_arguments_raise(build, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()
