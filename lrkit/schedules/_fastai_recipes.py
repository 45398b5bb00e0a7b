"""fastai's one-cycle and flat-cos recipes, in fastai's position convention."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import CycleSchedules, FloatArray, Schedule, register
from lrkit.schedules._torch_recipes import extremes


def _sched_cos(start: float, end: float, progress: FloatArray) -> FloatArray:
    """Compute fastai's ``SchedCos(start, end)(p)`` in its order of operations."""
    weight = np.cos(math.pi * (1 - progress))
    weight += 1
    weight *= end - start
    weight /= 2
    return start + weight


@register
class FastaiCombinedCos(Schedule):
    """fastai's ``combined_cos``: two cosine phases over a run of batches.

    Batch ``i`` of ``N = total_steps`` takes the position ``pos = i / N``, as
    fastai's ``ParamScheduler`` does, so the value for ``pos = 1`` is never
    used. With ``SchedCos(a, b)(p) = a + (1 + cos(pi * (1 - p))) * (b - a) / 2``
    evaluated in that order::

        pos <  pct:  v = SchedCos(start, middle)(pos / pct)
        pos >= pct:  v = SchedCos(middle, end)((pos - pct) / (c - pct))

    where ``c = pct + (1 - pct)``, the end of the second phase as fastai's
    cumulative sum computes it. Past ``N - 1`` the value is held.

    fastai differs from this float64 formula in the last bits in two places.
    It keeps the phase boundaries in a float32 tensor and computes the
    progress inside a phase in float32, and it raises ``pos`` by ``1 / N``
    after every batch instead of computing ``i / N``. Expect a relative
    difference up to about 1e-7 from fastai itself.

    Args:
        pct: fraction of the run, in [0, 1], in the first phase.
        start: value at batch 0 (>= 0).
        middle: value at the end of the first phase (>= 0).
        end: value at ``pos = 1``, one batch past the run (>= 0).
        total_steps: number of batches, ``n_epoch * n_iter`` (>= 1).

    Example:
        >>> schedule = fastai_combined_cos(0.5, 1.0, 2.0, 0.0, 4)
        >>> [schedule(i) for i in range(4)]
        [1.0, 1.5, 2.0, 1.0]
    """

    __slots__ = ("_end", "_middle", "_pct", "_start", "_total_steps")
    _pct: float
    _start: float
    _middle: float
    _end: float
    _total_steps: int
    _name = "fastai_combined_cos"
    _fields = ("pct", "start", "middle", "end", "total_steps")

    def __init__(
        self, pct: float, start: float, middle: float, end: float, total_steps: int
    ) -> None:
        self._init_fields(
            pct=check.fraction("pct", pct),
            start=check.non_negative("start", start),
            middle=check.non_negative("middle", middle),
            end=check.non_negative("end", end),
            total_steps=check.integer("total_steps", total_steps, minimum=1),
        )

    @property
    def length(self) -> int:
        return self._total_steps

    @property
    def bounds(self) -> tuple[float, float]:
        last = self._total_steps - 1
        boundary = math.floor(self._pct * self._total_steps)
        steps = [0, last, *range(boundary - 1, boundary + 3)]
        return extremes(self, (min(max(step, 0), last) for step in steps))

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        position = steps / self._total_steps
        pct = self._pct
        values = np.empty_like(position)
        first = position < pct
        if first.any():
            values[first] = _sched_cos(self._start, self._middle, position[first] / pct)
        second = ~first
        if second.any():
            phase_end = pct + (1 - pct)
            progress = (position[second] - pct) / (phase_end - pct)
            values[second] = _sched_cos(self._middle, self._end, progress)
        return values


fastai_combined_cos = FastaiCombinedCos


def _moms_triple(moms: Any) -> tuple[float, float, float] | None:
    if moms is None:
        return None
    if isinstance(moms, (str, bytes)) or not hasattr(moms, "__len__"):
        kind = type(moms).__name__
        raise TypeError(
            f"moms must be a triple (start, middle, end) or None, got {kind}"
        )
    if len(moms) != 3:
        raise ValueError(f"moms must be a triple (start, middle, end), got {moms!r}")
    start, middle, end = (check.fraction(f"moms[{i}]", moms[i]) for i in range(3))
    return (start, middle, end)


