"""Scalar evaluation: the cost of ``schedule(k)`` for one step, per recipe.

A scalar call runs the same numpy code as an array call (that is what makes
the two paths agree bit for bit), so it pays numpy's per-call overhead of a
few microseconds. The baseline is the same cosine written with the ``math``
module in pure Python. ``ParamScheduler`` does not use scalar calls on its hot
path: it evaluates blocks of steps as arrays.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import lrkit.schedules as sch
from benchmarks._timing import compare

TOTAL = 10_000
STEP = 6_543

# One example call per public builder. A builder missing here is reported in
# the results as "not benchmarked", so the page shows what it leaves out.
EXAMPLES: dict[str, Callable[[], Any]] = {
    "clip": lambda: sch.clip(sch.cosine(0.1, 0.0, TOTAL), low=1e-3),
    "constant": lambda: sch.constant(0.1),
    "cosine": lambda: sch.cosine(0.1, 0.0, TOTAL),
    "cosine_restarts": lambda: sch.cosine_restarts(0.1, 1_000, cycle_mult=2.0),
    "cyclic": lambda: sch.cyclic(0.01, 0.1, 500),
    "exponential": lambda: sch.exponential(0.1, 1e-4, TOTAL),
    "exponential_decay": lambda: sch.exponential_decay(0.1, 0.999),
    "fastai_combined_cos": lambda: sch.fastai_combined_cos(
        0.25, 4e-3, 0.1, 1e-6, TOTAL
    ),
    "fastai_flat_cos": lambda: sch.fastai_flat_cos(0.1, TOTAL),
    "fastai_one_cycle": lambda: sch.fastai_one_cycle(0.1, TOTAL),
    "flat_cos": lambda: sch.flat_cos(0.1, TOTAL),
    "hf_constant_schedule_with_warmup": lambda: sch.hf_constant_schedule_with_warmup(
        500
    ),
    "hf_cosine_schedule_with_warmup": lambda: sch.hf_cosine_schedule_with_warmup(
        500, TOTAL
    ),
    "hf_cosine_with_hard_restarts_schedule_with_warmup": lambda: (
        sch.hf_cosine_with_hard_restarts_schedule_with_warmup(500, TOTAL, 3)
    ),
    "hf_cosine_with_min_lr_schedule_with_warmup": lambda: (
        sch.hf_cosine_with_min_lr_schedule_with_warmup(500, TOTAL, min_lr_rate=0.1)
    ),
    "hf_inverse_sqrt_schedule": lambda: sch.hf_inverse_sqrt_schedule(500),
    "hf_linear_schedule_with_warmup": lambda: sch.hf_linear_schedule_with_warmup(
        500, TOTAL
    ),
    "hf_polynomial_decay_schedule_with_warmup": lambda: (
        sch.hf_polynomial_decay_schedule_with_warmup(500, TOTAL, power=2.0, lr_init=0.1)
    ),
    "hf_wsd_schedule": lambda: sch.hf_wsd_schedule(500, 2_000, TOTAL),
    "inverse_sqrt": lambda: sch.inverse_sqrt(0.1, 500.0),
    "join": lambda: sch.join([sch.linear(0.0, 0.1, 500), sch.cosine(0.1, 0, 9_500)]),
    "linear": lambda: sch.linear(0.1, 0.0, TOTAL),
    "multi_step": lambda: sch.multi_step(0.1, [3_000, 6_000, 9_000]),
    "one_cycle": lambda: sch.one_cycle(0.1, TOTAL),
    "polynomial": lambda: sch.polynomial(0.1, 0.0, TOTAL, power=2.0),
    "repeat": lambda: sch.repeat(sch.cosine(0.1, 0.0, 1_000)),
    "scale": lambda: sch.scale(sch.cosine(0.1, 0.0, TOTAL), 0.5),
    "step_decay": lambda: sch.step_decay(0.1, 2_000),
    "torch_one_cycle": lambda: sch.torch_one_cycle(0.1, TOTAL),
    "warmup": lambda: sch.warmup(sch.cosine(0.1, 0.0, TOTAL - 500), 500),
    "warmup_stable_decay": lambda: sch.warmup_stable_decay(0.1, 500, 7_500, 2_000),
}


def _python_cosine() -> float:
    progress = STEP / (TOTAL - 1)
    weight = 0.5 * (1.0 + math.cos(math.pi * progress))
    return 0.1 * weight


def _builders() -> list[str]:
    return sorted(
        name
        for name in sch.__all__
        if name[0].islower() and callable(getattr(sch, name))
    )


def run(*, rounds: int, round_seconds: float) -> dict[str, Any]:
    """Return the median time of one scalar call for every builder."""
    candidates: dict[str, Callable[[], object]] = {"python_math_cosine": _python_cosine}
    missing = []
    for name in _builders():
        if name not in EXAMPLES:
            missing.append(name)
            continue
        built = EXAMPLES[name]()
        schedules = built.items() if isinstance(built, dict) else [("", built)]
        for key, schedule in schedules:
            label = f"{name}[{key}]" if key else name
            candidates[label] = lambda schedule=schedule: schedule(STEP)
    timings = compare(candidates, rounds=rounds, round_seconds=round_seconds)
    baseline = timings["python_math_cosine"].median_ns
    return {
        "step": STEP,
        "median_ns": {name: t.median_ns for name, t in timings.items()},
        "over_python_math_cosine": {
            name: t.median_ns / baseline for name, t in timings.items()
        },
        "not_benchmarked": missing,
        "signatures": {
            name: str(inspect.signature(getattr(sch, name))) for name in _builders()
        },
    }
