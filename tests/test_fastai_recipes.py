"""fastai recipes against fastai's documented formula and hand-checked goldens.

fastai itself is not a test dependency (it pins its own torchvision), so the
oracle is its formula written out here: batch ``i`` of ``N`` is at
``pos = i / N``, and ``combined_cos`` anneals with
``SchedCos(a, b)(p) = a + (1 + cos(pi * (1 - p))) * (b - a) / 2``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies
from tests._properties import assert_recipe_properties


def _sched_cos(start: float, end: float, pos: float) -> float:
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def _combined_cos(
    pct: float, start: float, middle: float, end: float, total_steps: int
) -> list[float]:
    """fastai's combined_cos at every batch, from the formula in plain floats."""
    boundaries = [0.0, pct, pct + (1 - pct)]
    values = []
    for batch in range(total_steps):
        pos = batch / total_steps
        phase = 1 if pos >= boundaries[1] else 0
        low, high = boundaries[phase], boundaries[phase + 1]
        ends = (start, middle) if phase == 0 else (middle, end)
        values.append(_sched_cos(*ends, (pos - low) / (high - low)))
    return values


@given(
    pct=strategies.fractions,
    start=strategies.values,
    middle=strategies.values,
    end=strategies.values,
    total_steps=st.integers(min_value=1, max_value=2_000),
)
def test_combined_cos_matches_formula(
    pct: float, start: float, middle: float, end: float, total_steps: int
) -> None:
    schedule = sch.fastai_combined_cos(pct, start, middle, end, total_steps)
    actual = schedule(np.arange(total_steps))
    expected = _combined_cos(pct, start, middle, end, total_steps)
    for batch in range(total_steps):
        assert actual[batch] == expected[batch], (
            f"batch {batch}: formula {expected[batch]!r}, lrkit {actual[batch]!r}"
        )


@given(
    lr_max=strategies.positive_values,
    total_steps=st.integers(min_value=1, max_value=1_000),
    pct_start=strategies.fractions,
)
def test_one_cycle_matches_formula(
    lr_max: float, total_steps: int, pct_start: float
) -> None:
    curves = sch.fastai_one_cycle(lr_max, total_steps, pct_start=pct_start)
    steps = np.arange(total_steps)
    lr = _combined_cos(pct_start, lr_max / 25.0, lr_max, lr_max / 1e5, total_steps)
    momentum = _combined_cos(pct_start, 0.95, 0.85, 0.95, total_steps)
    assert curves["lr"](steps).tolist() == lr
    assert curves["momentum"](steps).tolist() == momentum


ONE_CYCLE_GOLDENS = [
    # lr_max 1 over 100 batches with pct_start 0.25: lr_max / div at batch 0.
    (0, 0.04, 0.95),
    # The peak: pos = 0.25 starts the second phase at p = 0.
    (25, 1.0, 0.85),
    # pos = 0.5: p = 1/3 and cos(2 pi / 3) = -1/2, so 1 - (1 - 1e-5) / 4.
    (50, 0.7500025, 0.875),
]


@pytest.mark.parametrize(
    ("batch", "lr", "momentum"), ONE_CYCLE_GOLDENS, ids=["start", "peak", "mid-anneal"]
)
def test_one_cycle_goldens(batch: int, lr: float, momentum: float) -> None:
    curves = sch.fastai_one_cycle(1.0, 100)
    assert math.isclose(curves["lr"](batch), lr, rel_tol=1e-12)
    assert math.isclose(curves["momentum"](batch), momentum, rel_tol=1e-12)


def test_one_cycle_halfway_up() -> None:
    """With 8 batches and pct_start 0.25, batch 1 is halfway up the cosine."""
    curves = sch.fastai_one_cycle(0.1, 8)
    assert math.isclose(curves["lr"](1), (0.004 + 0.1) / 2, rel_tol=1e-12)
    assert math.isclose(curves["momentum"](1), 0.9, rel_tol=1e-12)


def test_one_cycle_endpoints_exact() -> None:
    curves = sch.fastai_one_cycle(0.1, 400, pct_start=0.25)
    assert curves["lr"](0) == 0.1 / 25.0
    assert curves["lr"](100) == 0.1
    assert curves["momentum"](0) == 0.95
    assert curves["momentum"](100) == 0.85