def fastai_one_cycle(
    lr_max: float,
    total_steps: int,
    *,
    div: float = 25.0,
    div_final: float = 1e5,
    pct_start: float = 0.25,
    moms: tuple[float, float, float] | None = (0.95, 0.85, 0.95),
) -> CycleSchedules:
    """Build fastai's ``fit_one_cycle`` lr and momentum curves.

    The lr is ``fastai_combined_cos(pct_start, lr_max / div, lr_max,
    lr_max / div_final, total_steps)`` and the momentum
    ``fastai_combined_cos(pct_start, *moms, total_steps)``, with fastai's
    names and defaults. Batch ``i`` uses ``pos = i / total_steps``, so the lr
    starts at exactly ``lr_max / div``, and since fastai never trains at
    ``pos = 1``, the last batch's lr is slightly above ``lr_max / div_final``.
    fastai's ``div_final`` divides the peak, where torch's
    ``final_div_factor`` divides the initial lr. See ``fastai_combined_cos``
    for the formula and where fastai's own float32 rounding differs.

    Args:
        lr_max: peak learning rate (> 0).
        total_steps: number of batches, ``n_epoch * n_iter`` (>= 1).
        div: ``lr_max / div`` is the lr at batch 0 (> 0).
        div_final: ``lr_max / div_final`` is the lr at ``pos = 1`` (> 0).
        pct_start: fraction of the run, in [0, 1], spent rising to the peak.
        moms: momentum (or Adam beta1) at the start, the peak lr and the end,
            each in [0, 1], or None to schedule the lr alone.

    Returns:
        ``{"lr": schedule, "momentum": schedule}``, without ``"momentum"`` when
        ``moms`` is None.

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> curves = fastai_one_cycle(0.1, 8, pct_start=0.25)
        >>> curves["lr"](0), curves["lr"](2), curves["momentum"](2)
        (0.004, 0.1, 0.85)
    """
    lr_max = check.positive("lr_max", lr_max)
    total_steps = check.integer("total_steps", total_steps, minimum=1)
    div = check.positive("div", div)
    div_final = check.positive("div_final", div_final)
    pct_start = check.fraction("pct_start", pct_start)
    triple = _moms_triple(moms)

    lr = FastaiCombinedCos(
        pct_start, lr_max / div, lr_max, lr_max / div_final, total_steps
    )
    result: CycleSchedules = {"lr": lr}
    if triple is not None:
        result["momentum"] = FastaiCombinedCos(pct_start, *triple, total_steps)
    return result


def fastai_flat_cos(
    lr: float,
    total_steps: int,
    *,
    div_final: float = 1e5,
    pct_start: float = 0.75,
) -> Schedule:
    """Build fastai's ``fit_flat_cos`` lr: flat, then a cosine anneal.

    The lr is ``lr`` for batches with ``pos = i / total_steps < pct_start``,
    then anneals towards ``lr / div_final``, the value at ``pos = 1``, one
    batch past the run. This is ``fastai_combined_cos(pct_start, lr, lr,
    lr / div_final, total_steps)``. fastai schedules no momentum here.

    Args:
        lr: learning rate of the flat part (> 0).
        total_steps: number of batches, ``n_epoch * n_iter`` (>= 1).
        div_final: ``lr / div_final`` is the lr at ``pos = 1`` (> 0).
        pct_start: fraction of the run, in [0, 1], at the flat lr.

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> schedule = fastai_flat_cos(0.1, 4, pct_start=0.5)
        >>> schedule(0), schedule(1), schedule(2)
        (0.1, 0.1, 0.1)
    """
    lr = check.positive("lr", lr)
    total_steps = check.integer("total_steps", total_steps, minimum=1)
    div_final = check.positive("div_final", div_final)
    pct_start = check.fraction("pct_start", pct_start)
    return FastaiCombinedCos(pct_start, lr, lr, lr / div_final, total_steps)
