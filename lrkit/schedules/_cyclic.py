"""Cyclic schedules: triangular cycles and cosine annealing with warm restarts."""

from __future__ import annotations

import math

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import FloatArray, Schedule, register

_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
_CORRECTION_PASSES = 4


def _mix(
    start: float,
    end: float | FloatArray,
    weight: FloatArray,
    bounds: tuple[float, float],
) -> FloatArray:
    """Return ``start + (end - start) * weight`` clamped into ``bounds``.

    Rounding is monotone, so the result is monotone in ``weight`` even when
    ``end`` is within a few ulps of ``start``. Weight 0 gives ``start``
    exactly, and weight 1 is pinned to ``end``.
    """
    top = weight == 1.0
    values = np.multiply(end - start, weight, out=weight)
    values += start
    values[top] = end[top] if isinstance(end, np.ndarray) else end
    np.clip(values, bounds[0], bounds[1], out=values)
    return values


@register
class Cyclic(Schedule):
    """Triangular cycles between ``init_value`` and ``peak_value``, with no end.

    A cycle lasts ``up_steps + down_steps`` steps. At position
    ``j = k mod (up_steps + down_steps)`` in cycle ``c = k // (up_steps +
    down_steps)`` (from 0), the triangle is ``s = j / up_steps`` while
    ``j <= up_steps`` and ``s = (up_steps + down_steps - j) / down_steps``
    after, and

        v(k) = init_value + (peak_value - init_value) * s * f

    where the amplitude factor ``f`` is 1 for ``mode="triangular"``,
    ``1 / 2 ** c`` for ``"triangular2"`` and ``gamma ** k`` for
    ``"exp_range"``. Each cycle starts exactly at ``init_value``. In the
    triangular modes the first peak, at step ``up_steps``, is exactly
    ``peak_value``.

    This is torch's ``CyclicLR(base_lr=init_value, max_lr=peak_value,
    step_size_up=up_steps, step_size_down=down_steps, mode, gamma)``, with
    the same defaults except ``up_steps``, which torch sets to 2000. torch
    cycles momentum inversely, from ``max_momentum`` down to
    ``base_momentum``: that curve is this one with ``init_value=max_momentum``
    and ``peak_value=base_momentum``, since ``peak_value`` may be below
    ``init_value``.

    Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural
    Networks", arXiv:1506.01186, 2017.

    Args:
        init_value: value at the start of every cycle (>= 0).
        peak_value: value at the top of the first cycle (>= 0). It may be
            below ``init_value``, which turns the triangle upside down.
        up_steps: steps from the start of a cycle to its peak (>= 1).
        down_steps: steps from the peak back to the start of the next cycle
            (>= 1), or None for ``up_steps``.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: factor per step of the ``"exp_range"`` amplitude, in (0, 1].
            Other modes ignore it.

    Raises:
        ValueError: an argument is out of range or ``mode`` is unknown.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = cyclic(0.0, 1.0, 2, mode="triangular2")
        >>> [schedule(k) for k in range(9)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25, 0.0]
    """

    __slots__ = (
        "_down_steps",
        "_gamma",
        "_init_value",
        "_mode",
        "_peak_value",
        "_up_steps",
    )
    _init_value: float
    _peak_value: float
    _up_steps: int
    _down_steps: int | None
    _mode: str
    _gamma: float
    _name = "cyclic"
    _fields = ("init_value", "peak_value", "up_steps", "down_steps", "mode", "gamma")

    def __init__(
        self,
        init_value: float,
        peak_value: float,
        up_steps: int,
        down_steps: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        if down_steps is not None:
            down_steps = check.integer("down_steps", down_steps, minimum=1)
        gamma = check.real("gamma", gamma)
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self._init_fields(
            init_value=check.non_negative("init_value", init_value),
            peak_value=check.non_negative("peak_value", peak_value),
            up_steps=check.integer("up_steps", up_steps, minimum=1),
            down_steps=down_steps,
            mode=check.choice("mode", mode, _CYCLIC_MODES),
            gamma=gamma,
        )

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = sorted((self._init_value, self._peak_value))
        return (low, high)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        up = self._up_steps
        down = up if self._down_steps is None else self._down_steps
        cycle, position = np.divmod(steps, up + down)
        weight = np.where(position <= up, position / up, (up + down - position) / down)
        if self._mode == "triangular2":
            weight *= np.exp2(-cycle)
        elif self._mode == "exp_range":
            weight *= np.power(self._gamma, steps)
        return _mix(self._init_value, self._peak_value, weight, self.bounds)


@register
class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR), with no end.

    Cycle ``i`` (from 0) starts at step ``S_i``, the real
    ``cycle_steps * (cycle_mult ** i - 1) / (cycle_mult - 1)`` (``i *
    cycle_steps`` when ``cycle_mult`` is 1) rounded half up, and lasts
    ``L_i = S_(i+1) - S_i`` steps. At local step ``u = k - S_i`` its value is

        v(k) = end_value + (P_i - end_value) * w
        P_i  = end_value + (peak_value - end_value) * cycle_decay ** i

    with ``w = (u + 1) / warmup_steps`` during the first ``warmup_steps``
    steps of the cycle (a linear rise from ``end_value`` that reaches ``P_i``
    on its last step),
    then ``w = (1 + cos(pi * q)) / 2`` with
    ``q = (u - warmup_steps) / (L_i - warmup_steps)``. Every cycle's cosine
    starts exactly at ``P_i`` and stops one step short of ``end_value``, as
    torch's does. The decay shrinks the height above ``end_value``, so the
    value never drops below it.

    With ``cycle_mult`` an integer, ``cycle_decay=1`` and no warmup this is
    torch's ``CosineAnnealingWarmRestarts(T_0=cycle_steps, T_mult=cycle_mult,
    eta_min=end_value)`` scaled to ``peak_value``. Beyond torch it takes a
    real ``cycle_mult`` (composer's ``t_mult`` is real too) and a peak decay
    per cycle (timm's ``cycle_decay``). It also takes a warmup inside each
    cycle: the warmup keeps its length while the whole cycle grows by
    ``cycle_mult``.

    Reference: I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient
    Descent with Warm Restarts", arXiv:1608.03983, 2017.

    Args:
        peak_value: value at the top of the first cycle (>= 0).
        cycle_steps: length of the first cycle in steps, warmup included
            (>= 1), torch's ``T_0``.
        cycle_mult: factor by which each cycle is longer than the one before
            (>= 1), torch's ``T_mult``.
        cycle_decay: factor per cycle on the height above ``end_value``, in
            [0, 1].
        warmup_steps: steps of linear rise at the start of every cycle, from
            0 to ``cycle_steps - 1``.
        end_value: the floor each cosine anneals towards (>= 0,
            ``<= peak_value``), torch's ``eta_min``.

    Raises:
        ValueError: an argument is out of range.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = cosine_restarts(1.0, 2, cycle_mult=2)
        >>> [round(schedule(k), 4) for k in range(8)]
        [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0, 0.9619]
    """

    __slots__ = (
        "_cycle_decay",
        "_cycle_mult",
        "_cycle_steps",
        "_end_value",
        "_peak_value",
        "_warmup_steps",
    )
    _peak_value: float
    _cycle_steps: int
    _cycle_mult: float
    _cycle_decay: float
    _warmup_steps: int
    _end_value: float
    _name = "cosine_restarts"
    _fields = (
        "peak_value",
        "cycle_steps",
        "cycle_mult",
        "cycle_decay",
        "warmup_steps",
        "end_value",
    )

    def __init__(
        self,
        peak_value: float,
        cycle_steps: int,
        cycle_mult: float = 1.0,
        cycle_decay: float = 1.0,
        warmup_steps: int = 0,
        end_value: float = 0.0,
    ) -> None:
        peak_value = check.non_negative("peak_value", peak_value)
        cycle_steps = check.integer("cycle_steps", cycle_steps, minimum=1)
        cycle_mult = _cycle_mult(cycle_mult)
        cycle_decay = check.fraction("cycle_decay", cycle_decay)
        warmup_steps = check.integer("warmup_steps", warmup_steps, minimum=0)
        if warmup_steps >= cycle_steps:
            raise ValueError(
                f"warmup_steps must be < cycle_steps ({cycle_steps}), "
                f"got {warmup_steps}"
            )
        end_value = check.non_negative("end_value", end_value)
        if end_value > peak_value:
            raise ValueError(
                f"end_value must be <= peak_value ({peak_value!r}), got {end_value!r}"
            )
        self._init_fields(
            peak_value=peak_value,
            cycle_steps=cycle_steps,
            cycle_mult=cycle_mult,
            cycle_decay=cycle_decay,
            warmup_steps=warmup_steps,
            end_value=end_value,
        )

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        return (self._end_value, self._peak_value)

    def _cycle_edges(self, cycle: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return the first step of each cycle and of the cycle after it."""
        mult = self._cycle_mult
        if mult == 1.0:
            start = cycle * self._cycle_steps
            return start, start + self._cycle_steps
        # Both edges come from the same expression, so the end of cycle c is
        # bit for bit the start of cycle c + 1 and no step falls in a gap.
        start = self._rounded_start(np.power(mult, cycle))
        end = self._rounded_start(np.power(mult, cycle + 1.0))
        return start, end

    def _rounded_start(self, grown: FloatArray) -> FloatArray:
        """Return ``floor(cycle_steps * (grown - 1) / (cycle_mult - 1) + 0.5)``.

        ``floor(x + 0.5)`` rounds half up and commutes with adding an
        integer, so every cycle is at least ``cycle_steps`` long.
        """
        real = grown - 1.0
        real *= self._cycle_steps / (self._cycle_mult - 1.0)
        real += 0.5
        return np.floor(real, out=real)

    def _locate(self, steps: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return each step's cycle index, cycle start and cycle length."""
        mult = self._cycle_mult
        if mult == 1.0:
            cycle = np.floor_divide(steps, self._cycle_steps)
        else:
            cycle = steps * ((mult - 1.0) / self._cycle_steps)
            np.log1p(cycle, out=cycle)
            cycle /= math.log(mult)
            np.floor(cycle, out=cycle)
        start, end = self._cycle_edges(cycle)
        # The logarithm can land one cycle off next to a restart, and rounding
        # moves the starts, so move each estimate until its cycle contains it.
        # NOTE: past 2**53 float64 cannot hold every integer step, so the
        # position in the cycle is approximate there and the passes stop.
        for _ in range(_CORRECTION_PASSES):
            early = steps < start
            late = steps >= end
            if not (early.any() or late.any()):
                break
            cycle -= early
            cycle += late
            start, end = self._cycle_edges(cycle)
        return cycle, start, end - start

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        cycle, start, length = self._locate(steps)
        # Every cycle is at least cycle_steps long. Enforcing that, and
        # keeping the local step inside its cycle, bounds the values past
        # 2**53, where the starts are rounded to representable floats.
        np.maximum(length, self._cycle_steps, out=length)
        local = steps - start
        np.clip(local, 0.0, length - 1.0, out=local)
        warmup = self._warmup_steps

        anneal = local - warmup
        anneal /= length - warmup
        anneal *= math.pi
        np.cos(anneal, out=anneal)
        anneal += 1.0
        anneal *= 0.5
        weight = np.where(local < warmup, (local + 1.0) / max(warmup, 1), anneal)

        decay = np.power(self._cycle_decay, cycle)
        height = _mix(self._end_value, self._peak_value, decay, self.bounds)
        return _mix(self._end_value, height, weight, self.bounds)


def _cycle_mult(value: object) -> float:
    result = check.real("cycle_mult", value)
    if result < 1:
        raise ValueError(f"cycle_mult must be >= 1, got {result!r}")
    return result


cyclic = Cyclic
cosine_restarts = CosineRestarts
