"""Decays: exponential, polynomial, step-wise and inverse square root."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import FloatArray, Schedule, register
from lrkit.schedules._curves import _Interpolation


@register
class Exponential(_Interpolation):
    """Geometric interpolation: ``v(k) = init_value * (end_value / init_value) ** p``.

    The progress is ``p = k / (steps - 1)``, or ``(k + 1) / steps`` with
    ``include_start=False``, as in ``linear``. The value changes by the same
    factor every step, so the curve is a straight line on a log axis. Step 0
    is exactly ``init_value``, step ``steps - 1`` exactly ``end_value``, and
    the curve holds ``end_value`` after that.

    This is fastai's ``SchedExp`` (the lr finder's sweep), with fastai's
    progress ``i / N`` replaced by lrkit's ``k / (steps - 1)`` so that the last
    step reaches ``end_value``. For a decay by a fixed factor per step with no
    end, use ``exponential_decay``.

    Args:
        init_value: value at step 0 (> 0).
        end_value: value at step ``steps - 1`` and after (> 0).
        steps: number of steps the curve spans (>= 1).
        include_start: if False, ``p = (k + 1) / steps``.

    Raises:
        ValueError: a value is not > 0 or finite, or ``steps`` < 1.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = exponential(1.0, 0.001, 4)
        >>> [round(schedule(k), 12) for k in range(5)]
        [1.0, 0.1, 0.01, 0.001, 0.001]
    """

    __slots__ = ()
    _name = "exponential"

    def __init__(
        self,
        init_value: float,
        end_value: float,
        steps: int,
        *,
        include_start: bool = True,
    ) -> None:
        super().__init__(
            check.positive("init_value", init_value),
            check.positive("end_value", end_value),
            steps,
            include_start=include_start,
        )

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        progress = self._progress(steps)
        ends = progress == 1.0
        values = np.power(self._end_value / self._init_value, progress)
        values *= self._init_value
        # The power rounds, so pin the last step to the exact end value.
        values[ends] = self._end_value
        low, high = self.bounds
        np.clip(values, low, high, out=values)
        return values


@register
class ExponentialDecay(Schedule):
    """Decay by a factor ``gamma`` every ``decay_steps``: ``init_value * gamma ** e``.

    The exponent is ``e = k / decay_steps``, or ``floor(k / decay_steps)`` with
    ``staircase=True``. The schedule has no end (``length`` is None) and
    approaches 0 for ``gamma < 1``.

    With the defaults this is torch's ``ExponentialLR(gamma)`` scaled by
    ``init_value``. With ``staircase=True`` it is torch's
    ``StepLR(step_size=decay_steps, gamma)`` (see ``step_decay``). In general
    it is optax's ``exponential_decay(init_value, decay_steps, gamma,
    staircase=...)`` with no ``transition_begin`` and no ``end_value``. Wrap
    it in ``clip`` for a floor.

    Args:
        init_value: value at step 0 (>= 0).
        gamma: factor applied per ``decay_steps`` steps, in (0, 1].
        decay_steps: steps per factor of ``gamma`` (>= 1).
        staircase: if True, the value changes only every ``decay_steps``.

    Raises:
        ValueError: ``init_value`` < 0, ``gamma`` outside (0, 1], or
            ``decay_steps`` < 1.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = exponential_decay(1.0, 0.5)
        >>> [schedule(k) for k in range(4)]
        [1.0, 0.5, 0.25, 0.125]
        >>> stairs = exponential_decay(1.0, 0.5, decay_steps=2, staircase=True)
        >>> [stairs(k) for k in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    __slots__ = ("_decay_steps", "_gamma", "_init_value", "_staircase")
    _init_value: float
    _gamma: float
    _decay_steps: int
    _staircase: bool
    _name = "exponential_decay"
    _fields = ("init_value", "gamma", "decay_steps", "staircase")

    def __init__(
        self,
        init_value: float,
        gamma: float,
        decay_steps: int = 1,
        staircase: bool = False,
    ) -> None:
        self._init_fields(
            init_value=check.non_negative("init_value", init_value),
            gamma=_factor("gamma", gamma),
            decay_steps=check.integer("decay_steps", decay_steps, minimum=1),
            staircase=check.boolean("staircase", staircase),
        )

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        low = self._init_value if self._gamma == 1.0 else 0.0
        return (low, self._init_value)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        exponent = steps / self._decay_steps
        if self._staircase:
            np.floor(exponent, out=exponent)
        # np.power writing into its own input rounds differently for one
        # element than for many, so it gets a fresh output array.
        values = np.power(self._gamma, exponent)
        values *= self._init_value
        return values


def step_decay(init_value: float, decay_steps: int, gamma: float = 0.1) -> Schedule:
    """Build torch's StepLR shape: multiply by ``gamma`` every ``decay_steps``.

    ``v(k) = init_value * gamma ** floor(k / decay_steps)``. This returns
    ``exponential_decay(init_value, gamma, decay_steps, staircase=True)``, so
    its ``repr`` and ``to_dict`` name ``exponential_decay``. torch's
    ``StepLR(step_size=decay_steps, gamma=gamma)`` gives the same values as
    multipliers of each group's base lr. The default ``gamma`` is torch's.

    Args:
        init_value: value at step 0 (>= 0).
        decay_steps: steps between decays (>= 1), torch's ``step_size``.
        gamma: factor applied at each decay, in (0, 1].

    Raises:
        ValueError: an argument is out of range.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = step_decay(1.0, 3)
        >>> [round(schedule(k), 12) for k in range(7)]
        [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01]
    """
    return ExponentialDecay(init_value, gamma, decay_steps, staircase=True)


@register
class Polynomial(_Interpolation):
    """Polynomial decay from ``init_value`` to ``end_value`` over ``steps`` steps.

    ``v(k) = end_value + (init_value - end_value) * (1 - p) ** power``. The
    progress is ``p = k / (steps - 1)``, or ``(k + 1) / steps`` with
    ``include_start=False``, as in ``linear``. Both ends are exact and the
    curve holds ``end_value`` after step ``steps - 1``. ``power=1`` is
    ``linear``, and ``power > 1`` falls fast early, ``power < 1`` late.

    torch's ``PolynomialLR(total_iters=N, power)`` reaches 0 at step ``N`` and
    optax's ``polynomial_schedule(init, end, power, transition_steps=N)``
    reaches ``end`` at step ``N``. Both equal
    ``polynomial(init, end, N + 1, power=power)``: lrkit counts the steps the
    curve spans, which is one more than the peers' ``N``.

    Args:
        init_value: value at step 0 (>= 0).
        end_value: value at step ``steps - 1`` and after (>= 0).
        steps: number of steps the curve spans (>= 1).
        power: exponent of the decay (> 0).
        include_start: if False, ``p = (k + 1) / steps``.

    Raises:
        ValueError: a value is negative or not finite, ``steps`` < 1 or
            ``power`` <= 0.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = polynomial(1.0, 0.0, 3, power=2.0)
        >>> [schedule(k) for k in range(4)]
        [1.0, 0.25, 0.0, 0.0]
    """

    __slots__ = ("_power",)
    _power: float
    _name = "polynomial"
    _fields: ClassVar[tuple[str, ...]] = (
        "init_value",
        "end_value",
        "steps",
        "power",
        "include_start",
    )

    def __init__(
        self,
        init_value: float,
        end_value: float,
        steps: int,
        power: float = 1.0,
        *,
        include_start: bool = True,
    ) -> None:
        self._init_fields(
            init_value=check.non_negative("init_value", init_value),
            end_value=check.non_negative("end_value", end_value),
            steps=check.integer("steps", steps, minimum=1),
            power=check.positive("power", power),
            include_start=check.boolean("include_start", include_start),
        )

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        weight = 1.0 - self._progress(steps)
        return self._mix(np.power(weight, self._power))


@register
class MultiStep(Schedule):
    """Multiply by ``gamma`` at each milestone: ``init_value * gamma ** n(k)``.

    ``n(k)`` is the number of milestones ``<= k`` (Python's
    ``bisect_right(milestones, k)``), so the value at a milestone step is
    already decayed. This is torch's ``MultiStepLR(milestones, gamma)`` as a
    multiplier of ``init_value``, with the same default ``gamma``. The value
    is constant from the last milestone on, so the schedule is finite with
    ``length = milestones[-1] + 1`` and holds that value.

    Args:
        init_value: value before the first milestone (>= 0).
        milestones: steps at which the value is multiplied, strictly
            increasing integers >= 1 (at least one).
        gamma: factor applied at each milestone (> 0; above 1 it grows).

    Raises:
        ValueError: ``milestones`` is empty, not strictly increasing or has a
            step < 1, or a value is out of range.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = multi_step(1.0, [2, 4], gamma=0.5)
        >>> [schedule(k) for k in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    __slots__ = ("_gamma", "_init_value", "_levels", "_milestones")
    _init_value: float
    _milestones: tuple[int, ...]
    _gamma: float
    _levels: FloatArray
    _name = "multi_step"
    _fields = ("init_value", "milestones", "gamma")

    def __init__(
        self, init_value: float, milestones: Sequence[int], gamma: float = 0.1
    ) -> None:
        self._init_fields(
            init_value=check.non_negative("init_value", init_value),
            milestones=_milestone_tuple(milestones),
            gamma=check.positive("gamma", gamma),
        )
        levels = np.power(self._gamma, np.arange(len(self._milestones) + 1.0))
        levels *= self._init_value
        object.__setattr__(self, "_levels", levels)

    @property
    def length(self) -> int:
        return self._milestones[-1] + 1

    @property
    def bounds(self) -> tuple[float, float]:
        return (float(self._levels.min()), float(self._levels.max()))

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        count = np.searchsorted(self._milestones, steps, side="right")
        return self._levels[count]


@register
class InverseSqrt(Schedule):
    """Inverse square root decay with no end, from ``init_value`` at step 0.

    ``v(k) = init_value * sqrt(timescale / (timescale + k))``. Step 0 is
    exactly ``init_value``, and the value halves by step ``3 * timescale``.
    It has no end (``length`` is None) and never reaches 0.

    This is the warmup-free form. Hugging Face's ``inverse_sqrt`` schedule
    with ``num_warmup_steps=w`` and ``timescale=T`` equals
    ``warmup(inverse_sqrt(peak, T), w)`` from step ``w`` on, since its
    multiplier there is ``1 / sqrt((t - w + T) / T)``. Its warmup differs
    (it starts at 0, lrkit's ``warmup`` one step above). The Transformer's
    rsqrt schedule, ``d ** -0.5 * min(t ** -0.5, t * w ** -1.5)`` from
    ``t = 1``, decays as ``1 / sqrt(t)`` after its warmup: that is this shape
    with ``timescale = w`` up to the one-step offset.

    Args:
        init_value: value at step 0 (>= 0).
        timescale: steps over which the decay starts (> 0), Hugging Face's
            ``timescale``.

    Raises:
        ValueError: a value is negative, zero where it must be > 0, or not
            finite.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = inverse_sqrt(1.0, timescale=100)
        >>> schedule(0), schedule(300), schedule(1500)
        (1.0, 0.5, 0.25)
    """

    __slots__ = ("_init_value", "_timescale")
    _init_value: float
    _timescale: float
    _name = "inverse_sqrt"
    _fields = ("init_value", "timescale")

    def __init__(self, init_value: float, timescale: float) -> None:
        self._init_fields(
            init_value=check.non_negative("init_value", init_value),
            timescale=check.positive("timescale", timescale),
        )

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        return (0.0, self._init_value)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        ratio = steps + self._timescale
        np.divide(self._timescale, ratio, out=ratio)
        values = np.sqrt(ratio, out=ratio)
        values *= self._init_value
        return values


def _factor(name: str, value: object) -> float:
    """Return a decay factor in (0, 1]."""
    result = check.real(name, value)
    if not 0 < result <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {result!r}")
    return result


def _milestone_tuple(milestones: object) -> tuple[int, ...]:
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
        kind = type(milestones).__name__
        raise TypeError(f"milestones must be a list of integers, got {kind}")
    if not milestones:
        raise ValueError("milestones must hold at least one step, got []")
    steps = tuple(
        check.integer(f"milestones[{index}]", step, minimum=1)
        for index, step in enumerate(milestones)
    )
    for index in range(1, len(steps)):
        if steps[index] <= steps[index - 1]:
            raise ValueError(
                f"milestones must be strictly increasing, got {list(steps)!r}"
            )
    return steps


exponential = Exponential
exponential_decay = ExponentialDecay
polynomial = Polynomial
multi_step = MultiStep
inverse_sqrt = InverseSqrt
