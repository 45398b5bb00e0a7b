"""The learning-rate range test: sweep the lr up exponentially and watch the loss.

The sweep trains the model for a few steps at growing learning rates, records a
smoothed loss at each one, and stops once the loss diverges. Afterwards the
model, the optimizer and torch's random number generator are put back exactly
as they were, so the test leaves no trace.

Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural Networks",
arXiv:1506.01186, 2015. The smoothing, the stop rule and the suggestion rules
(``valley``, ``minimum``, ``steep``) are fastai's, from
``fastai.callback.schedule``.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from lrkit.schedules import _validate as check

if TYPE_CHECKING:
    from matplotlib.figure import Figure

StopReason = Literal["completed", "diverged", "non_finite"]

_TRIM_END = 5
"""Points dropped from the end of the sweep before suggesting, as fastai does."""

_MIN_STEPS = 8
"""Minimum number of sweep steps, so 3 points remain after trimming."""


@dataclass(frozen=True)
class LRFindResult:
    """The outcome of ``lr_find``: the lrs tried, their losses and suggestions.

    Attributes:
        lrs: the base lr used at each step of the sweep, in order. A param group
            with an ``lr_scale`` key used ``lr * lr_scale``.
        losses: the smoothed loss at each step (the curve to read).
        raw_losses: the loss of each step's batch, before smoothing.
        suggestions: suggested base lrs by rule name: ``"valley"``,
            ``"minimum"`` (the lr of the lowest loss divided by 10) and
            ``"steep"`` (the lr where the loss falls fastest against log lr).
            Empty when the sweep stopped too early to suggest anything.
        stop_reason: ``"completed"`` when every step ran, ``"diverged"`` when
            the smoothed loss rose above ``divergence_factor`` times its best,
            ``"non_finite"`` when a batch's loss was NaN or infinite.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    raw_losses: tuple[float, ...]
    suggestions: dict[str, float]
    stop_reason: StopReason

    def plot(self) -> Figure:
        """Draw the smoothed loss against the lr on a log axis, suggestions marked.

        Points with a non-finite loss are left out. Needs matplotlib (the
        ``plot`` extra) and no display.
        """
        from matplotlib.figure import Figure

        lrs = np.asarray(self.lrs)
        losses = np.asarray(self.losses)
        finite = np.isfinite(losses)
        figure = Figure()
        axes = figure.add_subplot()
        axes.plot(lrs[finite], losses[finite], label="smoothed loss")
        axes.set_xscale("log")
        axes.set_xlabel("learning rate")
        axes.set_ylabel("loss")

        log_lrs = np.log10(lrs[finite])
        for name, lr in self.suggestions.items():
            loss = np.interp(math.log10(lr), log_lrs, losses[finite])
            axes.plot([lr], [loss], "o", label=f"{name}: {lr:.2e}")
        axes.legend(loc="best")
        return figure


def _valley_index(losses: np.ndarray[Any, Any]) -> int:
    """Return the index fastai's valley rule picks in a curve of losses.

    ``depth[i]`` is the length of the longest strictly decreasing subsequence
    of losses that ends at ``i``. The valley ends at the first index ``e`` of
    the greatest depth and starts ``depth[e]`` points earlier, at ``s``. The
    pick is ``s + floor((e - s) / 3) + floor((e - s) / 6)``, about half way
    down the valley. fastai can return index -1 (the last lr) for a loss that
    never falls; lrkit clamps the pick to 0 instead.
    """
    count = len(losses)
    depth = [1] * count
    end = 0
    for i in range(1, count):
        for j in range(i):
            if losses[i] < losses[j] and depth[i] < depth[j] + 1:
                depth[i] = depth[j] + 1
        if depth[i] > depth[end]:
            end = i
    start = end - depth[end]
    third = (end - start) / 3
    return max(start + int(third) + int(third / 2), 0)


