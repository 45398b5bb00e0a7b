"""Per-step overhead of scheduling lr and momentum across many param groups.

For each optimizer (SGD with momentum, AdamW) and group count, one call of
each candidate is one training step's worth of scheduling:
- ``bare_loop``: a Python loop assigning precomputed lr and momentum floats to
  every group, the physical limit (AdamW builds a new betas tuple per group);
- ``lrkit``: ``ParamScheduler.step()`` with lrkit's one-cycle lr and momentum;
- ``torch_onecycle``: ``OneCycleLR.step()`` with momentum cycling;
- ``torch_cosine`` and ``torch_lambda``: ``CosineAnnealingLR.step()`` and
  ``LambdaLR.step()``, which schedule the lr only.
Tensor-valued groups (lr and betas as 0-dim tensors, as compiled optimizers
use) are timed for lrkit alone, without a target.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from benchmarks._timing import compare
from lrkit.adapters.torch import ParamScheduler
from lrkit.schedules import one_cycle

TOTAL = 10_000_000
MAX_LR = 0.1


def _optimizer(kind: str, groups: int, *, tensor_values: bool = False) -> Any:
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(groups)]
    lr: Any = torch.tensor(MAX_LR) if tensor_values else MAX_LR
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    betas: Any = (
        (torch.tensor(0.9), torch.tensor(0.999)) if tensor_values else (0.9, 0.999)
    )
    return torch.optim.AdamW(params, lr=lr, betas=betas, foreach=False)


def _bare_loop(kind: str, groups: int) -> Callable[[], object]:
    optimizer = _optimizer(kind, groups)
    curves = one_cycle(MAX_LR, 4096)
    lrs = curves["lr"](np.arange(4096)).tolist()
    moms = curves["momentum"](np.arange(4096)).tolist()
    param_groups = optimizer.param_groups
    state = {"step": 0}

    def sgd_step() -> None:
        k = state["step"] = (state["step"] + 1) & 4095
        lr, mom = lrs[k], moms[k]
        for group in param_groups:
            group["lr"] = lr
            group["momentum"] = mom

    def adam_step() -> None:
        k = state["step"] = (state["step"] + 1) & 4095
        lr, mom = lrs[k], moms[k]
        for group in param_groups:
            group["lr"] = lr
            group["betas"] = (mom, group["betas"][1])

    return sgd_step if kind == "sgd" else adam_step


def _torch(kind: str, groups: int, which: str) -> Callable[[], object]:
    optimizer = _optimizer(kind, groups)
    scheduler: Any
    if which == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=MAX_LR, total_steps=10 * TOTAL, cycle_momentum=True
        )
    elif which == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=TOTAL)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda k: 0.5 * (1.0 + math.cos(math.pi * k / TOTAL))
        )
    return scheduler.step  # type: ignore[no-any-return]


def _lrkit(
    kind: str, groups: int, *, tensor_values: bool = False
) -> Callable[[], object]:
    optimizer = _optimizer(kind, groups, tensor_values=tensor_values)
    scheduler = ParamScheduler(optimizer, **one_cycle(MAX_LR, TOTAL))
    return scheduler.step


def run(
    group_counts: list[int], *, rounds: int, round_seconds: float
) -> list[dict[str, Any]]:
    """Return one row per (optimizer, group count) comparison."""
    # torch warns once per scheduler that step() ran before optimizer.step();
    # these loops time the scheduler alone, so the order does not matter.
    warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
    rows = []
    for kind in ("sgd", "adamw"):
        for groups in group_counts:
            candidates: dict[str, Callable[[], object]] = {
                "bare_loop": _bare_loop(kind, groups),
                "lrkit": _lrkit(kind, groups),
                "lrkit_tensor_values": _lrkit(kind, groups, tensor_values=True),
                "torch_onecycle": _torch(kind, groups, "onecycle"),
                "torch_cosine": _torch(kind, groups, "cosine"),
                "torch_lambda": _torch(kind, groups, "lambda"),
            }
            timings = compare(candidates, rounds=rounds, round_seconds=round_seconds)
            bare = timings["bare_loop"].median_ns
            lrkit = timings["lrkit"].median_ns
            rows.append(
                {
                    "optimizer": kind,
                    "groups": groups,
                    "median_ns": {k: t.median_ns for k, t in timings.items()},
                    "ns_per_group": {
                        k: t.median_ns / groups for k, t in timings.items()
                    },
                    "lrkit_over_bare_loop": lrkit / bare,
                    "torch_onecycle_over_lrkit": timings["torch_onecycle"].median_ns
                    / lrkit,
                }
            )
    return rows


def optimizer_step_ratio(*, rounds: int, round_seconds: float) -> dict[str, Any]:
    """Compare one scheduler step with one SGD step of a ~1M-parameter MLP."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(512, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 512)
    )
    for parameter in model.parameters():
        parameter.grad = torch.randn_like(parameter)
    groups = [{"params": list(layer.parameters())} for layer in (model[0], model[2])]
    optimizer = torch.optim.SGD(groups, lr=MAX_LR, momentum=0.9)
    scheduler = ParamScheduler(optimizer, **one_cycle(MAX_LR, TOTAL))
    timings = compare(
        {"optimizer_step": optimizer.step, "lrkit_step": scheduler.step},
        rounds=rounds,
        round_seconds=round_seconds,
    )
    parameters = sum(p.numel() for p in model.parameters())
    return {
        "parameters": parameters,
        "groups": len(groups),
        "median_ns": {k: t.median_ns for k, t in timings.items()},
        "lrkit_over_optimizer_step": timings["lrkit_step"].median_ns
        / timings["optimizer_step"].median_ns,
    }
