"""Fine-tune a small CNN from digits 0-4 to digits 5-9 three ways, and compare.

This is the transfer-learning scenario that one-cycle and discriminative
learning rates were made for. A CNN pretrained on digits 0-4 of
scikit-learn's 8x8 handwritten digits (they ship with scikit-learn, no
download) gets a new head and is fine-tuned to digits 5-9. Each method starts
from the same pretrained weights, the same new head and the same batch order:

- ``constant``: one lr on every layer, held for the whole run;
- ``one_cycle``: one-cycle on every layer, peaking at that same lr;
- ``fine_tune``: fastai's ``fine_tune`` recipe. The body is frozen for one
  epoch of one-cycle on the head. Then every layer is unfrozen and trained
  with one-cycle at half the lr, spread geometrically over the layer groups
  from lr / 200 (first block) to lr / 2 (head).

The lr is the lr finder's "valley" suggestion, swept on the new head with
the body frozen, as fastai's ``lr_find`` runs before ``fine_tune``. The two
baselines train as many epochs as the recipe does in total (``--epochs``
plus the frozen one). The optimizer is AdamW with weight decay on weights
only, and one-cycle also cycles Adam's beta1 between 0.95 and 0.85.

Everything runs on the CPU, in one thread, with fixed seeds, so two runs on
one machine print the same numbers. The defaults take under a minute on 2
CPU cores.

Outputs in ``--out``: ``results.json`` (every number in the tables),
``lr_finder.png``, ``accuracy.png``, and the lr and momentum of every layer
group in ``schedule_constant.png``, ``schedule_one_cycle.png``,
``schedule_fine_tune_1_head.png`` and ``schedule_fine_tune_2_all.png``.

Run: python examples/finetune_digits.py --epochs 4 --out out/digits
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from tqdm import tqdm

from lrkit.adapters.torch import (
    LRFindResult,
    ParamScheduler,
    freeze,
    lr_find,
    param_groups,
    unfreeze,
)
from lrkit.plot import plot_schedules
from lrkit.schedules import Schedule, constant, one_cycle

SEED = 0
VALID_FRACTION = 0.3
# Batches of 8 give 79 steps per epoch of digits 5-9. one_cycle puts its peak
# on step round(pct_start * (steps - 1)) and needs it before the last step, so
# the frozen epoch's pct_start of 0.99 needs at least 52 steps.
BATCH_SIZE = 8
# block3 ends with 64 channels on a 2x2 grid, flattened for the head.
HEAD_FEATURES = 64 * 2 * 2
PRETRAIN_EPOCHS = 6
PRETRAIN_LR = 1e-2
WEIGHT_DECAY = 1e-2
# fastai's fine_tune defaults: base_lr when the finder suggests nothing, one
# frozen epoch, lr spread over a factor of 100, and the unfrozen one-cycle.
FALLBACK_LR = 2e-3
FREEZE_EPOCHS = 1
FROZEN_PCT_START = 0.99
LR_MULT = 100.0
PCT_START = 0.3
DIV = 5.0
# torch's default beta1 for AdamW, which the constant method keeps.
ADAM_BETA1 = 0.9
METHODS = ("constant", "one_cycle", "fine_tune")


@dataclass
class Split:
    """Images (N, 1, 8, 8), standardised, and their labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor


@dataclass
class Task:
    """The training and validation splits of one classification task."""

    train: Split
    valid: Split


@dataclass
class Phase:
    """A stretch of training with one optimizer and one set of schedules.

    ``group_lr`` is passed to ``param_groups`` as its ``lr``: None for one lr
    scale on every layer, or a ``slice`` for fastai's discriminative lrs.
    """

    name: str
    epochs: int
    group_lr: float | slice | None
    schedules: dict[str, Schedule]
    title: str
    frozen: bool = False


@dataclass
class EpochRecord:
    """One row of the per-epoch table."""

    epoch: int
    phase: str
    train_loss: float
    valid_loss: float
    valid_accuracy: float