def _suggest(lrs: list[float], losses: list[float], num_steps: int) -> dict[str, float]:
    """Apply fastai's suggestion rules to the recorded curve.

    As fastai does, the first ``num_steps // 10`` points and the last 5 are
    dropped, and so is everything from the first non-finite loss on. Returns
    an empty dict when fewer than 3 points remain.
    """
    lr_array = np.asarray(lrs[num_steps // 10 : -_TRIM_END])
    loss_array = np.asarray(losses[num_steps // 10 : -_TRIM_END])
    bad = np.flatnonzero(~np.isfinite(loss_array))
    if bad.size:
        lr_array = lr_array[: bad[0]]
        loss_array = loss_array[: bad[0]]
    if loss_array.size < 3:
        return {}

    slopes = np.diff(loss_array) / np.diff(np.log(lr_array))
    return {
        "valley": float(lr_array[_valley_index(loss_array)]),
        "minimum": float(lr_array[np.argmin(loss_array)]) / 10,
        "steep": float(lr_array[np.argmin(slopes)]),
    }


def _group_scales(optimizer: torch.optim.Optimizer) -> list[float]:
    """Return each param group's ``lr_scale`` (1.0 when absent), checked."""
    return [
        check.non_negative(f"param_groups[{index}]['lr_scale']", scale)
        for index, scale in enumerate(
            group.get("lr_scale", 1.0) for group in optimizer.param_groups
        )
    ]


@dataclass(frozen=True)
class _Sweep:
    """The checked sweep settings of one ``lr_find`` call."""

    start_lr: float
    end_lr: float
    num_steps: int
    smoothing: float
    divergence_factor: float | None

    def lr(self, step: int) -> float:
        """Return the base lr of a sweep step (see ``lr_find``)."""
        if step == self.num_steps - 1:
            return self.end_lr
        ratio = self.end_lr / self.start_lr
        return self.start_lr * math.pow(ratio, step / (self.num_steps - 1))


def _check_sweep(
    start_lr: Any,
    end_lr: Any,
    num_steps: Any,
    smoothing: Any,
    divergence_factor: Any,
) -> _Sweep:
    start = check.positive("start_lr", start_lr)
    end = check.positive("end_lr", end_lr)
    if end <= start:
        raise ValueError(f"end_lr must be > start_lr={start!r}, got {end!r}")
    steps = check.integer("num_steps", num_steps, minimum=_MIN_STEPS)
    beta = check.fraction("smoothing", smoothing, high_open=True)
    factor = None
    if divergence_factor is not None:
        factor = check.real("divergence_factor", divergence_factor)
        if factor <= 1:
            raise ValueError(
                f"divergence_factor must be > 1 or None, got {divergence_factor!r}"
            )
    return _Sweep(start, end, steps, beta, factor)


def _check_objects(model: Any, optimizer: Any, loss_fn: Any) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    for index, group in enumerate(optimizer.param_groups):
        if "lr" not in group:
            keys = sorted(key for key in group if key != "params")
            raise ValueError(
                f"optimizer.param_groups[{index}] has no 'lr' key to sweep; "
                f"its keys are {keys}"
            )


class _Snapshot:
    """A copy of everything the sweep changes, put back by ``restore``.

    That is every parameter, buffer and gradient of the model and optimizer,
    each module's train/eval mode, the optimizer's per-parameter state and
    every param-group key, and torch's CPU (and, once initialised, CUDA)
    random number generator states.
    """

    def __init__(
        self, model: torch.nn.Module, optimizer: torch.optim.Optimizer
    ) -> None:
        tensors: dict[int, torch.Tensor] = {}
        for tensor in [*model.parameters(), *model.buffers()]:
            tensors[id(tensor)] = tensor
        for group in optimizer.param_groups:
            for param in group["params"]:
                tensors[id(param)] = param
        self.values = [(t, t.detach().clone()) for t in tensors.values()]
        self.grads = [
            (t, None if t.grad is None else t.grad.detach().clone())
            for t in tensors.values()
        ]
        self.modes = [(module, module.training) for module in model.modules()]
        self.groups = [
            copy.deepcopy(
                {key: value for key, value in group.items() if key != "params"}
            )
            for group in optimizer.param_groups
        ]
        self.state = {
            param: copy.deepcopy(state) for param, state in optimizer.state.items()
        }
        self.cpu_rng = torch.get_rng_state()
        self.cuda_rng = (
            torch.cuda.get_rng_state_all()
            if torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
            else None
        )

    def restore(self, optimizer: torch.optim.Optimizer) -> None:
        with torch.no_grad():
            for tensor, value in self.values:
                tensor.copy_(value)
        for tensor, grad in self.grads:
            tensor.grad = grad
        for module, training in self.modes:
            module.train(training)
        for group, saved in zip(optimizer.param_groups, self.groups, strict=True):
            _restore_group(group, saved)
        optimizer.state.clear()
        optimizer.state.update(self.state)
        torch.set_rng_state(self.cpu_rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)


def _restore_group(group: dict[str, Any], saved: dict[str, Any]) -> None:
    """Put a param group's keys back, copying into tensor values in place."""
    for key in [key for key in group if key != "params" and key not in saved]:
        del group[key]
    for key, value in saved.items():
        current = group.get(key)
        if isinstance(current, torch.Tensor) and isinstance(value, torch.Tensor):
            current.copy_(value)
        else:
            group[key] = value


def _set_lr(optimizer: torch.optim.Optimizer, lr: float, scales: list[float]) -> None:
    for group, scale in zip(optimizer.param_groups, scales, strict=True):
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr * scale)
        else:
            group["lr"] = lr * scale


def _iterate_batches(batches: Any) -> Iterator[Any]:
    try:
        return iter(batches)
    except TypeError:
        raise TypeError(
            "batches must be an iterable of (inputs, targets) pairs, "
            f"got {type(batches).__name__}"
        ) from None


def _cycle(batches: Iterable[Any], first: Iterator[Any]) -> Iterator[Any]:
    """Yield batches without end, starting ``iter(batches)`` again when it ends.

    Raises:
        ValueError: ``batches`` is empty, or it ran out and is a one-shot
            iterator that cannot start again.
    """
    iterator = first
    while True:
        count = 0
        for batch in iterator:
            count += 1
            yield batch
        if count == 0:
            raise ValueError("batches is empty; it must yield (inputs, targets) pairs")
        if iter(batches) is batches:
            raise ValueError(
                f"batches ran out after {count} batches and is a one-shot iterator; "
                "pass a list or a DataLoader so that the sweep can start it again"
            )
        iterator = iter(batches)


def _batch_loss(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    batch: Any,
) -> torch.Tensor:
    # A dict would unpack to its keys, and a tensor of 2 rows to its rows.
    if not isinstance(batch, (Mapping, torch.Tensor, str, bytes)):
        try:
            inputs, targets = batch
        except (TypeError, ValueError):
            pass
        else:
            return loss_fn(model(inputs), targets)
    raise TypeError(
        f"each batch must be a pair (inputs, targets), got {type(batch).__name__}"
    )


def lr_find(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    batches: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    divergence_factor: float | None = 4.0,
) -> LRFindResult:
    """Run a learning-rate range test and suggest a learning rate.

    Step ``k`` (0-based) trains on one batch at the base lr

        lr_k = start_lr * (end_lr / start_lr) ** (k / (num_steps - 1))

    so the sweep starts at exactly ``start_lr`` and ends at exactly ``end_lr``
    (fastai divides by ``num_steps`` instead and stops one step short of
    ``end_lr``). Every param group gets ``lr_k`` times its ``lr_scale`` key
    (1.0 when absent), so the groups keep their ratios. A step is
    ``zero_grad``, ``loss = loss_fn(model(inputs), targets)``, ``backward``
    and ``optimizer.step()``, with the model in train mode.

    The loss is smoothed as fastai does, an exponential moving average with
    bias correction: ``a_k = b * a_{k-1} + (1 - b) * loss_k`` from ``a_{-1} =
    0``, and the smoothed loss is ``a_k / (1 - b ** (k + 1))``, with ``b`` =
    ``smoothing``. The sweep stops early when the smoothed loss exceeds
    ``divergence_factor`` times the lowest smoothed loss so far (that step is
    still recorded), or when a batch's loss is NaN or infinite (recorded, and
    no optimizer step is taken with it).

    Afterwards the model's parameters, buffers, gradients and train/eval
    modes, the optimizer's state and every param-group key, and torch's
    random number generator state are restored bit for bit, also when the
    sweep stops early or ``loss_fn`` raises.

    Args:
        model: the model to train during the sweep.
        optimizer: an optimizer over the model's parameters.
        loss_fn: called as ``loss_fn(model(inputs), targets)``; returns a
            scalar tensor.
        batches: an iterable of ``(inputs, targets)`` pairs, such as a
            DataLoader or a list. When it runs out before the sweep ends it is
            iterated again from the start (a DataLoader reshuffles), so a
            one-shot iterator must yield at least ``num_steps`` batches.
        start_lr: base lr of the first step (> 0).
        end_lr: base lr of the last step (> ``start_lr``).
        num_steps: number of steps in the sweep (>= 8), one batch each.
        smoothing: the moving-average factor ``b``, in [0, 1); 0 turns
            smoothing off.
        divergence_factor: stop when the smoothed loss exceeds this many times
            its best (> 1), or None to always run every step.

    Returns:
        An ``LRFindResult`` with the lrs, the losses and the suggestions.

    Raises:
        TypeError: an argument has the wrong type, or a batch is not a pair.
        ValueError: an argument is out of range, or ``batches`` is empty or
            ran out (see above). Argument errors are raised before anything is
            changed. An error from the model or ``loss_fn`` propagates after
            the state is restored.

    Example:
        >>> import torch
        >>> from lrkit.adapters.torch import lr_find
        >>> _ = torch.manual_seed(0)
        >>> model = torch.nn.Linear(3, 1)
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> inputs = torch.randn(64, 3)
        >>> targets = inputs @ torch.tensor([[1.0], [-2.0], [0.5]])
        >>> result = lr_find(model, optimizer, torch.nn.functional.mse_loss,
        ...                  [(inputs, targets)], end_lr=100.0)
        >>> result.stop_reason
        'diverged'
        >>> 1e-3 < result.suggestions["valley"] < 1.0
        True
        >>> optimizer.param_groups[0]["lr"]
        0.1
    """
    _check_objects(model, optimizer, loss_fn)
    sweep = _check_sweep(start_lr, end_lr, num_steps, smoothing, divergence_factor)
    scales = _group_scales(optimizer)

    # The snapshot comes before iter(batches), because a shuffling DataLoader
    # draws its seed from torch's generator there.
    snapshot = _Snapshot(model, optimizer)
    try:
        first = _iterate_batches(batches)
        return _run(model, optimizer, loss_fn, _cycle(batches, first), scales, sweep)
    finally:
        snapshot.restore(optimizer)


def _run(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    batches: Iterator[Any],
    scales: list[float],
    sweep: _Sweep,
) -> LRFindResult:
    lrs: list[float] = []
    losses: list[float] = []
    raw_losses: list[float] = []
    average = 0.0
    best = math.inf
    stop_reason: StopReason = "completed"
    model.train()
    smoothing = sweep.smoothing
    for step in range(sweep.num_steps):
        lr = sweep.lr(step)
        _set_lr(optimizer, lr, scales)
        optimizer.zero_grad()
        loss = _batch_loss(model, loss_fn, next(batches))
        raw = float(loss.item())
        lrs.append(lr)
        raw_losses.append(raw)
        if not math.isfinite(raw):
            losses.append(raw)
            stop_reason = "non_finite"
            break

        torch.autograd.backward(loss)
        optimizer.step()
        average = smoothing * average + (1 - smoothing) * raw
        smoothed = average / (1 - smoothing ** (step + 1))
        losses.append(smoothed)
        best = min(best, smoothed)
        factor = sweep.divergence_factor
        if factor is not None and smoothed > factor * best:
            stop_reason = "diverged"
            break

    suggestions = _suggest(lrs, losses, sweep.num_steps)
    if not suggestions:
        if stop_reason == "non_finite":
            advice = (
                f"the loss was {raw_losses[-1]} at lr {lrs[-1]!r}: lower start_lr, "
                "or check the model, the batches and loss_fn"
            )
        else:
            advice = "lower start_lr or raise divergence_factor"
        warnings.warn(
            f"the sweep stopped after {len(lrs)} of {sweep.num_steps} steps "
            f"({stop_reason}), too early for suggestions; {advice}",
            RuntimeWarning,
            stacklevel=3,
        )
    return LRFindResult(
        lrs=tuple(lrs),
        losses=tuple(losses),
        raw_losses=tuple(raw_losses),
        suggestions=suggestions,
        stop_reason=stop_reason,
    )
