"""torch's OneCycleLR as an lrkit schedule, reproduced bit for bit."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import CycleSchedules, FloatArray, Schedule, register

_HYPERPARAMETERS = ("lr", "momentum")


def extremes(schedule: Schedule, steps: Iterable[int]) -> tuple[float, float]:
    """Return the lowest and highest value of ``schedule`` over ``steps``.

    Recipes whose phases are monotone in the step take their bounds from the
    first and last step of every phase. Rounded IEEE operations are weakly
    monotone, so these steps hold the extremes of the computed values too,
    not only of the exact curve.
    """
    values = schedule(np.array(sorted(set(steps)), dtype=np.int64))
    return (float(values.min()), float(values.max()))


def _anneal_cos(start: float, end: float, pct: FloatArray) -> FloatArray:
    """Compute torch's ``_annealing_cos`` in its order of float operations."""
    cos_out = np.cos(math.pi * pct)
    cos_out += 1
    return end + (start - end) / 2.0 * cos_out


def _anneal_linear(start: float, end: float, pct: FloatArray) -> FloatArray:
    """Compute torch's ``_annealing_linear`` in its order of float operations."""
    return (end - start) * pct + start


@register
class TorchOneCycle(Schedule):
    """One hyperparameter of torch's ``OneCycleLR``: the lr or the momentum.

    Build it with ``torch_one_cycle``, which returns both. The fields are
    torch's arguments, plus ``hyperparameter`` (``"lr"`` or ``"momentum"``)
    to say which of the two curves this is.
    """

    __slots__ = (
        "_anneal_strategy",
        "_base_momentum",
        "_div_factor",
        "_ends",
        "_final_div_factor",
        "_hyperparameter",
        "_max_lr",
        "_max_momentum",
        "_pct_start",
        "_three_phase",
        "_total_steps",
        "_values",
    )
    _max_lr: float
    _total_steps: int
    _pct_start: float
    _anneal_strategy: str
    _div_factor: float
    _final_div_factor: float
    _three_phase: bool
    _base_momentum: float
    _max_momentum: float
    _hyperparameter: str
    _ends: tuple[float, ...]
    _values: tuple[float, ...]
    _name = "TorchOneCycle"
    _fields = (
        "max_lr",
        "total_steps",
        "pct_start",
        "anneal_strategy",
        "div_factor",
        "final_div_factor",
        "three_phase",
        "base_momentum",
        "max_momentum",
        "hyperparameter",
    )

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float,
        anneal_strategy: str,
        div_factor: float,
        final_div_factor: float,
        three_phase: bool,
        base_momentum: float,
        max_momentum: float,
        hyperparameter: str,
    ) -> None:
        max_lr = check.positive("max_lr", max_lr)
        total_steps = check.integer("total_steps", total_steps, minimum=1)
        pct_start = check.fraction("pct_start", pct_start)
        anneal_strategy = check.choice(
            "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        div_factor = check.positive("div_factor", div_factor)
        final_div_factor = check.positive("final_div_factor", final_div_factor)
        three_phase = check.boolean("three_phase", three_phase)
        base_momentum = check.fraction("base_momentum", base_momentum)
        max_momentum = check.fraction("max_momentum", max_momentum)
        hyperparameter = check.choice(
            "hyperparameter", hyperparameter, _HYPERPARAMETERS
        )
        if pct_start * total_steps == 1.0:
            raise ValueError(
                f"pct_start * total_steps must not equal 1, got pct_start={pct_start!r}"
                f" and total_steps={total_steps!r}: torch's warm-up phase would end at"
                " step 0 and divide zero by zero; change pct_start or total_steps"
            )

        self._init_fields(
            max_lr=max_lr,
            total_steps=total_steps,
            pct_start=pct_start,
            anneal_strategy=anneal_strategy,
            div_factor=div_factor,
            final_div_factor=final_div_factor,
            three_phase=three_phase,
            base_momentum=base_momentum,
            max_momentum=max_momentum,
            hyperparameter=hyperparameter,
        )
        object.__setattr__(self, "_ends", self._phase_ends())
        object.__setattr__(self, "_values", self._phase_values())

    def _phase_ends(self) -> tuple[float, ...]:
        """Return the last step of each phase, as floats, as torch computes them."""
        total = self._total_steps
        first = float(self._pct_start * total) - 1
        last = float(total - 1)
        if self._three_phase:
            return (first, float(2 * self._pct_start * total) - 2, last)
        return (first, last)

    def _phase_values(self) -> tuple[float, ...]:
        """Return the value at the start of the first phase and at each phase end."""
        if self._hyperparameter == "momentum":
            high, low = self._max_momentum, self._base_momentum
            return (high, low, high, high) if self._three_phase else (high, low, high)
        initial_lr = self._max_lr / self._div_factor
        min_lr = initial_lr / self._final_div_factor
        if self._three_phase:
            return (initial_lr, self._max_lr, initial_lr, min_lr)
        return (initial_lr, self._max_lr, min_lr)

    @property
    def length(self) -> int:
        return self._total_steps

    @property
    def bounds(self) -> tuple[float, float]:
        steps = [0, self._total_steps - 1]
        for end in self._ends[:-1]:
            if end >= 0:
                steps += [math.floor(end), math.floor(end) + 1]
        return extremes(self, (min(step, self._total_steps - 1) for step in steps))

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        anneal = _anneal_cos if self._anneal_strategy == "cos" else _anneal_linear
        values = np.empty_like(steps)
        pending = np.ones(steps.shape, dtype=bool)
        start_step = 0.0
        last_phase = len(self._ends) - 1
        for phase, end_step in enumerate(self._ends):
            limit = math.inf if phase == last_phase else end_step
            chosen = pending & (steps <= limit)
            if chosen.any():
                pct = (steps[chosen] - start_step) / (end_step - start_step)
                values[chosen] = anneal(
                    self._values[phase], self._values[phase + 1], pct
                )
                pending &= ~chosen
            start_step = end_step
        return values


def torch_one_cycle(
    max_lr: float,
    total_steps: int,
    *,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
) -> CycleSchedules:
    """Build torch's ``OneCycleLR`` lr and momentum curves, bit for bit.

    The values at steps ``0 <= t < total_steps`` are the ones torch 2.13's
    ``torch.optim.lr_scheduler.OneCycleLR`` writes into a param group whose
    ``max_lr`` is ``max_lr``: its lr, and its momentum (or Adam's beta1).
    Step 0 is the value torch sets in its constructor, and step ``t`` the
    value after ``t`` calls to ``scheduler.step()``. Past the end the
    schedules hold the value of step ``total_steps - 1``, where torch
    extrapolates one more step and then raises.

    With ``x0 = max_lr / div_factor`` and ``x_end = x0 / final_div_factor``,
    phase ``i`` ends at the float step ``e_i`` and runs from ``s_i`` to
    ``s_{i+1}``; inside it ``p = (t - e_{i-1}) / (e_i - e_{i-1})``, with
    ``e_0 = 0``::

        two phases:   e = [pct_start * T - 1, T - 1]
                      lr x0 -> max_lr -> x_end; momentum hi -> lo -> hi
        three phases: e = [pct_start * T - 1, 2 * pct_start * T - 2, T - 1]
                      lr x0 -> max_lr -> x0 -> x_end;
                      momentum hi -> lo -> hi -> hi
        cos:    v = s_{i+1} + (s_i - s_{i+1}) / 2 * (cos(pi * p) + 1)
        linear: v = (s_{i+1} - s_i) * p + s_i

    Here ``T`` is ``total_steps``, ``hi`` is ``max_momentum`` and ``lo`` is
    ``base_momentum``. A step belongs to the first phase whose end it does
    not pass, or to the last phase. Every float operation runs in torch's
    order. The values are therefore identical to torch's wherever numpy's
    ``cos`` returns the same double as the C library's ``cos``, which
    ``math.cos`` calls. This holds on Linux x86-64 with numpy 2.4 (checked on
    two million random angles). Elsewhere one cosine's rounding can differ,
    by about ``1e-16 * max_lr``.

    Differences from lrkit's own ``one_cycle``: torch's peak falls at the
    float step ``pct_start * T - 1``, so it is hit only when that is an
    integer, and its last value is ``max_lr / div_factor /
    final_div_factor``, relative to the initial lr.

    Args:
        max_lr: peak learning rate (> 0).
        total_steps: length of the run in optimizer steps (>= 1).
        pct_start: fraction of the run, in [0, 1], spent rising to the peak.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        div_factor: ``max_lr / div_factor`` is the initial lr (> 0).
        final_div_factor: the last lr is the initial lr divided by this (> 0).
        three_phase: rise to the peak, fall back to the initial lr, then
            anneal to the last lr (momentum falls, rises, then holds).
        base_momentum: lowest momentum, at the peak lr, in [0, 1].
        max_momentum: highest momentum, at the start, in [0, 1].

    Returns:
        ``{"lr": schedule, "momentum": schedule}``, two ``TorchOneCycle``.

    Every other argument set torch accepts stays within its own range over
    the run. With ``pct_start=1`` the whole run is the rise, and torch divides
    by zero only at step ``T``, past the run, where lrkit holds.

    Raises:
        ValueError: an argument is out of range, or ``pct_start * total_steps``
            equals 1, where torch divides zero by zero in its constructor.
            torch accepts a zero or negative ``div_factor`` or
            ``final_div_factor``, which give infinite or negative lrs; lrkit
            rejects them.

    Example:
        >>> curves = torch_one_cycle(0.1, 100)
        >>> curves["lr"](0), curves["lr"](29), curves["lr"](99)
        (0.0040000000000000036, 0.1, 4e-07)
        >>> curves["momentum"](29)
        0.85
    """

    def curve(hyperparameter: str) -> TorchOneCycle:
        return TorchOneCycle(
            max_lr,
            total_steps,
            pct_start,
            anneal_strategy,
            div_factor,
            final_div_factor,
            three_phase,
            base_momentum,
            max_momentum,
            hyperparameter,
        )

    return {"lr": curve("lr"), "momentum": curve("momentum")}
