"""Combinators: schedules built from other schedules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import FloatArray, Schedule, register
from lrkit.schedules._curves import Linear


def _schedule(name: str, value: Any) -> Schedule:
    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be a Schedule, got {type(value).__name__}")
    return value


@register
class Join(Schedule):
    """Schedules end to end, each one seeing its own local step from 0.

    Piece ``i`` starts at the global step ``b_i``, the sum of the lengths of
    the pieces before it, and step ``k`` of the join is step ``k - b_i`` of
    that piece. Every piece but the last must be finite. The join is finite
    when its last piece is.

    Args:
        schedules: the pieces, in order (at least one).

    Example:
        >>> schedule = join([linear(0.0, 1.0, 3), constant(5.0)])
        >>> [schedule(k) for k in range(5)]
        [0.0, 0.5, 1.0, 5.0, 5.0]
        >>> schedule.boundaries
        (3,)
    """

    __slots__ = ("_length", "_schedules", "_starts")
    _schedules: tuple[Schedule, ...]
    _starts: tuple[int, ...]
    _length: int | None
    _name = "join"
    _fields = ("schedules",)

    def __init__(self, schedules: Sequence[Schedule]) -> None:
        if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence):
            raise TypeError(
                f"schedules must be a list of schedules, got {type(schedules).__name__}"
            )
        if not schedules:
            raise ValueError("schedules must hold at least one schedule, got []")
        pieces = tuple(
            _schedule(f"schedules[{index}]", piece)
            for index, piece in enumerate(schedules)
        )
        starts = [0]
        for index, piece in enumerate(pieces[:-1]):
            if piece.length is None:
                raise ValueError(
                    f"schedules[{index}] has no end (length None); "
                    "only the last piece of a join may be endless"
                )
            starts.append(starts[-1] + piece.length)
        last = pieces[-1].length
        self._init_fields(schedules=pieces)
        object.__setattr__(self, "_starts", tuple(starts))
        object.__setattr__(self, "_length", None if last is None else starts[-1] + last)

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The pieces, in order."""
        return self._schedules

    @property
    def boundaries(self) -> tuple[int, ...]:
        """The global step at which each piece after the first starts."""
        return self._starts[1:]

    @property
    def length(self) -> int | None:
        return self._length

    @property
    def bounds(self) -> tuple[float, float]:
        lows, highs = zip(*(piece.bounds for piece in self._schedules), strict=True)
        return (min(lows), max(highs))

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        out = np.empty_like(steps)
        pieces = self._schedules
        starts = self._starts
        if steps.size <= 1 or bool(np.all(steps[1:] >= steps[:-1])):
            # Sorted steps (the common case, np.arange) split into contiguous
            # slices, which avoids the masks and copies of the general path.
            cuts = np.searchsorted(steps, starts[1:], side="left").tolist()
            edges = [0, *cuts, steps.size]
            for piece, start, low, high in zip(
                pieces, starts, edges[:-1], edges[1:], strict=True
            ):
                if high > low:
                    out[low:high] = piece._evaluate(steps[low:high] - start)
            return out
        index = np.searchsorted(np.asarray(starts[1:]), steps, side="right")
        for number, (piece, start) in enumerate(zip(pieces, starts, strict=True)):
            mask = index == number
            if mask.any():
                out[mask] = piece._evaluate(steps[mask] - start)
        return out


class _Composed(Schedule):
    """A schedule evaluated through an internal join of simpler pieces.

    Subclasses serialise their own arguments and set ``_joined`` in
    ``__init__``, which the length, bounds and values come from.
    """

    __slots__ = ("_joined",)
    _joined: Join

    @property
    def length(self) -> int | None:
        return self._joined.length

    @property
    def bounds(self) -> tuple[float, float]:
        return self._joined.bounds

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        return self._joined._evaluate(steps)


@register
class Warmup(_Composed):
    """A linear warmup in front of a schedule, as a prefix.

    The warmup rises from ``init_value`` to the wrapped schedule's first value
    ``v = schedule(0)`` over ``steps`` steps, then the wrapped schedule runs
    from its own step 0. Warmup step ``k`` takes
    ``init_value + (v - init_value) * (k + 1) / steps``: from 0 this is
    ``v * (k + 1) / steps``, so the first update is not made at lr 0 and step
    ``steps - 1`` reaches ``v``.

    Args:
        schedule: the schedule that follows the warmup.
        steps: warmup length in steps (>= 1).
        init_value: the value the warmup rises from (>= 0).

    Example:
        >>> schedule = warmup(constant(1.0), 4)
        >>> [schedule(k) for k in range(6)]
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """

    __slots__ = ("_init_value", "_schedule", "_steps")
    _schedule: Schedule
    _steps: int
    _init_value: float
    _name = "warmup"
    _fields = ("schedule", "steps", "init_value")

    def __init__(self, schedule: Schedule, steps: int, init_value: float = 0.0) -> None:
        schedule = _schedule("schedule", schedule)
        steps = check.integer("steps", steps, minimum=1)
        init_value = check.non_negative("init_value", init_value)
        ramp = Linear(init_value, schedule(0), steps, include_start=False)
        self._init_fields(schedule=schedule, steps=steps, init_value=init_value)
        object.__setattr__(self, "_joined", Join([ramp, schedule]))

    @property
    def boundaries(self) -> tuple[int, ...]:
        """The step at which the wrapped schedule starts, as a 1-tuple."""
        return (self._steps,)