@dataclass
class MethodResult:
    """The phases and the per-epoch records of one fine-tuning method."""

    phases: list[Phase]
    epochs: list[EpochRecord] = field(default_factory=list)


def load_tasks(seed: int) -> tuple[Task, Task]:
    """Split the digits into a pretraining task (0-4) and a fine-tuning task (5-9).

    Each task keeps VALID_FRACTION of its images for validation, stratified by
    class. The fine-tuning labels are shifted to 0..4. Pixels (0 to 16) are
    standardised with the mean and standard deviation of the pretraining
    training images only.
    """
    digits = load_digits()
    images = digits.images.astype(np.float32)
    labels = digits.target.astype(np.int64)

    old = labels < 5
    pretrain = _split_task(images[old], labels[old], seed)
    finetune = _split_task(images[~old], labels[~old] - 5, seed)
    mean = pretrain.train.images.mean()
    std = pretrain.train.images.std()
    for task in (pretrain, finetune):
        for split in (task.train, task.valid):
            split.images = (split.images - mean) / std
    return pretrain, finetune


def _split_task(images: np.ndarray, labels: np.ndarray, seed: int) -> Task:
    x_train, x_valid, y_train, y_valid = train_test_split(
        images, labels, test_size=VALID_FRACTION, stratify=labels, random_state=seed
    )
    return Task(_to_split(x_train, y_train), _to_split(x_valid, y_valid))


def _to_split(images: np.ndarray, labels: np.ndarray) -> Split:
    return Split(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels))


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Return a 3x3 convolution, BatchNorm and ReLU that keep the image size."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


def build_model(classes: int) -> nn.Sequential:
    """Build the CNN: three conv blocks (the body) and a linear head.

    The top-level children are the layer groups that ``param_groups`` finds:
    ``block1``, ``block2``, ``block3`` and ``head``. The 8x8 input shrinks to
    4x4 in ``block2`` and to 64 channels on a 2x2 grid in ``block3``, which
    flattens them into HEAD_FEATURES features for the head.
    """
    return nn.Sequential(
        OrderedDict(
            block1=conv_block(1, 32),
            block2=nn.Sequential(conv_block(32, 32), nn.MaxPool2d(2)),
            block3=nn.Sequential(conv_block(32, 64), nn.MaxPool2d(2), nn.Flatten()),
            head=nn.Linear(HEAD_FEATURES, classes),
        )
    )


def with_new_head(pretrained: nn.Sequential, classes: int, seed: int) -> nn.Sequential:
    """Copy ``pretrained`` and replace its head with one initialised from ``seed``."""
    model = copy.deepcopy(pretrained)
    torch.manual_seed(seed)
    model.head = nn.Linear(HEAD_FEATURES, classes)
    return model


