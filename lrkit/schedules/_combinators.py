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


@register
class Warmup(Schedule):
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

    __slots__ = ("_init_value", "_joined", "_schedule", "_steps")
    _schedule: Schedule
    _steps: int
    _init_value: float
    _joined: Join
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
    def length(self) -> int | None:
        return self._joined.length

    @property
    def bounds(self) -> tuple[float, float]:
        return self._joined.bounds

    @property
    def boundaries(self) -> tuple[int, ...]:
        """The step at which the wrapped schedule starts, as a 1-tuple."""
        return (self._steps,)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        return self._joined._evaluate(steps)


join = Join
warmup = Warmup
