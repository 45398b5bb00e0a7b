"""Basic curves: constant, linear and cosine interpolation between two values."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import FloatArray, Schedule, register


@register
class Constant(Schedule):
    """The same value at every step. It has no end (``length`` is None).

    Args:
        value: the value at every step (>= 0).

    Example:
        >>> constant(0.1)(1_000_000)
        0.1
    """

    __slots__ = ("_value",)
    _value: float
    _name = "constant"
    _fields = ("value",)

    def __init__(self, value: float) -> None:
        self._init_fields(value=check.non_negative("value", value))

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        return (self._value, self._value)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        return np.full_like(steps, self._value)


class _Interpolation(Schedule):
    """A curve from ``init_value`` to ``end_value`` over ``steps`` steps.

    With ``include_start=True`` the progress at step ``k`` is
    ``p = k / (steps - 1)``, so step 0 is exactly ``init_value`` and step
    ``steps - 1`` exactly ``end_value``. With ``include_start=False`` it is
    ``p = (k + 1) / steps``: the curve starts one step past ``init_value``, as a
    warmup or the second half of a one-cycle does, and still ends exactly at
    ``end_value``. A one-step curve takes ``end_value``.
    """

    __slots__ = ("_end_value", "_include_start", "_init_value", "_steps")
    _init_value: float
    _end_value: float
    _steps: int
    _include_start: bool
    _fields: ClassVar[tuple[str, ...]] = (
        "init_value",
        "end_value",
        "steps",
        "include_start",
    )

    def __init__(
        self,
        init_value: float,
        end_value: float,
        steps: int,
        *,
        include_start: bool = True,
    ) -> None:
        self._init_fields(
            init_value=check.non_negative("init_value", init_value),
            end_value=check.non_negative("end_value", end_value),
            steps=check.integer("steps", steps, minimum=1),
            include_start=check.boolean("include_start", include_start),
        )

    @property
    def length(self) -> int:
        return self._steps

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = sorted((self._init_value, self._end_value))
        return (low, high)

    def _progress(self, steps: FloatArray) -> FloatArray:
        """Return the progress p in [0, 1] at each step, as a new array."""
        denominator = self._steps - 1 if self._include_start else self._steps
        if denominator == 0:
            return np.ones_like(steps)
        if self._include_start:
            return steps / denominator
        progress = steps + 1.0
        progress /= denominator
        return progress

    def _mix(self, weight: FloatArray) -> FloatArray:
        """Return ``end + (init - end) * weight`` clamped into the bounds.

        Rounding is monotone, so the values are monotone in ``weight`` even
        when the two ends are a few ulps apart (two products summed are not).
        Weight 0 gives ``end_value`` exactly, and weight 1 is pinned to
        ``init_value``.
        """
        top = weight == 1.0
        weight *= self._init_value - self._end_value
        weight += self._end_value
        weight[top] = self._init_value
        low, high = self.bounds
        np.clip(weight, low, high, out=weight)
        return weight


@register
class Linear(_Interpolation):
    """Linear interpolation: ``v(k) = init_value * (1 - p) + end_value * p``.

    Here ``p = k / (steps - 1)``, or ``(k + 1) / steps`` with
    ``include_start=False`` (see below). Past ``steps - 1`` it holds
    ``end_value``.

    Args:
        init_value: value at step 0 (>= 0).
        end_value: value at step ``steps - 1`` and after (>= 0).
        steps: number of steps the curve spans (>= 1).
        include_start: if False, step 0 is already one step past
            ``init_value``, so ``p = (k + 1) / steps``. A warmup uses this so
            that its first update is not made at ``init_value``.

    Example:
        >>> schedule = linear(0.0, 1.0, 5)
        >>> [schedule(k) for k in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
        >>> linear(0.0, 1.0, 4, include_start=False)(0)
        0.25
    """

    __slots__ = ()
    _name = "linear"

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        return self._mix(1.0 - self._progress(steps))


@register
class Cosine(_Interpolation):
    """Half-cosine anneal: ``v(k) = init_value * w + end_value * (1 - w)``.

    The weight is ``w = (1 + cos(pi * p)) / 2``, with the progress ``p`` of
    ``linear``: ``k / (steps - 1)``, or ``(k + 1) / steps`` with
    ``include_start=False``. The curve is flat at both ends. Past
    ``steps - 1`` it holds ``end_value``. This is torch's CosineAnnealingLR
    with ``T_max = steps - 1`` and ``eta_min = end_value``, held instead of
    rising again after ``T_max``.

    Args:
        init_value: value at step 0 (>= 0).
        end_value: value at step ``steps - 1`` and after (>= 0).
        steps: number of steps the curve spans (>= 1).
        include_start: if False, ``p = (k + 1) / steps``.

    Example:
        >>> schedule = cosine(1.0, 0.0, 3)
        >>> [schedule(k) for k in range(3)]
        [1.0, 0.5, 0.0]
    """

    __slots__ = ()
    _name = "cosine"

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        weight = self._progress(steps)
        weight *= math.pi
        np.cos(weight, out=weight)
        weight += 1.0
        weight *= 0.5
        return self._mix(weight)


constant = Constant
linear = Linear
cosine = Cosine
