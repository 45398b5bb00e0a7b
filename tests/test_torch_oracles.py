"""lrkit's shapes against torch's own schedulers, stepping a real optimizer.

Each test trains a small model with SGD over two param groups of different
base lrs for a whole run. It checks every group's lr (and momentum, where
torch cycles it) at every step against the lrkit schedule for that group.
torch computes several schedulers recursively (new lr = old lr times a
ratio), so the comparison is relative, at 1e-12.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit.schedules as sch
from tests._optional import require

BASE_LRS = (0.1, 0.025)
REL = 1e-12


def _optimizer(momentum: float = 0.0) -> Any:
    """Return SGD over a small linear model, one param group per tensor."""
    torch = require("torch")
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    groups = [
        {"params": [model.weight], "lr": BASE_LRS[0]},
        {"params": [model.bias], "lr": BASE_LRS[1]},
    ]
    optimizer = torch.optim.SGD(groups, lr=BASE_LRS[0], momentum=momentum)
    optimizer.model = model
    return optimizer


def _run(optimizer: Any, scheduler: Any, steps: int) -> dict[str, np.ndarray]:
    """Train for ``steps`` steps and return each group's lr and momentum."""
    torch = require("torch")
    inputs = torch.randn(8, 4)
    targets = torch.randn(8, 1)
    shape = (steps, len(optimizer.param_groups))
    seen = {"lr": np.empty(shape), "momentum": np.empty(shape)}
    for step in range(steps):
        for key, values in seen.items():
            values[step] = [group[key] for group in optimizer.param_groups]
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(optimizer.model(inputs), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
    return seen


def _check(seen: np.ndarray, schedules: list[sch.Schedule]) -> None:
    """Assert every group's recorded value matches its lrkit schedule."""
    steps = np.arange(seen.shape[0])
    for group, schedule in enumerate(schedules):
        expected = schedule(steps)
        actual = seen[:, group]
        mismatch = ~np.isclose(actual, expected, rtol=REL, atol=0.0)
        if mismatch.any():
            step = int(np.flatnonzero(mismatch)[0])
            pytest.fail(
                f"group {group}, step {step}: torch {actual[step].item()!r}, "
                f"lrkit {expected[step].item()!r}"
            )


Builder = Callable[[float], sch.Schedule]


def _compare(make_scheduler: Callable[[Any], Any], build: Builder, steps: int) -> None:
    optimizer = _optimizer()
    seen = _run(optimizer, make_scheduler(optimizer), steps)
    _check(seen["lr"], [build(base) for base in BASE_LRS])


def test_cosine_annealing_lr() -> None:
    torch = require("torch")
    t_max, eta_min = 1_500, 1e-3
    _compare(
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, t_max, eta_min),
        lambda base: sch.cosine(base, eta_min, t_max + 1),
        t_max + 1,
    )


def test_linear_lr() -> None:
    torch = require("torch")
    scheduler = torch.optim.lr_scheduler.LinearLR
    _compare(
        lambda opt: scheduler(opt, start_factor=0.2, end_factor=0.9, total_iters=700),
        lambda base: sch.scale(sch.linear(0.2, 0.9, 701), base),
        1_000,
    )


def test_exponential_lr() -> None:
    torch = require("torch")
    _compare(
        lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.997),
        lambda base: sch.exponential_decay(base, 0.997),
        2_000,
    )


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5], ids=["power-1", "power-2", "sqrt"])
def test_polynomial_lr(power: float) -> None:
    torch = require("torch")
    scheduler = torch.optim.lr_scheduler.PolynomialLR
    _compare(
        lambda opt: scheduler(opt, total_iters=800, power=power),
        lambda base: sch.polynomial(base, 0.0, 801, power=power),
        1_000,
    )


def test_step_lr() -> None:
    torch = require("torch")
    _compare(
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=150, gamma=0.5),
        lambda base: sch.step_decay(base, 150, gamma=0.5),
        2_000,
    )


def test_multi_step_lr() -> None:
    torch = require("torch")
    milestones = [100, 250, 251, 900]
    scheduler = torch.optim.lr_scheduler.MultiStepLR
    _compare(
        lambda opt: scheduler(opt, milestones=milestones, gamma=0.3),
        lambda base: sch.multi_step(base, milestones, gamma=0.3),
        1_200,
    )


@pytest.mark.parametrize("t_mult", [1, 2], ids=["t-mult-1", "t-mult-2"])
def test_cosine_annealing_warm_restarts(t_mult: int) -> None:
    torch = require("torch")
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
    _compare(
        lambda opt: scheduler(opt, T_0=70, T_mult=t_mult, eta_min=2e-3),
        lambda base: sch.cosine_restarts(base, 70, cycle_mult=t_mult, end_value=2e-3),
        2_000,
    )


@pytest.mark.parametrize(
    ("mode", "gamma"),
    [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)],
    ids=["triangular", "triangular2", "exp-range"],
)
def test_cyclic_lr_and_momentum(mode: str, gamma: float) -> None:
    torch = require("torch")
    max_lrs = [0.5, 0.2]
    arguments: dict[str, Any] = {
        "step_size_up": 130,
        "step_size_down": 70,
        "mode": mode,
        "gamma": gamma,
        "base_momentum": 0.8,
        "max_momentum": 0.95,
    }

    def build(opt: Any) -> Any:
        return torch.optim.lr_scheduler.CyclicLR(
            opt, list(BASE_LRS), max_lrs, **arguments
        )

    def cycle(low: float, high: float) -> sch.Schedule:
        return sch.cyclic(low, high, 130, 70, mode=mode, gamma=gamma)

    optimizer = _optimizer(momentum=0.9)
    seen = _run(optimizer, build(optimizer), 2_000)
    lrs = [cycle(low, high) for low, high in zip(BASE_LRS, max_lrs, strict=True)]
    _check(seen["lr"], lrs)
    _check(seen["momentum"], [cycle(0.95, 0.8), cycle(0.95, 0.8)])