@register
class Scale(Schedule):
    """A schedule multiplied by a constant: ``v(k) = factor * schedule(k)``.

    Use it to turn a multiplier curve (peak 1) into values, or to give a
    shape a different peak without rebuilding it.

    Args:
        schedule: the schedule to scale.
        factor: the constant factor (>= 0).

    Raises:
        ValueError: ``factor`` is negative or not finite.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = scale(linear(0.0, 1.0, 3), 0.1)
        >>> [schedule(k) for k in range(3)]
        [0.0, 0.05, 0.1]
    """

    __slots__ = ("_factor", "_schedule")
    _schedule: Schedule
    _factor: float
    _name = "scale"
    _fields = ("schedule", "factor")

    def __init__(self, schedule: Schedule, factor: float) -> None:
        self._init_fields(
            schedule=_schedule("schedule", schedule),
            factor=check.non_negative("factor", factor),
        )

    @property
    def length(self) -> int | None:
        return self._schedule.length

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = self._schedule.bounds
        return (low * self._factor, high * self._factor)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        values = self._schedule._evaluate(steps)
        values *= self._factor
        return values


@register
class Repeat(Schedule):
    """A finite schedule played again and again from its own step 0.

    Step ``k`` takes ``schedule(k mod L)``, where ``L`` is the schedule's
    length. With ``count=None`` it repeats forever (``length`` is None).
    With a ``count`` it plays that many times, then holds the last value
    (``length`` is ``count * L``).

    Args:
        schedule: the finite schedule to repeat.
        count: number of plays (>= 1), or None for no end.

    Raises:
        ValueError: the schedule has no end, or ``count`` < 1.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = repeat(linear(1.0, 0.0, 3), count=2)
        >>> [schedule(k) for k in range(8)]
        [1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 0.0, 0.0]
    """

    __slots__ = ("_count", "_schedule")
    _schedule: Schedule
    _count: int | None
    _name = "repeat"
    _fields = ("schedule", "count")

    def __init__(self, schedule: Schedule, count: int | None = None) -> None:
        schedule = _schedule("schedule", schedule)
        if schedule.length is None:
            raise ValueError(
                f"schedule must be finite to repeat, got {schedule!r} (length None)"
            )
        if count is not None:
            count = check.integer("count", count, minimum=1)
        self._init_fields(schedule=schedule, count=count)

    @property
    def length(self) -> int | None:
        if self._count is None:
            return None
        assert self._schedule.length is not None
        return self._count * self._schedule.length

    @property
    def bounds(self) -> tuple[float, float]:
        return self._schedule.bounds

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        assert self._schedule.length is not None
        return self._schedule._evaluate(np.mod(steps, self._schedule.length))


@register
class Clip(Schedule):
    """A schedule clipped into ``[low, high]``: ``min(max(schedule(k), low), high)``.

    Use it for a floor under an endless decay (optax's ``end_value`` of
    ``exponential_decay``) or a ceiling over a growing curve.

    Args:
        schedule: the schedule to clip.
        low: the lowest value allowed (>= 0).
        high: the highest value allowed (>= ``low``), or None for no ceiling.

    Raises:
        ValueError: a bound is negative or not finite, or ``high < low``.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = clip(exponential_decay(1.0, 0.5), low=0.2)
        >>> [schedule(k) for k in range(5)]
        [1.0, 0.5, 0.25, 0.2, 0.2]
    """

    __slots__ = ("_high", "_low", "_schedule")
    _schedule: Schedule
    _low: float
    _high: float | None
    _name = "clip"
    _fields = ("schedule", "low", "high")

    def __init__(
        self, schedule: Schedule, low: float = 0.0, high: float | None = None
    ) -> None:
        schedule = _schedule("schedule", schedule)
        low = check.non_negative("low", low)
        if high is not None:
            high = check.real("high", high)
            if high < low:
                raise ValueError(f"high must be >= low ({low!r}), got {high!r}")
        self._init_fields(schedule=schedule, low=low, high=high)

    @property
    def length(self) -> int | None:
        return self._schedule.length

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = (max(bound, self._low) for bound in self._schedule.bounds)
        if self._high is not None:
            low, high = min(low, self._high), min(high, self._high)
        return (low, high)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        values = self._schedule._evaluate(steps)
        return np.clip(values, self._low, self._high, out=values)


join = Join
warmup = Warmup
scale = Scale
repeat = Repeat
clip = Clip
