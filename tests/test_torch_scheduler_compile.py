"""A compiled optimizer step under ParamScheduler compiles once and never again.

A float lr or beta1 that changes every step is baked into the compiled graph
as a constant, so each new value recompiles. Tensor hyperparameters filled in
place keep the graph valid. One inductor compile takes about 10 s on a cold
cache, so this module compiles exactly once.
"""

from __future__ import annotations

import os
import shutil

import pytest

import lrkit.schedules as sch
from tests._optional import require

torch = require("torch")
from lrkit.adapters.torch import ParamScheduler  # noqa: E402


def _cpp_compiler() -> str | None:
    """Return the C++ compiler inductor would find, or None."""
    candidates = [os.environ.get("CXX", ""), "g++", "clang++", "c++"]
    for name in candidates:
        if name and shutil.which(name):
            return name
    return None


def test_one_cycle_on_compiled_adam_never_recompiles() -> None:
    if _cpp_compiler() is None:
        pytest.skip("no C++ compiler (CXX, g++, clang++ or c++) for inductor")
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=torch.tensor(0.01),
        betas=(torch.tensor(0.95), torch.tensor(0.999)),
        foreach=False,
    )
    curves = sch.one_cycle(0.01, 12, pct_start=0.4)
    scheduler = ParamScheduler(optimizer, **curves)
    group = optimizer.param_groups[0]
    inputs = torch.randn(16, 8)

    @torch.compile(backend="inductor")
    def compiled_step() -> None:
        optimizer.step()

    def train_step() -> None:
        model(inputs).sum().backward()
        compiled_step()
        optimizer.zero_grad()
        scheduler.step()

    train_step()
    frames = counters["frames"]["total"]
    graphs = counters["stats"]["unique_graphs"]
    assert graphs >= 1
    for step in range(2, 7):
        train_step()
        lr = torch.tensor(curves["lr"](step), dtype=torch.float32)
        beta1 = torch.tensor(curves["momentum"](step), dtype=torch.float32)
        assert group["lr"] == lr, f"step {step}"
        assert group["betas"][0] == beta1, f"step {step}"
        assert group["betas"][1] == torch.tensor(0.999)

    assert counters["frames"]["total"] == frames
    assert counters["stats"]["unique_graphs"] == graphs
