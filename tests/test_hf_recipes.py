"""Hugging Face multipliers against transformers' own schedulers, step by step."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies
from tests._optional import require
from tests._properties import assert_recipe_properties

BASE_LRS = (1.0, 0.3)


def _run_hf(
    name: str, steps: int, kwargs: dict[str, Any], default_lr: float = 1.0
) -> list[list[float]]:
    """Step a transformers scheduler on a real SGD with two param groups.

    The first group uses the optimizer's default lr, the second 0.3. Returns
    each group's lr at steps 0 to ``steps - 1``.
    """
    torch = require("torch")
    optimization = require("transformers.optimization")
    groups = [
        {"params": [torch.nn.Parameter(torch.ones(2))]},
        {"params": [torch.nn.Parameter(torch.ones(2))], "lr": BASE_LRS[1]},
    ]
    optimizer = torch.optim.SGD(groups, lr=default_lr)
    scheduler = getattr(optimization, name)(optimizer, **kwargs)
    lrs = []
    for step in range(steps):
        if step:
            optimizer.step()
            scheduler.step()
        lrs.append([group["lr"] for group in optimizer.param_groups])
    return lrs


def _assert_matches_hf(
    schedule: sch.Schedule, hf_lrs: list[list[float]], default_lr: float = 1.0
) -> None:
    multipliers = schedule(np.arange(len(hf_lrs)))
    for group, base_lr in enumerate((default_lr, BASE_LRS[1])):
        for step, row in enumerate(hf_lrs):
            expected = row[group]
            actual = base_lr * multipliers[step]
            assert actual == expected, (
                f"group {group}, step {step}: transformers {expected!r}, "
                f"lrkit {actual!r}"
            )


RUNS = [(0, 1), (0, 10), (1, 2), (3, 10), (10, 10), (12, 10), (37, 500)]
RUN_IDS = [f"w{w}-T{t}" for w, t in RUNS]

Builder = Callable[..., sch.Schedule]

CASES: list[tuple[str, Builder, dict[str, Any]]] = [
    ("get_linear_schedule_with_warmup", sch.hf_linear_schedule_with_warmup, {}),
    ("get_cosine_schedule_with_warmup", sch.hf_cosine_schedule_with_warmup, {}),
    (
        "get_cosine_schedule_with_warmup",
        sch.hf_cosine_schedule_with_warmup,
        {"num_cycles": 1.75},
    ),
    (
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        sch.hf_cosine_with_hard_restarts_schedule_with_warmup,
        {"num_cycles": 3},
    ),
    (
        "get_cosine_with_min_lr_schedule_with_warmup",
        sch.hf_cosine_with_min_lr_schedule_with_warmup,
        {"min_lr_rate": 0.05},
    ),
    (
        "get_cosine_with_min_lr_schedule_with_warmup",
        sch.hf_cosine_with_min_lr_schedule_with_warmup,
        {"min_lr_rate": 0.3, "num_cycles": 1.0},
    ),
]


@pytest.mark.parametrize(("warmup", "total"), RUNS, ids=RUN_IDS)
@pytest.mark.parametrize(
    ("hf_name", "builder", "kwargs"),
    CASES,
    ids=[f"{name[4:]}-{kwargs}" for name, _, kwargs in CASES],
)
def test_run_matches_transformers(
    hf_name: str, builder: Builder, kwargs: dict[str, Any], warmup: int, total: int
) -> None:
    hf_lrs = _run_hf(
        hf_name,
        total,
        {"num_warmup_steps": warmup, "num_training_steps": total, **kwargs},
    )
    _assert_matches_hf(builder(warmup, total, **kwargs), hf_lrs)


POLYNOMIALS = [(1e-7, 1.0, 1.0), (0.0, 2.0, 1.0), (0.01, 0.5, 0.5), (1e-4, 3.3, 2e-3)]


@pytest.mark.parametrize(("warmup", "total"), RUNS, ids=RUN_IDS)
@pytest.mark.parametrize(
    ("lr_end", "power", "default_lr"),
    POLYNOMIALS,
    ids=[f"end{e}-power{p}-lr{lr}" for e, p, lr in POLYNOMIALS],
)
def test_polynomial_matches_transformers(
    lr_end: float, power: float, default_lr: float, warmup: int, total: int
) -> None:
    """The multiplier divides by the optimizer's default lr, as transformers does."""
    hf_lrs = _run_hf(
        "get_polynomial_decay_schedule_with_warmup",
        total,
        {
            "num_warmup_steps": warmup,
            "num_training_steps": total,
            "lr_end": lr_end,
            "power": power,
        },
        default_lr=default_lr,
    )
    schedule = sch.hf_polynomial_decay_schedule_with_warmup(
        warmup, total, lr_end, power, lr_init=default_lr
    )
    _assert_matches_hf(schedule, hf_lrs, default_lr)


@pytest.mark.parametrize("warmup", [0, 1, 7, 100])
def test_constant_with_warmup_matches_transformers(warmup: int) -> None:
    hf_lrs = _run_hf(
        "get_constant_schedule_with_warmup", 300, {"num_warmup_steps": warmup}
    )
    _assert_matches_hf(sch.hf_constant_schedule_with_warmup(warmup), hf_lrs)


