"""Whole-curve evaluation: one-cycle over many steps as one array call.

Candidates, for the same curve (lrkit's ``one_cycle`` with cosine phases):
- ``lrkit``: the schedules called on the whole step array;
- ``per_phase_numpy``: a hand-written numpy expression that evaluates each
  phase on its own slice of the step array, the practical limit;
- ``torch_onecycle``: stepping ``torch.optim.lr_scheduler.OneCycleLR`` once per
  step and reading the lr (and momentum) after each step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._timing import compare
from lrkit.schedules import one_cycle

MAX_LR = 0.1
PCT_START = 0.25
DIV = 25.0
FINAL_DIV = 1e5
MOMENTUM = (0.95, 0.85)


def _per_phase(steps: np.ndarray, total: int, *, momentum: bool) -> Any:
    """Evaluate the one-cycle curve phase by phase on slices of ``steps``."""
    peak = round(PCT_START * (total - 1))
    low, high, end = MAX_LR / DIV, MAX_LR, MAX_LR / FINAL_DIV
    t = steps.astype(np.float64)
    lr = np.empty(total)
    rise = 0.5 * (1.0 + np.cos(np.pi * t[: peak + 1] / peak))
    lr[: peak + 1] = high + (low - high) * rise
    fall = 0.5 * (1.0 + np.cos(np.pi * (t[peak + 1 :] - peak) / (total - 1 - peak)))
    lr[peak + 1 :] = end + (high - end) * fall
    if not momentum:
        return lr
    top, bottom = MOMENTUM
    mom = np.empty(total)
    mom[: peak + 1] = bottom + (top - bottom) * rise
    mom[peak + 1 :] = top + (bottom - top) * fall
    return lr, mom


def _torch_stepper(total: int, *, momentum: bool) -> Callable[[], object]:
    import torch

    parameter = torch.nn.Parameter(torch.zeros(1))

    def step_through() -> object:
        optimizer = torch.optim.SGD([parameter], lr=MAX_LR, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=MAX_LR,
            total_steps=total,
            pct_start=PCT_START,
            cycle_momentum=momentum,
        )
        group = optimizer.param_groups[0]
        values = []
        for _ in range(total - 1):
            optimizer.step()
            scheduler.step()
            values.append(group["lr"])
        return values

    return step_through


def _candidates(total: int, *, momentum: bool) -> dict[str, Callable[[], object]]:
    steps = np.arange(total)
    curves = one_cycle(
        MAX_LR,
        total,
        pct_start=PCT_START,
        div=DIV,
        final_div=FINAL_DIV,
        momentum=MOMENTUM,
    )
    lr, mom = curves["lr"], curves["momentum"]
    # Both sides round differently near the end of the anneal, where the value
    # is a small difference from the peak, so compare relative to the peak.
    np.testing.assert_allclose(
        lr(steps),
        _per_phase(steps, total, momentum=False),
        rtol=1e-12,
        atol=1e-12 * MAX_LR,
    )

    def lrkit() -> object:
        return (lr(steps), mom(steps)) if momentum else lr(steps)

    def per_phase() -> object:
        return _per_phase(steps, total, momentum=momentum)

    return {"lrkit": lrkit, "per_phase_numpy": per_phase}


def run(sizes: list[int], *, rounds: int, round_seconds: float) -> list[dict[str, Any]]:
    """Return one result row per (size, hyperparameters) comparison."""
    rows = []
    for total in sizes:
        for momentum in (False, True):
            timings = compare(
                _candidates(total, momentum=momentum),
                rounds=rounds,
                round_seconds=round_seconds,
            )
            # Stepping torch a million times takes seconds, so it gets fewer
            # rounds at the largest size; one call is already a long sample.
            torch_rounds = rounds if total <= 100_000 else max(3, rounds // 3)
            timings.update(
                compare(
                    {"torch_onecycle": _torch_stepper(total, momentum=momentum)},
                    rounds=torch_rounds,
                    round_seconds=1e-9,
                )
            )
            lrkit_ns = timings["lrkit"].median_ns
            rows.append(
                {
                    "steps": total,
                    "hyperparameters": "lr, momentum" if momentum else "lr",
                    "median_ns": {k: t.median_ns for k, t in timings.items()},
                    "ns_per_step": {k: t.median_ns / total for k, t in timings.items()},
                    "rounds": {k: t.rounds for k, t in timings.items()},
                    "lrkit_over_per_phase": lrkit_ns
                    / timings["per_phase_numpy"].median_ns,
                    "torch_over_lrkit": timings["torch_onecycle"].median_ns / lrkit_ns,
                }
            )
    return rows
