"""Shared pieces of the trainer integration tests: schedules, records, checks.

Both trainers run the same schedules on an SGD optimizer with two param
groups, so each test can compare what a trainer wrote into the groups with
the schedules evaluated at each optimizer step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from lrkit.schedules import Schedule, one_cycle

# 10 samples in batches of 2 make 5 batches per epoch. With 2 batches per
# optimizer step that is 3 optimizer steps per epoch: both trainers also step
# after the last, single batch of an epoch. 6 epochs make 18 steps.
SAMPLES = 10
BATCH_SIZE = 2
ACCUMULATION = 2
STEPS_PER_EPOCH = 3
EPOCHS = 6
TOTAL_STEPS = EPOCHS * STEPS_PER_EPOCH
BODY = one_cycle(max_lr=0.1, total_steps=TOTAL_STEPS)
HEAD = one_cycle(max_lr=0.01, total_steps=TOTAL_STEPS, momentum=(0.9, 0.8))

# One schedule per param group for each hyperparameter: the body group first.
SCHEDULES: dict[str, list[Schedule]] = {
    "lr": [BODY["lr"], HEAD["lr"]],
    "momentum": [BODY["momentum"], HEAD["momentum"]],
}

Row = list[tuple[float, float]]

# float16 gradients overflow above 65504, so a GradScaler that starts at 2**20
# skips the first steps, halving its scale each time, until they fit.
INIT_SCALE = 2.0**20

# Resume at an epoch boundary and one optimizer step into the next epoch.
resume_steps = pytest.mark.parametrize(
    "resume_step",
    [2 * STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH + 1],
    ids=["epoch_end", "mid_epoch"],
)


def two_group_sgd(body: torch.nn.Module, head: torch.nn.Module) -> torch.optim.SGD:
    """Build SGD with momentum over two param groups: ``body``, then ``head``."""
    groups = [{"params": body.parameters()}, {"params": head.parameters()}]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def group_values(optimizer: torch.optim.Optimizer) -> Row:
    """Read each group's (lr, momentum) as plain floats."""
    return [
        (float(group["lr"]), float(group["momentum"]))
        for group in optimizer.param_groups
    ]


def expected_row(step: int) -> Row:
    """Evaluate each group's (lr, momentum) schedules at ``step``."""
    lrs = [schedule(step) for schedule in SCHEDULES["lr"]]
    momenta = [schedule(step) for schedule in SCHEDULES["momentum"]]
    return list(zip(lrs, momenta, strict=True))


def schedule_rows(steps: range) -> dict[int, Row]:
    """Evaluate the schedules at each of ``steps``."""
    return {step: expected_row(step) for step in steps}


def assert_rows_equal(
    actual: dict[int, Row], expected: dict[int, Row], steps: range
) -> None:
    """Check that ``actual`` has exactly ``steps``, each equal to ``expected``."""
    assert sorted(actual) == list(steps)
    for step in steps:
        assert step in expected, f"step {step} is missing from the expected rows"
        for group, (got, want) in enumerate(
            zip(actual[step], expected[step], strict=True)
        ):
            assert got == want, (
                f"step {step}, group {group}: expected (lr, momentum) {want}, got {got}"
            )


class StepCounter:
    """Count the optimizer steps a trainer actually takes, with a post-step hook."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.count = 0
        optimizer.register_step_post_hook(self._count)

    def _count(self, optimizer: torch.optim.Optimizer, *hook_args: Any) -> None:
        self.count += 1


def spy_torch_load(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record the file name and ``weights_only`` flag of every ``torch.load``."""
    calls: list[tuple[str, Any]] = []
    real_load = torch.load

    def recording_load(source: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(source, (str, os.PathLike)):
            name = Path(source).name
        else:
            name = Path(getattr(source, "path", getattr(source, "name", ""))).name
        calls.append((name, kwargs.get("weights_only")))
        return real_load(source, *args, **kwargs)

    monkeypatch.setattr(torch, "load", recording_load)
    return calls
