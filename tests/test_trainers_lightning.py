"""ParamScheduler inside PyTorch Lightning: stepping, checkpoints and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lrkit.adapters.torch import ParamScheduler
from tests._optional import require
from tests._trainers import (
    ACCUMULATION,
    BATCH_SIZE,
    EPOCHS,
    INIT_SCALE,
    SAMPLES,
    SCHEDULES,
    TOTAL_STEPS,
    Row,
    StepCounter,
    assert_rows_equal,
    expected_row,
    group_values,
    resume_steps,
    schedule_rows,
    spy_torch_load,
    two_group_sgd,
)

pl = require("lightning.pytorch")

# Lightning 2.6 calls a torch pytree helper that torch 2.13 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)`")


class TinyModule(pl.LightningModule):  # type: ignore[misc]
    """Two linear layers, each in its own param group."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 1)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inputs, targets = batch
        outputs = self.head(torch.relu(self.body(inputs)))
        return torch.nn.functional.mse_loss(outputs, targets)

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = two_group_sgd(self.body, self.head)
        self.scheduler = ParamScheduler(optimizer, **SCHEDULES)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": self.scheduler, "interval": "step"},
        }


class SkipAwareModule(TinyModule):
    """Hold the schedule on the steps that the precision plugin's GradScaler skips.

    This is the recipe from docs/integrations.md: Lightning 2.6 steps the
    scheduler after every optimizer step, skipped or not.
    """

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        self.scale_before_step = self.trainer.precision_plugin.scaler.get_scale()

    def lr_scheduler_step(self, scheduler: ParamScheduler, metric: Any) -> None:
        scale = self.trainer.precision_plugin.scaler.get_scale()
        scheduler.step(skipped=scale < self.scale_before_step)


class Recorder(pl.Callback):  # type: ignore[misc]
    """Record each group's values before each optimizer step.

    ``rows`` is keyed by Lightning's ``global_step``; ``taken_rows`` pairs the
    values with the count of optimizer steps actually taken before them.
    """

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.taken_rows: list[tuple[int, Row]] = []
        self.counter: StepCounter | None = None

    def on_fit_start(self, trainer: Any, module: Any) -> None:
        self.counter = StepCounter(trainer.optimizers[0])

    def on_before_optimizer_step(
        self, trainer: Any, module: Any, optimizer: torch.optim.Optimizer
    ) -> None:
        assert self.counter is not None
        self.rows[trainer.global_step] = group_values(optimizer)
        self.taken_rows.append((self.counter.count, group_values(optimizer)))


def random_batches() -> DataLoader[tuple[torch.Tensor, ...]]:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(SAMPLES, 4, generator=generator)
    targets = torch.randn(SAMPLES, 1, generator=generator)
    return DataLoader(TensorDataset(inputs, targets), batch_size=BATCH_SIZE)


def make_trainer(root: Path, callbacks: list[Any], **options: Any) -> Any:
    return pl.Trainer(
        default_root_dir=root,
        accelerator="cpu",
        devices=1,
        max_epochs=EPOCHS,
        accumulate_grad_batches=ACCUMULATION,
        callbacks=callbacks,
        enable_checkpointing=any(
            isinstance(callback, pl.callbacks.ModelCheckpoint) for callback in callbacks
        ),
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **options,
    )


def test_lightning_steps_once_per_optimizer_step(tmp_path: Path) -> None:
    """With 2 batches per optimizer step, the schedule follows optimizer steps."""
    recorder = Recorder()
    module = TinyModule()
    trainer = make_trainer(tmp_path, [recorder])

    trainer.fit(module, random_batches())

    assert recorder.counter is not None
    assert recorder.counter.count == TOTAL_STEPS
    assert trainer.global_step == TOTAL_STEPS
    assert module.scheduler.last_epoch == TOTAL_STEPS
    steps = range(TOTAL_STEPS)
    assert_rows_equal(recorder.rows, schedule_rows(steps), steps)


@resume_steps
@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended")
@pytest.mark.filterwarnings("ignore:Be aware that when using `ckpt_path`")
def test_lightning_resume_matches_uninterrupted(
    tmp_path: Path, resume_step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run resumed from a checkpoint takes exactly the uninterrupted values."""
    full = Recorder()
    every_step = pl.callbacks.ModelCheckpoint(
        dirpath=tmp_path / "checkpoints",
        filename="{step}",
        every_n_train_steps=1,
        save_top_k=-1,
    )
    make_trainer(tmp_path, [full, every_step]).fit(TinyModule(), random_batches())

    checkpoint = tmp_path / "checkpoints" / f"step={resume_step}.ckpt"
    loads = spy_torch_load(monkeypatch)
    resumed = Recorder()
    module = TinyModule()
    trainer = make_trainer(tmp_path, [resumed])
    trainer.fit(module, random_batches(), ckpt_path=checkpoint, weights_only=True)

    assert loads == [(checkpoint.name, True)]
    assert_rows_equal(resumed.rows, full.rows, range(resume_step, TOTAL_STEPS))
    assert module.scheduler.last_epoch == TOTAL_STEPS


def fit_float16(root: Path, module: TinyModule) -> tuple[Any, Recorder]:
    """Fit ``module`` with float16 autocast and a GradScaler that starts too high.

    Lightning rejects ``precision="16-mixed"`` on CPU, but takes the plugin.
    """
    scaler = torch.amp.GradScaler("cpu", init_scale=INIT_SCALE)
    precision = pl.plugins.MixedPrecision("16-mixed", "cpu", scaler=scaler)
    recorder = Recorder()
    trainer = make_trainer(root, [recorder], plugins=[precision])

    trainer.fit(module, random_batches())

    return trainer, recorder


def test_lightning_amp_steps_on_skipped_steps(tmp_path: Path) -> None:
    """Without the recipe, Lightning steps the schedule on skipped steps too."""
    module = TinyModule()

    trainer, recorder = fit_float16(tmp_path, module)

    assert recorder.counter is not None
    assert recorder.counter.count < trainer.global_step
    assert module.scheduler.last_epoch == trainer.global_step


def test_lightning_amp_recipe_holds_skipped_steps(tmp_path: Path) -> None:
    """With the recipe, steps skipped by GradScaler leave the schedule in place."""
    module = SkipAwareModule()

    trainer, recorder = fit_float16(tmp_path, module)
    scaler = trainer.precision_plugin.scaler

    assert recorder.counter is not None
    taken_steps = recorder.counter.count
    skipped_steps = trainer.global_step - taken_steps
    assert skipped_steps > 0
    assert scaler.get_scale() == INIT_SCALE / 2**skipped_steps
    assert module.scheduler.last_epoch == taken_steps
    for step, row in recorder.taken_rows:
        assert row == expected_row(step), f"after {step} optimizer steps"
