"""torch_one_cycle against torch's own OneCycleLR, step by step."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies
from tests._optional import require
from tests._properties import assert_recipe_properties

MAX_LRS = (0.37, 0.002)


def _run_torch(
    total_steps: int, kwargs: dict[str, Any], optimizer: str
) -> tuple[list[list[float]], list[list[float]]]:
    """Step torch's OneCycleLR through a whole run on two param groups.

    Returns the lr and the momentum (or beta1) of each group at every step.
    """
    torch = require("torch")
    groups = [{"params": [torch.nn.Parameter(torch.ones(2))]} for _ in MAX_LRS]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(groups, lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=list(MAX_LRS), total_steps=total_steps, **kwargs
    )
    lrs: list[list[float]] = []
    momenta: list[list[float]] = []
    for step in range(total_steps):
        if step:
            opt.step()
            scheduler.step()
        lrs.append([group["lr"] for group in opt.param_groups])
        key = "momentum" if optimizer == "sgd" else "betas"
        momenta.append(
            [
                group[key] if optimizer == "sgd" else group[key][0]
                for group in opt.param_groups
            ]
        )
    return lrs, momenta


def _assert_matches_torch(
    total_steps: int, kwargs: dict[str, Any], optimizer: str
) -> None:
    lrs, momenta = _run_torch(total_steps, kwargs, optimizer)
    steps = np.arange(total_steps)
    for group, max_lr in enumerate(MAX_LRS):
        curves = sch.torch_one_cycle(max_lr, total_steps, **kwargs)
        ours_lr = curves["lr"](steps)
        ours_momentum = curves["momentum"](steps)
        for step in range(total_steps):
            expected, actual = lrs[step][group], ours_lr[step]
            assert actual == expected, (
                f"lr, group {group}, step {step}: torch {expected!r}, lrkit {actual!r}"
            )
            expected, actual = momenta[step][group], ours_momentum[step]
            assert actual == expected, (
                f"momentum, group {group}, step {step}: "
                f"torch {expected!r}, lrkit {actual!r}"
            )


ODD_PCTS = (0.0, 1e-9, 0.05, 0.3, 0.45, 0.5, 0.55, 0.999, 1 - 2**-53, 1.0)
GRID = [
    (total, pct, three_phase, anneal)
    for total, pct in [
        *itertools.product((2, 3, 4, 5, 7, 10, 101), ODD_PCTS),
        *itertools.product((1_999,), (0.0, 0.3, 0.5, 0.999)),
    ]
    if pct * total != 1.0
    for three_phase in (False, True)
    for anneal in ("cos", "linear")
]


@pytest.mark.parametrize(
    ("total_steps", "pct_start", "three_phase", "anneal"),
    GRID,
    ids=[f"T{t}-pct{p!r}-{'3' if h else '2'}phase-{a}" for t, p, h, a in GRID],
)
def test_grid_matches_torch(
    total_steps: int, pct_start: float, three_phase: bool, anneal: str
) -> None:
    kwargs = {
        "pct_start": pct_start,
        "three_phase": three_phase,
        "anneal_strategy": anneal,
    }
    _assert_matches_torch(total_steps, kwargs, "sgd" if total_steps % 2 else "adam")


@given(
    total_steps=st.integers(min_value=1, max_value=400),
    pct_start=st.floats(min_value=0.0, max_value=1.0),
    three_phase=st.booleans(),
    anneal=st.sampled_from(["cos", "linear"]),
    div_factor=st.floats(min_value=0.5, max_value=1e4),
    final_div_factor=st.floats(min_value=0.5, max_value=1e6),
    base_momentum=strategies.fractions,
    max_momentum=strategies.fractions,
    optimizer=st.sampled_from(["sgd", "adam"]),
)
def test_random_arguments_match_torch(
    total_steps: int,
    pct_start: float,
    three_phase: bool,
    anneal: str,
    div_factor: float,
    final_div_factor: float,
    base_momentum: float,
    max_momentum: float,
    optimizer: str,
) -> None:
    if pct_start * total_steps == 1.0:
        pct_start = 0.0
    kwargs = {
        "pct_start": pct_start,
        "three_phase": three_phase,
        "anneal_strategy": anneal,
        "div_factor": div_factor,
        "final_div_factor": final_div_factor,
        "base_momentum": base_momentum,
        "max_momentum": max_momentum,
    }
    _assert_matches_torch(total_steps, kwargs, optimizer)


def test_defaults_match_torch_defaults() -> None:
    _assert_matches_torch(1_000, {}, "sgd")


def _torch_fails(total_steps: int, pct_start: float, three_phase: bool) -> bool:
    """Tell whether torch raises or leaves its own range during the run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lrs, momenta = _run_torch(
                total_steps, {"pct_start": pct_start, "three_phase": three_phase}, "sgd"
            )
        except (ValueError, ZeroDivisionError):
            return True
    for group, max_lr in enumerate(MAX_LRS):
        low = max_lr / 25.0 / 1e4
        for lr_row, momentum_row in zip(lrs, momenta, strict=True):
            lr, momentum = lr_row[group], momentum_row[group]
            if not (math.isfinite(lr) and low * 0.999 <= lr <= max_lr * 1.001):
                return True
            if not 0.85 * 0.999 <= momentum <= 0.95 * 1.001:
                return True
    return False