def test_one_cycle_last_batch_above_final() -> None:
    """fastai never trains at pos = 1, so the last lr is above lr_max / div_final."""
    lr = sch.fastai_one_cycle(1.0, 10)["lr"]
    last = lr(9)
    assert last > 1e-5
    # pos = 0.9 is in the second phase at p = 0.65 / 0.75.
    expected = 1.0 + (1 + math.cos(math.pi * (1 - 0.65 / 0.75))) * (1e-5 - 1.0) / 2
    assert math.isclose(last, expected, rel_tol=1e-12)
    assert lr(10) == last


@pytest.mark.parametrize(
    ("batch", "expected"),
    [(0, 1.0), (2, 1.0), (3, 0.500005), (4, 0.500005)],
    ids=["start", "last-flat", "half-anneal", "past-end"],
)
def test_flat_cos_goldens(batch: int, expected: float) -> None:
    """Four batches with pct_start 0.5: batch 3 is halfway down the cosine."""
    schedule = sch.fastai_flat_cos(1.0, 4, pct_start=0.5)
    assert math.isclose(schedule(batch), expected, rel_tol=1e-12)


def test_flat_cos_is_flat_until_pct_start() -> None:
    schedule = sch.fastai_flat_cos(0.02, 1_000)
    values = schedule(np.arange(1_000))
    assert np.all(values[:751] == 0.02)
    assert np.all(np.diff(values[750:]) < 0)
    expected = _combined_cos(0.75, 0.02, 0.02, 0.02 / 1e5, 1_000)
    assert values.tolist() == expected


def test_one_cycle_without_momentum() -> None:
    assert set(sch.fastai_one_cycle(0.1, 10, moms=None)) == {"lr"}


@given(strategies.fastai_combined_coses())
def test_recipe_properties(schedule: sch.Schedule) -> None:
    assert_recipe_properties(schedule)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"lr_max": -1.0}, ValueError, "lr_max must be > 0, got -1.0"),
        ({"total_steps": 0}, ValueError, "total_steps must be >= 1, got 0"),
        ({"div": 0.0}, ValueError, "div must be > 0, got 0.0"),
        ({"div_final": float("inf")}, ValueError, "div_final must be finite, got inf"),
        ({"pct_start": 1.2}, ValueError, r"pct_start must be in \[0, 1\], got 1.2"),
        ({"moms": (0.9, 0.8)}, ValueError, r"moms must be a triple"),
        ({"moms": (0.9, 0.8, 1.5)}, ValueError, r"moms\[2\] must be in \[0, 1\]"),
        ({"moms": 0.9}, TypeError, "moms must be a triple .* got float"),
    ],
    ids=[
        "negative-lr",
        "zero-steps",
        "zero-div",
        "infinite-div-final",
        "pct-above-one",
        "two-moms",
        "mom-above-one",
        "scalar-moms",
    ],
)
def test_one_cycle_invalid_arguments_raise(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    call: dict[str, Any] = {"lr_max": 0.1, "total_steps": 100, **arguments}
    with pytest.raises(error, match=message):
        sch.fastai_one_cycle(**call)


def test_flat_cos_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0\.0"):
        sch.fastai_flat_cos(0.0, 10)
    with pytest.raises(ValueError, match=r"pct_start must be in \[0, 1\], got -0.5"):
        sch.fastai_flat_cos(0.1, 10, pct_start=-0.5)


def test_combined_cos_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"middle must be >= 0, got -1\.0"):
        sch.fastai_combined_cos(0.5, 1.0, -1.0, 0.0, 10)
    with pytest.raises(ValueError, match=r"pct must be in \[0, 1\], got 2.0"):
        sch.fastai_combined_cos(2.0, 1.0, 1.0, 0.0, 10)


@given(pct_start=strategies.outside_unit)
def test_pct_start_outside_unit_raises(pct_start: float) -> None:
    for build in (sch.fastai_one_cycle, sch.fastai_flat_cos):
        with pytest.raises(ValueError) as error:
            build(0.1, 100, pct_start=pct_start)
        assert "pct_start" in str(error.value)
        assert repr(pct_start) in str(error.value)
