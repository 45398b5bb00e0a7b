"""lrkit's own one-cycle: exact endpoints and peak, mirrored momentum, checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given

import lrkit.schedules as sch
from tests import strategies


@given(strategies.one_cycles())
def test_exact_start_peak_and_end(curves: dict[str, sch.Schedule]) -> None:
    lr = curves["lr"]
    assert isinstance(lr, sch.Join)
    total = lr.length
    assert total is not None
    peak = lr.boundaries[0] - 1
    first = lr.schedules[0].to_dict()
    max_lr = first["end_value"]
    assert lr(0) == first["init_value"]
    assert lr(peak) == max_lr
    values = lr(np.arange(total))
    assert values.max() == max_lr
    assert lr(total - 1) == lr.schedules[-1].to_dict()["end_value"]


def test_defaults_follow_fastai() -> None:
    curves = sch.one_cycle(1.0, 1001)
    lr, momentum = curves["lr"], curves["momentum"]
    assert lr(0) == 1.0 / 25.0
    assert lr(250) == 1.0
    assert lr(1000) == 1.0 / 1e5
    assert momentum(0) == 0.95
    assert momentum(250) == 0.85
    assert momentum(1000) == 0.95


@given(strategies.one_cycles())
def test_phases_monotone(curves: dict[str, sch.Schedule]) -> None:
    lr = curves["lr"]
    assert isinstance(lr, sch.Join)
    values = lr(np.arange(lr.length or 0))
    edges = [0, *(b - 1 for b in lr.boundaries), len(values) - 1]
    for low, high in itertools.pairwise(edges):
        segment = np.diff(values[low : high + 1])
        ulp = np.spacing(values[low : high + 1]).max()
        assert np.all(segment >= -ulp) or np.all(segment <= ulp)


def test_momentum_mirrors_lr() -> None:
    curves = sch.one_cycle(0.5, 200, pct_start=0.3, momentum=(0.9, 0.8))
    lr = curves["lr"](np.arange(200))
    momentum = curves["momentum"](np.arange(200))
    assert np.all(np.sign(np.diff(lr)) == -np.sign(np.diff(momentum)))


def test_three_phase_returns_to_start() -> None:
    curves = sch.one_cycle(1.0, 101, pct_start=0.25, three_phase=True)
    lr, momentum = curves["lr"], curves["momentum"]
    assert lr(25) == 1.0
    assert lr(50) == 1.0 / 25.0
    assert lr(100) == 1.0 / 1e5
    assert momentum(25) == 0.85
    assert momentum(50) == 0.95
    assert momentum(80) == 0.95


def test_linear_anneal() -> None:
    lr = sch.one_cycle(
        1.0, 11, pct_start=0.5, div=10.0, final_div=10.0, anneal="linear"
    )["lr"]
    expected = [0.1, 0.28, 0.46, 0.64, 0.82, 1.0, 0.82, 0.64, 0.46, 0.28, 0.1]
    assert [lr(k) for k in range(11)] == pytest.approx(expected, rel=1e-14)


def test_momentum_none_schedules_lr_only() -> None:
    assert set(sch.one_cycle(0.1, 100, momentum=None)) == {"lr"}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_lr": -0.1}, ValueError, "max_lr must be > 0, got -0.1"),
        ({"max_lr": float("nan")}, ValueError, "max_lr must be finite"),
        ({"total_steps": 0}, ValueError, "total_steps must be >= 3, got 0"),
        ({"pct_start": 1.5}, ValueError, r"pct_start must be in \(0, 1\), got 1.5"),
        ({"div": 0.5}, ValueError, "div must be >= 1, got 0.5"),
        ({"final_div": 0.0}, ValueError, "final_div must be >= 1"),
        ({"momentum": (0.95, 1.5)}, ValueError, r"momentum\[1\] must be in \[0, 1\]"),
        ({"momentum": 0.9}, TypeError, "momentum must be a pair"),
        ({"anneal": "cosine"}, ValueError, "anneal must be one of 'cos', 'linear'"),
        (
            {"total_steps": 5, "pct_start": 0.01},
            ValueError,
            "pct_start=0.01 with total_steps=5",
        ),
        ({"three_phase": True, "pct_start": 0.6}, ValueError, "between 1 and 49"),
    ],
    ids=[
        "negative-lr",
        "nan-lr",
        "zero-steps",
        "pct-range",
        "div",
        "final-div",
        "momentum-range",
        "momentum-type",
        "anneal",
        "peak-at-start",
        "three-phase",
    ],
)
def test_invalid_arguments_raise(
    kwargs: dict[str, object], error: type, message: str
) -> None:
    arguments: dict[str, object] = {"max_lr": 0.1, "total_steps": 100, **kwargs}
    with pytest.raises(error, match=message):
        sch.one_cycle(**arguments)  # type: ignore[arg-type]