FAILING_CANDIDATES = [
    (10, 0.1),
    (4, 0.25),
    (5, 0.2),
    (3, 1 / 3),
    (1, 1.0),
    (2, 0.5),
    (100, 0.01),
    (8, 0.125),
    (7, 0.3),
    (1, 0.5),
    (2, 1.0),
]


@pytest.mark.parametrize("three_phase", [False, True], ids=["2phase", "3phase"])
@pytest.mark.parametrize(
    ("total_steps", "pct_start"),
    FAILING_CANDIDATES,
    ids=[f"T{t}-pct{p!r}" for t, p in FAILING_CANDIDATES],
)
def test_rejects_what_torch_cannot_run(
    total_steps: int, pct_start: float, three_phase: bool
) -> None:
    """lrkit raises exactly where torch raises or leaves its range in the run."""
    if _torch_fails(total_steps, pct_start, three_phase):
        with pytest.raises(ValueError) as error:
            sch.torch_one_cycle(
                1.0, total_steps, pct_start=pct_start, three_phase=three_phase
            )
        message = str(error.value)
        assert "pct_start" in message
        assert "total_steps" in message
        assert repr(pct_start) in message
    else:
        sch.torch_one_cycle(
            1.0, total_steps, pct_start=pct_start, three_phase=three_phase
        )


def test_rejection_list_holds_torch_failures() -> None:
    """The candidate list above includes cases torch really rejects."""
    failing = [
        case for case in FAILING_CANDIDATES if _torch_fails(*case, three_phase=False)
    ]
    assert (10, 0.1) in failing
    assert len(failing) >= 5


@given(
    total_steps=st.integers(min_value=1, max_value=60),
    numerator=st.integers(min_value=0, max_value=60),
    three_phase=st.booleans(),
)
def test_fractions_of_the_run_agree_with_torch(
    total_steps: int, numerator: int, three_phase: bool
) -> None:
    """lrkit accepts ``pct_start = k / T`` exactly when torch runs it."""
    pct_start = min(numerator / total_steps, 1.0)
    fails = _torch_fails(total_steps, pct_start, three_phase)
    if fails:
        with pytest.raises(ValueError, match=r"pct_start.*total_steps"):
            sch.torch_one_cycle(
                1.0, total_steps, pct_start=pct_start, three_phase=three_phase
            )
    else:
        sch.torch_one_cycle(
            1.0, total_steps, pct_start=pct_start, three_phase=three_phase
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_lr": 0.0}, "max_lr must be > 0, got 0.0"),
        ({"max_lr": float("nan")}, "max_lr must be finite, got nan"),
        ({"total_steps": 0}, "total_steps must be >= 1, got 0"),
        ({"pct_start": 1.5}, r"pct_start must be in \[0, 1\], got 1.5"),
        ({"pct_start": -0.1}, r"pct_start must be in \[0, 1\], got -0.1"),
        ({"anneal_strategy": "cosine"}, "anneal_strategy must be one of"),
        ({"div_factor": 0.0}, "div_factor must be > 0, got 0.0"),
        ({"final_div_factor": -2.0}, "final_div_factor must be > 0, got -2.0"),
        ({"base_momentum": 1.2}, r"base_momentum must be in \[0, 1\], got 1.2"),
        ({"max_momentum": -1.0}, r"max_momentum must be in \[0, 1\], got -1.0"),
    ],
    ids=[
        "zero-max-lr",
        "nan-max-lr",
        "zero-steps",
        "pct-above-one",
        "pct-negative",
        "unknown-anneal",
        "zero-div",
        "negative-final-div",
        "base-momentum-above-one",
        "max-momentum-negative",
    ],
)
def test_invalid_arguments_raise(arguments: dict[str, Any], message: str) -> None:
    call: dict[str, Any] = {"max_lr": 0.1, "total_steps": 100, **arguments}
    with pytest.raises(ValueError, match=message):
        sch.torch_one_cycle(**call)