@pytest.mark.parametrize(
    ("warmup", "timescale"),
    [(0, None), (10, None), (10, 3), (1, 1_000), (0, 7)],
    ids=["default", "warmup-scale", "short-scale", "long-scale", "no-warmup"],
)
def test_inverse_sqrt_matches_transformers(warmup: int, timescale: int | None) -> None:
    hf_lrs = _run_hf(
        "get_inverse_sqrt_schedule",
        400,
        {"num_warmup_steps": warmup, "timescale": timescale},
    )
    _assert_matches_hf(sch.hf_inverse_sqrt_schedule(warmup, timescale), hf_lrs)


WSDS = [
    {"num_warmup_steps": 5, "num_decay_steps": 20, "num_training_steps": 60},
    {
        "num_warmup_steps": 7,
        "num_decay_steps": 13,
        "num_stable_steps": 4,
        "warmup_type": "cosine",
        "decay_type": "1-sqrt",
        "min_lr_ratio": 0.1,
    },
    {
        "num_warmup_steps": 9,
        "num_decay_steps": 30,
        "num_training_steps": 50,
        "warmup_type": "1-sqrt",
        "decay_type": "linear",
        "min_lr_ratio": 0.25,
    },
    {
        "num_warmup_steps": 0,
        "num_decay_steps": 40,
        "num_training_steps": 41,
        "decay_type": "cosine",
        "num_cycles": 1.5,
        "min_lr_ratio": 0.01,
    },
    {"num_warmup_steps": 3, "num_decay_steps": 0, "num_stable_steps": 5},
    {
        "num_warmup_steps": 2,
        "num_decay_steps": 4,
        "num_training_steps": 30,
        "num_stable_steps": 3,
    },
]


@pytest.mark.parametrize("kwargs", WSDS, ids=[f"wsd{i}" for i in range(len(WSDS))])
def test_wsd_matches_transformers(kwargs: dict[str, Any]) -> None:
    schedule = sch.hf_wsd_schedule(**kwargs)
    both_lengths = "num_training_steps" in kwargs and "num_stable_steps" in kwargs
    expect_warning: contextlib.AbstractContextManager[Any] = (
        pytest.warns(UserWarning, match="num_stable_steps will be used")
        if both_lengths
        else contextlib.nullcontext()
    )
    with expect_warning:
        hf_lrs = _run_hf("get_wsd_schedule", schedule.length or 0, kwargs)
    _assert_matches_hf(schedule, hf_lrs)


def _hf_lambda(name: str, step: int, **kwargs: Any) -> float:
    """Return transformers' multiplier at one step, from its scheduler."""
    return _run_hf(name, step + 1, kwargs)[step][0]


def test_cosine_rises_past_end_in_transformers_only() -> None:
    """transformers' cosine climbs after the run; lrkit holds step T - 1."""
    schedule = sch.hf_cosine_schedule_with_warmup(10, 100)
    kwargs = {"num_warmup_steps": 10, "num_training_steps": 100}
    hf_at_end = _hf_lambda("get_cosine_schedule_with_warmup", 100, **kwargs)
    hf_later = _hf_lambda("get_cosine_schedule_with_warmup", 150, **kwargs)
    assert hf_at_end == 0.0
    assert hf_later > 0.4
    assert schedule(100) == schedule(99)
    assert schedule(150) == schedule(99)
    assert 0.0 < schedule(99) < 1e-3


def test_linear_holds_last_run_value() -> None:
    """transformers reaches 0 at step T; lrkit holds the value of step T - 1."""
    schedule = sch.hf_linear_schedule_with_warmup(2, 6)
    assert schedule(5) == 0.25
    assert schedule(6) == 0.25
    assert schedule(60) == 0.25


def test_first_step_is_zero_with_warmup() -> None:
    assert sch.hf_linear_schedule_with_warmup(5, 50)(0) == 0.0
    assert sch.hf_cosine_schedule_with_warmup(5, 50)(0) == 0.0
    assert sch.hf_inverse_sqrt_schedule(5)(0) == 0.0
    assert sch.hf_constant_schedule_with_warmup(5)(0) == 0.0


def test_wsd_warmup_starts_at_min_lr_ratio() -> None:
    schedule = sch.hf_wsd_schedule(4, 4, num_stable_steps=2, min_lr_ratio=0.2)
    assert schedule(0) == 0.2
    assert schedule(4) == 1.0
    assert schedule(5) == 1.0