def iterate_batches(
    split: Split, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield the shuffled batches of one epoch, in the order ``generator`` draws."""
    order = torch.randperm(len(split.labels), generator=generator)
    for start in range(0, len(order), BATCH_SIZE):
        index = order[start : start + BATCH_SIZE]
        yield split.images[index], split.labels[index]


def count_steps(split: Split) -> int:
    """Return the number of optimizer steps in one epoch (last batch kept)."""
    return math.ceil(len(split.labels) / BATCH_SIZE)


@torch.no_grad()
def evaluate(model: nn.Module, split: Split) -> tuple[float, float]:
    """Return the mean cross-entropy loss and the accuracy on ``split``."""
    model.eval()
    logits = model(split.images)
    loss = nn.functional.cross_entropy(logits, split.labels).item()
    accuracy = (logits.argmax(dim=1) == split.labels).float().mean().item()
    return loss, accuracy


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: ParamScheduler,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    progress: tqdm,
) -> float:
    """Train one epoch, stepping the scheduler after every optimizer step.

    Returns the mean training loss over the epoch's images.
    """
    model.train()
    total_loss = 0.0
    seen = 0
    for images, labels in batches:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(labels)
        seen += len(labels)
        progress.update()
        progress.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    return total_loss / seen


def build_optimizer(
    model: nn.Module, group_lr: float | slice | None
) -> torch.optim.AdamW:
    """Build AdamW over the param groups of every layer, decaying weights only.

    ``param_groups`` puts each layer's biases and BatchNorm parameters in
    sibling groups with weight decay 0, and stores the layer's lr scale under
    "lr_scale" in each of its groups.
    """
    groups = param_groups(model, lr=group_lr, weight_decay=WEIGHT_DECAY)
    return torch.optim.AdamW(groups)


def train_phases(
    model: nn.Module, task: Task, phases: list[Phase], label: str
) -> list[EpochRecord]:
    """Train ``model`` through ``phases`` and evaluate it after every epoch.

    The batch order comes from a generator seeded with SEED, so every method
    trains on the same batches in the same order. A frozen phase trains the
    head (and the BatchNorm parameters, as fastai's ``train_bn`` does) and
    unfreezes at its end.
    """
    generator = torch.Generator().manual_seed(SEED)
    total_steps = sum(phase.epochs for phase in phases) * count_steps(task.train)
    records: list[EpochRecord] = []
    with tqdm(total=total_steps, desc=label, unit="step", leave=False) as progress:
        for phase in phases:
            optimizer = build_optimizer(model, phase.group_lr)
            if phase.frozen:
                freeze(optimizer)
            scheduler = ParamScheduler(
                optimizer,
                lr=phase.schedules["lr"],
                momentum=phase.schedules.get("momentum"),
            )
            for _ in range(phase.epochs):
                batches = iterate_batches(task.train, generator)
                train_loss = train_epoch(model, optimizer, scheduler, batches, progress)
                valid_loss, accuracy = evaluate(model, task.valid)
                record = EpochRecord(
                    len(records) + 1, phase.name, train_loss, valid_loss, accuracy
                )
                records.append(record)
                progress.write(format_row(label, record))
            if phase.frozen:
                unfreeze(optimizer)
    return records


def plan_phases(method: str, lr: float, epochs: int, steps: int) -> list[Phase]:
    """Return the phases of one method, with ``steps`` optimizer steps per epoch.

    The baselines run ``FREEZE_EPOCHS + epochs`` epochs, as long as the recipe.
    """
    total_epochs = FREEZE_EPOCHS + epochs
    if method == "constant":
        schedules: dict[str, Schedule] = {
            "lr": constant(lr),
            "momentum": constant(ADAM_BETA1),
        }
        title = "constant: the finder's lr on every layer group"
        return [Phase("all", total_epochs, None, schedules, title)]
    if method == "one_cycle":
        schedules = one_cycle(lr, total_epochs * steps)
        title = "one_cycle: peak at the finder's lr, every layer group"
        return [Phase("all", total_epochs, None, schedules, title)]

    # fastai's fine_tune: fit_one_cycle(freeze_epochs, slice(base_lr),
    # pct_start=0.99), then base_lr /= 2 and, unfrozen,
    # fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), pct_start, div).
    # NOTE: with 79 steps, fastai's last frozen batch (position 78/79 < 0.99)
    # is still warming up. one_cycle instead peaks one step before the end and
    # takes lr / 1e5 on the last step, so the two differ on that one step.
    frozen = one_cycle(lr, FREEZE_EPOCHS * steps, pct_start=FROZEN_PCT_START)
    half = lr / 2
    unfrozen = one_cycle(half, epochs * steps, pct_start=PCT_START, div=DIV)
    return [
        Phase(
            "head",
            FREEZE_EPOCHS,
            slice(lr),
            frozen,
            "fine_tune, frozen: head at the finder's lr, body BatchNorm at 1/10",
            frozen=True,
        ),
        Phase(
            "all",
            epochs,
            slice(half / LR_MULT, half),
            unfrozen,
            f"fine_tune, unfrozen: half the finder's lr, spread {LR_MULT:g}x",
        ),
    ]


def pretrain(task: Task) -> tuple[nn.Sequential, list[EpochRecord]]:
    """Train a fresh CNN on digits 0-4 with one-cycle, and return it."""
    torch.manual_seed(SEED)
    model = build_model(classes=5)
    steps = PRETRAIN_EPOCHS * count_steps(task.train)
    schedules = one_cycle(PRETRAIN_LR, steps)
    phase = Phase("all", PRETRAIN_EPOCHS, None, schedules, "pretraining on 0-4")
    records = train_phases(model, task, [phase], "pretrain")
    return model, records


def find_lr(pretrained: nn.Sequential, task: Task) -> tuple[float, LRFindResult]:
    """Sweep the lr on the new head with the body frozen, as fastai's lr_find does.

    The groups are those of the recipe's frozen phase: the head at the swept
    lr, the body's BatchNorm parameters at a tenth of it. Returns the valley
    suggestion (FALLBACK_LR when the sweep ended too early to suggest one) and
    the finder's result.
    """
    model = with_new_head(pretrained, classes=5, seed=SEED)
    # Only the lr scales matter: lr_find writes lr * lr_scale at every step.
    optimizer = build_optimizer(model, slice(FALLBACK_LR))
    freeze(optimizer)
    generator = torch.Generator().manual_seed(SEED)
    batches = list(iterate_batches(task.train, generator))

    result = lr_find(model, optimizer, nn.functional.cross_entropy, batches)
    return result.suggestions.get("valley", FALLBACK_LR), result


def format_row(label: str, record: EpochRecord) -> str:
    """Format one row of the per-epoch table (see TABLE_HEADER)."""
    return (
        f"{label:<10} {record.epoch:>5} {record.phase:>5} {record.train_loss:>10.4f}"
        f" {record.valid_loss:>10.4f} {record.valid_accuracy:>9.3f}"
    )


TABLE_HEADER = (
    f"{'method':<10} {'epoch':>5} {'phase':>5} {'train loss':>10}"
    f" {'valid loss':>10} {'valid acc':>9}"
)


def print_comparison(results: dict[str, MethodResult]) -> None:
    """Print the final and best validation accuracy and loss of every method."""
    print()
    print(f"{'method':<10} {'final acc':>9} {'best acc':>9} {'final loss':>10}")
    for method, result in results.items():
        final = result.epochs[-1]
        best = max(record.valid_accuracy for record in result.epochs)
        print(
            f"{method:<10} {final.valid_accuracy:>9.3f} {best:>9.3f}"
            f" {final.valid_loss:>10.4f}"
        )


def plot_accuracy(results: dict[str, MethodResult]) -> Figure:
    """Draw the validation accuracy of every method after each epoch."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for method, result in results.items():
        epochs = [record.epoch for record in result.epochs]
        accuracy = [record.valid_accuracy for record in result.epochs]
        axes.plot(epochs, accuracy, marker="o", label=method)
    axes.axvspan(0.5, FREEZE_EPOCHS + 0.5, color="0.9", label="fine_tune: body frozen")
    axes.set_title("Fine-tuning to digits 5-9: validation accuracy")
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy (fraction correct)")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def plot_phase(model: nn.Module, phase: Phase, steps: int) -> Figure:
    """Draw the lr and momentum of every layer group during one phase.

    Layers that share an lr scale share one line, named after all of them,
    and momentum, which every group shares, gets one legend entry. ``steps``
    is the number of optimizer steps per epoch.
    """
    layers: dict[int, tuple[str, float]] = {}
    for group in param_groups(model, lr=phase.group_lr):
        # Sibling groups are named "<layer>.no_decay" and "<layer>.norm".
        name = group["name"].removesuffix(".no_decay").removesuffix(".norm")
        layers.setdefault(group["layer"], (name, group["lr_scale"]))
    lines: dict[float, list[str]] = {}
    for name, scale in layers.values():
        lines.setdefault(scale, []).append(name)

    figure = plot_schedules(
        phase.schedules,
        phase.epochs * steps,
        scales={"lr": list(lines)},
        names=[", ".join(names) for names in lines.values()],
    )
    lr_axes, momentum_axes = figure.axes
    lr_axes.set_yscale("log")
    lr_axes.set_ylabel("learning rate (log scale)")
    momentum_axes.set_ylabel("momentum (Adam beta1)")
    handles, _ = momentum_axes.get_legend_handles_labels()
    momentum_axes.legend(handles[-1:], ["every layer group"], loc="best")
    momentum_axes.set_xlabel("optimizer step")
    figure.suptitle(phase.title)
    return figure


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs",
        type=int,
        default=4,
        help="epochs with every layer unfrozen (default: 4); the recipe trains "
        "one frozen epoch before them, and the baselines as many in total",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/digits"),
        help="directory for results.json and the PNG plots (default: out/digits)",
    )
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    return args


def main() -> None:
    args = parse_args()
    # One thread, because this model's tensors are too small to gain from more.
    # On a busy 2-core machine, two threads cost about 30 times the CPU time
    # per training step, spent by worker threads spinning while they wait.
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pretrain_task, finetune_task = load_tasks(SEED)
    steps = count_steps(finetune_task.train)

    print(TABLE_HEADER)
    pretrained, pretrain_records = pretrain(pretrain_task)
    lr, finder = find_lr(pretrained, finetune_task)
    suggestions = ", ".join(
        f"{rule} {value:.2e}" for rule, value in finder.suggestions.items()
    )
    print(f"\nlr finder ({finder.stop_reason}): {suggestions}; using lr = {lr:.2e}\n")

    print(TABLE_HEADER)
    results: dict[str, MethodResult] = {}
    for method in METHODS:
        model = with_new_head(pretrained, classes=5, seed=SEED)
        phases = plan_phases(method, lr, args.epochs, steps)
        results[method] = MethodResult(
            phases, train_phases(model, finetune_task, phases, method)
        )
    print_comparison(results)

    write_results(args.out, lr, finder, pretrain_records, results)
    save_plots(args.out, pretrained, finder, results, steps)
    print(
        f"\nwrote results.json and plots to {args.out} in "
        f"{time.perf_counter() - started:.1f} s"
    )


def write_results(
    out: Path,
    lr: float,
    finder: LRFindResult,
    pretrain_records: list[EpochRecord],
    results: dict[str, MethodResult],
) -> None:
    """Write every number of the tables to ``out/results.json``."""
    payload = {
        "seed": SEED,
        "batch_size": BATCH_SIZE,
        "lr": lr,
        "lr_finder": {
            "suggestions": finder.suggestions,
            "stop_reason": finder.stop_reason,
        },
        "pretrain": [asdict(record) for record in pretrain_records],
        "methods": {
            method: {
                "phases": [
                    {"name": phase.name, "epochs": phase.epochs, "title": phase.title}
                    for phase in result.phases
                ],
                "final_valid_accuracy": result.epochs[-1].valid_accuracy,
                "epochs": [asdict(record) for record in result.epochs],
            }
            for method, result in results.items()
        },
    }
    (out / "results.json").write_text(json.dumps(payload, indent=2) + "\n")


def save_plots(
    out: Path,
    model: nn.Module,
    finder: LRFindResult,
    results: dict[str, MethodResult],
    steps: int,
) -> None:
    """Write the accuracy, lr finder and schedule plots as PNG files in ``out``."""
    plot_accuracy(results).savefig(out / "accuracy.png", dpi=120)
    figure = finder.plot()
    figure.axes[0].set_title("lr finder: new head on digits 5-9, body frozen")
    figure.axes[0].set_ylabel("training loss (smoothed cross-entropy)")
    figure.savefig(out / "lr_finder.png", dpi=120)
    for method, result in results.items():
        for number, phase in enumerate(result.phases, start=1):
            suffix = f"_{number}_{phase.name}" if len(result.phases) > 1 else ""
            figure = plot_phase(model, phase, steps)
            figure.savefig(out / f"schedule_{method}{suffix}.png", dpi=120)


if __name__ == "__main__":
    main()
