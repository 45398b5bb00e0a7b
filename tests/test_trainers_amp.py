"""ParamScheduler in a mixed-precision loop where GradScaler skips steps."""

from __future__ import annotations

import math

import torch

from lrkit.adapters.torch import ParamScheduler
from tests._trainers import (
    INIT_SCALE,
    SCHEDULES,
    TOTAL_STEPS,
    expected_row,
    group_values,
    two_group_sgd,
)

INJECTED_INF_BATCH = 12
BATCHES = TOTAL_STEPS + 8


def test_gradscaler_skipped_steps_hold_schedule() -> None:
    """The schedule advances on the optimizer steps taken, never on skipped ones."""
    torch.manual_seed(0)
    body = torch.nn.Linear(4, 8)
    head = torch.nn.Linear(8, 1)
    model = torch.nn.Sequential(body, torch.nn.ReLU(), head)
    optimizer = two_group_sgd(body, head)
    scheduler = ParamScheduler(optimizer, **SCHEDULES)
    scaler = torch.amp.GradScaler("cpu", init_scale=INIT_SCALE)
    inputs = torch.randn(16, 4)
    targets = torch.randn(16, 1)
    skipped: list[int] = []
    taken_steps = 0

    for batch in range(BATCHES):
        assert group_values(optimizer) == expected_row(taken_steps), f"batch {batch}"
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.float16):
            loss = torch.nn.functional.mse_loss(model(inputs), targets)
        scaler.scale(loss).backward()
        if batch == INJECTED_INF_BATCH:
            head.weight.grad[0, 0] = math.inf
        weights = head.weight.detach().clone()
        scale = scaler.get_scale()

        scaler.step(optimizer)
        scaler.update()
        scheduler.step(skipped=scaler.get_scale() < scale)

        if torch.equal(head.weight, weights):
            skipped.append(batch)
        else:
            taken_steps += 1
        assert scheduler.last_epoch == taken_steps, f"batch {batch}"

    assert skipped[0] == 0
    assert INJECTED_INF_BATCH - 1 not in skipped
    assert INJECTED_INF_BATCH in skipped
    assert scaler.get_scale() == INIT_SCALE / 2 ** len(skipped)
    assert scheduler.last_epoch == BATCHES - len(skipped)