@given(strategies.hf_schedules())
def test_recipe_properties(schedule: sch.Schedule) -> None:
    assert_recipe_properties(schedule)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: sch.hf_linear_schedule_with_warmup(-1, 10),
            ValueError,
            "num_warmup_steps must be >= 0, got -1",
        ),
        (
            lambda: sch.hf_linear_schedule_with_warmup(0, 0),
            ValueError,
            "num_training_steps must be >= 1, got 0",
        ),
        (
            lambda: sch.hf_cosine_schedule_with_warmup(0, 10, -0.5),
            ValueError,
            "num_cycles must be >= 0, got -0.5",
        ),
        (
            lambda: sch.hf_cosine_with_hard_restarts_schedule_with_warmup(0, 10, 0),
            ValueError,
            "num_cycles must be >= 1, got 0",
        ),
        (
            lambda: sch.hf_cosine_with_hard_restarts_schedule_with_warmup(0, 10, 1.5),
            TypeError,
            r"num_cycles must be an integer, got 1.5 \(float\)",
        ),
        (
            lambda: sch.hf_cosine_with_min_lr_schedule_with_warmup(
                0, 10, min_lr_rate=1.5
            ),
            ValueError,
            r"min_lr_rate must be in \[0, 1\], got 1.5",
        ),
        (
            lambda: sch.hf_polynomial_decay_schedule_with_warmup(
                0, 10, lr_end=0.1, lr_init=0.1
            ),
            ValueError,
            "lr_end must be smaller than lr_init, got lr_end=0.1 and lr_init=0.1",
        ),
        (
            lambda: sch.hf_polynomial_decay_schedule_with_warmup(
                0, 10, power=-1.0, lr_init=0.1
            ),
            ValueError,
            "power must be >= 0, got -1.0",
        ),
        (
            lambda: sch.hf_inverse_sqrt_schedule(0, 0),
            ValueError,
            "timescale must be >= 1, got 0",
        ),
        (
            lambda: sch.hf_wsd_schedule(2, 3),
            ValueError,
            "num_training_steps or num_stable_steps must be given",
        ),
        (
            lambda: sch.hf_wsd_schedule(5, 6, num_training_steps=10),
            ValueError,
            "num_warmup_steps=5, num_decay_steps=6 and num_training_steps=10",
        ),
        (
            lambda: sch.hf_wsd_schedule(1, 1, 5, decay_type="exp"),
            ValueError,
            "decay_type must be one of 'linear', 'cosine', '1-sqrt', got 'exp'",
        ),
        (
            lambda: sch.hf_wsd_schedule(1, 1, 5, min_lr_ratio=-0.1),
            ValueError,
            r"min_lr_ratio must be in \[0, 1\], got -0.1",
        ),
    ],
    ids=[
        "negative-warmup",
        "zero-run",
        "negative-cycles",
        "zero-restarts",
        "fractional-restarts",
        "min-lr-rate-above-one",
        "lr-end-not-below-init",
        "negative-power",
        "zero-timescale",
        "wsd-no-length",
        "wsd-too-short",
        "wsd-unknown-decay",
        "wsd-negative-ratio",
    ],
)
def test_invalid_arguments_raise(
    build: Callable[[], sch.Schedule], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()


def test_polynomial_power_one_is_the_line() -> None:
    """With power 1 the decay is linear from 1 to lr_end / lr_init at step T."""
    schedule = sch.hf_polynomial_decay_schedule_with_warmup(
        0, 4, lr_end=0.2, lr_init=1.0
    )
    expected = [1.0, 0.8, 0.6, 0.4]
    for step, value in enumerate(expected):
        assert math.isclose(schedule(step), value, rel_tol=1e-15), step


def test_param_scheduler_replays_transformers() -> None:
    """In relative mode, ParamScheduler with the multiplier writes HF's lrs."""
    torch = require("torch")
    adapter = require("lrkit.adapters.torch")
    kwargs = {"num_warmup_steps": 20, "num_training_steps": 200, "num_cycles": 0.6}
    expected = _run_hf("get_cosine_schedule_with_warmup", 200, kwargs)

    groups = [
        {"params": [torch.nn.Parameter(torch.ones(2))]},
        {"params": [torch.nn.Parameter(torch.ones(2))], "lr": BASE_LRS[1]},
    ]
    optimizer = torch.optim.SGD(groups, lr=BASE_LRS[0])
    scheduler = adapter.ParamScheduler(
        optimizer, lr=sch.hf_cosine_schedule_with_warmup(**kwargs), relative=True
    )
    for step in range(200):
        if step:
            optimizer.step()
            scheduler.step()
        actual = [group["lr"] for group in optimizer.param_groups]
        assert actual == expected[step], f"step {step}"


@given(
    warmup=st.integers(max_value=-1),
    total=st.integers(max_value=0),
)
def test_negative_lengths_raise(warmup: int, total: int) -> None:
    """Each builder names the first invalid length and the value received."""
    with pytest.raises(
        ValueError, match=f"num_warmup_steps must be >= 0, got {warmup}"
    ):
        sch.hf_linear_schedule_with_warmup(warmup, 10)
    with pytest.raises(
        ValueError, match=f"num_training_steps must be >= 1, got {total}"
    ):
        sch.hf_cosine_schedule_with_warmup(0, total)
    with pytest.raises(
        ValueError, match=f"num_warmup_steps must be >= 0, got {warmup}"
    ):
        sch.hf_inverse_sqrt_schedule(warmup)
    with pytest.raises(ValueError, match=f"num_decay_steps must be >= 0, got {warmup}"):
        sch.hf_wsd_schedule(0, warmup, num_training_steps=10)
