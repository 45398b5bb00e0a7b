"""Splitting a model into param groups: time per parameter tensor.

The model is a stack of small blocks (Linear and LayerNorm, four tensors per
block). ``param_groups(model)`` splits it by top-level children, with no-decay
sibling groups for the biases and norm weights. The baseline is a bare walk
over ``model.named_parameters()``, which any splitter has to do at least once.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmarks._timing import compare
from lrkit.adapters.torch import param_groups


def _model(tensors: int) -> torch.nn.Module:
    blocks = [
        torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
        for _ in range(max(1, tensors // 4))
    ]
    return torch.nn.Sequential(*blocks)


def run(sizes: list[int], *, rounds: int, round_seconds: float) -> list[dict[str, Any]]:
    """Return one row per model size."""
    rows = []
    for size in sizes:
        model = _model(size)
        tensors = sum(1 for _ in model.parameters())
        timings = compare(
            {
                "named_parameters_walk": lambda model=model: list(
                    model.named_parameters()
                ),
                "param_groups": lambda model=model: param_groups(model),
            },
            rounds=rounds,
            round_seconds=round_seconds,
        )
        rows.append(
            {
                "tensors": tensors,
                "median_ns": {k: t.median_ns for k, t in timings.items()},
                "ns_per_tensor": {k: t.median_ns / tensors for k, t in timings.items()},
                "param_groups_over_walk": timings["param_groups"].median_ns
                / timings["named_parameters_walk"].median_ns,
            }
        )
    return rows