def test_bool_three_phase_required() -> None:
    with pytest.raises(TypeError, match="three_phase must be a bool, got 1"):
        sch.torch_one_cycle(0.1, 100, three_phase=1)  # type: ignore[arg-type]


@given(strategies.torch_one_cycles())
def test_recipe_properties(curves: dict[str, sch.Schedule]) -> None:
    for schedule in curves.values():
        assert_recipe_properties(schedule)


def test_holds_last_value_past_end() -> None:
    """torch extrapolates at step T and raises after; lrkit holds step T - 1."""
    curves = sch.torch_one_cycle(0.1, 50, anneal_strategy="linear")
    assert curves["lr"](50) == curves["lr"](49)
    assert curves["lr"](10_000) == curves["lr"](49)
    assert curves["momentum"](10_000) == curves["momentum"](49)


def test_peak_and_end_at_torch_steps() -> None:
    """With T = 100 the peak is at step 29 and the final value at step 99."""
    curves = sch.torch_one_cycle(1.0, 100)
    lr = curves["lr"](np.arange(100))
    assert lr.argmax() == 29
    assert lr[29] == 1.0
    assert math.isclose(lr[99], 1.0 / 25.0 / 1e4, rel_tol=1e-12)
    assert curves["momentum"](29) == 0.85


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_param_scheduler_replays_torch(optimizer: str) -> None:
    """lrkit's ParamScheduler driven by the recipe writes torch's values."""
    torch = require("torch")
    adapter = require("lrkit.adapters.torch")
    total_steps = 300
    kwargs = {"pct_start": 0.4, "three_phase": True, "anneal_strategy": "linear"}
    expected_lrs, expected_momenta = _run_torch(total_steps, kwargs, optimizer)

    groups = [
        {"params": [torch.nn.Parameter(torch.ones(2))], "lr": max_lr}
        for max_lr in MAX_LRS
    ]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(groups, lr=0.1)
    curves = [sch.torch_one_cycle(max_lr, total_steps, **kwargs) for max_lr in MAX_LRS]
    scheduler = adapter.ParamScheduler(
        opt,
        lr=[group_curves["lr"] for group_curves in curves],
        momentum=[group_curves["momentum"] for group_curves in curves],
        lr_scale=[1.0, 1.0],
    )
    for step in range(total_steps):
        if step:
            opt.step()
            scheduler.step()
        for index, group in enumerate(opt.param_groups):
            momentum = group["momentum"] if optimizer == "sgd" else group["betas"][0]
            assert group["lr"] == expected_lrs[step][index], (step, index)
            assert momentum == expected_momenta[step][index], (step, index)


@given(
    pct_start=strategies.outside_unit,
    total_steps=st.integers(min_value=1, max_value=10**6),
)
def test_pct_start_outside_unit_raises(pct_start: float, total_steps: int) -> None:
    """torch rejects these too; lrkit's message names the parameter and value."""
    with pytest.raises(ValueError) as error:
        sch.torch_one_cycle(0.1, total_steps, pct_start=pct_start)
    assert "pct_start" in str(error.value)
    assert repr(pct_start) in str(error.value)


@given(total_steps=st.integers(max_value=0))
def test_non_positive_total_steps_raises(total_steps: int) -> None:
    with pytest.raises(
        ValueError, match=f"total_steps must be >= 1, got {total_steps}"
    ):
        sch.torch_one_cycle(0.1, total_steps)
