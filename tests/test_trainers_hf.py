"""ParamScheduler inside the Hugging Face Trainer: stepping and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from lrkit.adapters.torch import ParamScheduler
from tests._optional import require
from tests._trainers import (
    ACCUMULATION,
    BATCH_SIZE,
    SAMPLES,
    SCHEDULES,
    TOTAL_STEPS,
    Row,
    StepCounter,
    assert_rows_equal,
    group_values,
    resume_steps,
    schedule_rows,
    spy_torch_load,
    two_group_sgd,
)

require("accelerate")
transformers = require("transformers")


class TinyModel(torch.nn.Module):
    """Two linear layers whose forward returns the loss, as the Trainer expects."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        outputs = self.head(torch.relu(self.body(inputs)))
        return {"loss": torch.nn.functional.mse_loss(outputs, labels)}


class RandomRows(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(SAMPLES, 4, generator=generator)
        self.labels = torch.randn(SAMPLES, 1, generator=generator)

    def __len__(self) -> int:
        return SAMPLES

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"inputs": self.inputs[index], "labels": self.labels[index]}


class Recorder(transformers.TrainerCallback):  # type: ignore[misc]
    """Record each group's values before each optimizer step, keyed by step."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}

    def on_pre_optimizer_step(
        self, args: Any, state: Any, control: Any, **kwargs: Any
    ) -> None:
        self.rows[state.global_step] = group_values(kwargs["optimizer"])


def train(
    output_dir: Path, save: bool = False, resume: Path | None = None
) -> tuple[Recorder, StepCounter, Any]:
    """Train ``TinyModel`` for ``TOTAL_STEPS`` optimizer steps and record its values."""
    model = TinyModel()
    optimizer = two_group_sgd(model.body, model.head)
    scheduler = ParamScheduler(optimizer, **SCHEDULES)
    recorder = Recorder()
    counter = StepCounter(optimizer)
    args = transformers.TrainingArguments(
        output_dir=str(output_dir),
        max_steps=TOTAL_STEPS,
        per_device_train_batch_size=BATCH_SIZE,
        gradient_accumulation_steps=ACCUMULATION,
        save_strategy="steps" if save else "no",
        save_steps=1,
        logging_strategy="steps",
        logging_steps=1,
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=RandomRows(),
        optimizers=(optimizer, scheduler),
        callbacks=[recorder],
    )
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    return recorder, counter, trainer


def test_hf_steps_once_per_optimizer_step(tmp_path: Path) -> None:
    """With 2 batches per optimizer step, the schedule follows optimizer steps."""
    recorder, counter, trainer = train(tmp_path)

    assert counter.count == TOTAL_STEPS
    assert trainer.lr_scheduler.last_epoch == TOTAL_STEPS
    steps = range(TOTAL_STEPS)
    assert_rows_equal(recorder.rows, schedule_rows(steps), steps)


def test_hf_logs_schedule_lr(tmp_path: Path) -> None:
    """The Trainer logs the first group's scheduled lr of every step."""
    _, _, trainer = train(tmp_path)
    history = trainer.state.log_history

    logged = {
        entry["step"]: entry["learning_rate"]
        for entry in history
        if "learning_rate" in entry
    }

    # The Trainer reads get_last_lr()[0] between optimizer step k and the
    # scheduler's step, and logs it under the new global step k + 1.
    first_group_lr = SCHEDULES["lr"][0]
    assert logged == {step + 1: first_group_lr(step) for step in range(TOTAL_STEPS)}


@resume_steps
def test_hf_resume_matches_uninterrupted(
    tmp_path: Path, resume_step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run resumed from a checkpoint takes exactly the uninterrupted values."""
    full, _, _ = train(tmp_path / "full", save=True)

    loads = spy_torch_load(monkeypatch)
    checkpoint = tmp_path / "full" / f"checkpoint-{resume_step}"
    resumed, counter, trainer = train(tmp_path / "resumed", resume=checkpoint)

    assert ("scheduler.pt", True) in loads
    assert all(weights_only is True for _, weights_only in loads), loads
    assert counter.count == TOTAL_STEPS - resume_step
    assert_rows_equal(resumed.rows, full.rows, range(resume_step, TOTAL_STEPS))
    assert trainer.lr_scheduler.last_epoch == TOTAL_STEPS
