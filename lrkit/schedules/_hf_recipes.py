"""Hugging Face transformers' warmup schedules as lrkit multipliers.

Each class reproduces one ``lr_lambda`` of ``transformers.optimization``
(read from transformers 5.25): its value at step ``t`` is the multiplier that
``LambdaLR`` applies to a group's initial lr after ``t`` calls to
``scheduler.step()``, so step 0 is the value set at construction. Every float
operation runs in the order transformers uses, so the multipliers are equal
to transformers' for every step of the run, ``0 <= t < num_training_steps``.
Past the run, lrkit holds the value of the last step. transformers instead
returns 0 from step ``num_training_steps`` on for the linear, cosine and
hard-restart schedules, and its cosine schedules climb back up after that.

The cosine curves use numpy's ``cos``; the results equal transformers'
wherever it returns the same double as the C library's ``cos`` (true on
Linux x86-64 with numpy 2.4). Powers go through Python's ``**``, because
numpy's vectorised ``power`` rounds differently on some CPUs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import FloatArray, Schedule, register
from lrkit.schedules._torch_recipes import extremes

_SHAPES = ("linear", "cosine", "1-sqrt")


def _bounds(
    schedule: Schedule, steps: Iterable[int], extra: Iterable[float] = ()
) -> tuple[float, float]:
    """Return bounds from the values at ``steps`` and the ``extra`` values.

    ``steps`` are the first and last steps of the monotone pieces, clipped
    into the run. ``extra`` holds the extremes of a cosine that turns within
    a piece, which may lie between steps and then are not reached exactly.
    """
    last = None if schedule.length is None else schedule.length - 1
    clipped = (
        max(step, 0) if last is None else min(max(step, 0), last) for step in steps
    )
    low, high = extremes(schedule, clipped)
    values = [low, high, *extra]
    return (min(values), max(values))


def _cosine_factor(num_cycles: float, progress: FloatArray) -> FloatArray:
    """Compute ``0.5 * (1.0 + cos(pi * num_cycles * 2.0 * progress))``."""
    factor = np.cos(math.pi * float(num_cycles) * 2.0 * progress)
    factor += 1.0
    factor *= 0.5
    return factor


def _floored(factor: FloatArray, ratio: float) -> FloatArray:
    """Compute ``max(0, factor * (1 - ratio) + ratio)`` in that order."""
    factor *= 1 - ratio
    factor += ratio
    return np.maximum(factor, 0.0, out=factor)


class _WithWarmup(Schedule):
    """A multiplier that rises as ``t / max(1, w)`` for ``t < w``, then decays."""

    __slots__ = ()
    _num_warmup_steps: int

    def _decay(self, steps: FloatArray) -> FloatArray:
        """Return the multiplier at steps ``>= num_warmup_steps``."""
        raise NotImplementedError

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        warmup_steps = self._num_warmup_steps
        values = np.empty_like(steps)
        rising = steps < warmup_steps
        values[rising] = steps[rising] / float(max(1, warmup_steps))
        decaying = ~rising
        if decaying.any():
            values[decaying] = self._decay(steps[decaying])
        return values

    def _edges(self) -> list[int]:
        """Return the first and last warmup steps and the first decay step."""
        return [0, self._num_warmup_steps - 1, self._num_warmup_steps]


def _run_arguments(num_warmup_steps: int, num_training_steps: int) -> dict[str, int]:
    return {
        "num_warmup_steps": check.integer(
            "num_warmup_steps", num_warmup_steps, minimum=0
        ),
        "num_training_steps": check.integer(
            "num_training_steps", num_training_steps, minimum=1
        ),
    }


@register
class HfConstantWithWarmup(_WithWarmup):
    """transformers' ``get_constant_schedule_with_warmup`` multiplier.

    ``m(t) = t / max(1, w)`` for ``t < w``, then 1 forever (no end), with
    ``w = num_warmup_steps``.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).

    Example:
        >>> schedule = hf_constant_schedule_with_warmup(4)
        >>> [schedule(t) for t in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """

    __slots__ = ("_num_warmup_steps",)
    _name = "hf_constant_schedule_with_warmup"
    _fields = ("num_warmup_steps",)

    def __init__(self, num_warmup_steps: int) -> None:
        self._init_fields(
            num_warmup_steps=check.integer(
                "num_warmup_steps", num_warmup_steps, minimum=0
            )
        )

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        return _bounds(self, self._edges())

    def _decay(self, steps: FloatArray) -> FloatArray:
        return np.ones_like(steps)


class _TrainingRun(_WithWarmup):
    """A warmup multiplier over a run of ``num_training_steps`` steps."""

    __slots__ = ()
    _num_training_steps: int

    @property
    def length(self) -> int:
        return self._num_training_steps

    def _edges(self) -> list[int]:
        return [*super()._edges(), self._num_training_steps - 1]

    def _progress(self, steps: FloatArray) -> FloatArray:
        """Return ``(t - w) / max(1, T - w)``, the progress through the decay."""
        warmup_steps = self._num_warmup_steps
        span = float(max(1, self._num_training_steps - warmup_steps))
        return (steps - warmup_steps) / span


@register
class HfLinearWithWarmup(_TrainingRun):
    """transformers' ``get_linear_schedule_with_warmup`` multiplier.

    ``m(t) = t / max(1, w)`` for ``t < w``, then
    ``max(0, (T - t) / max(1, T - w))``, with ``w = num_warmup_steps`` and
    ``T = num_training_steps``. The last step of the run is ``1 / (T - w)``
    and is held after it, where transformers goes to 0.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        num_training_steps: run length in optimizer steps (>= 1).

    Example:
        >>> schedule = hf_linear_schedule_with_warmup(2, 6)
        >>> [schedule(t) for t in range(7)]
        [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.25]
    """

    __slots__ = ("_num_training_steps", "_num_warmup_steps")
    _name = "hf_linear_schedule_with_warmup"
    _fields = ("num_warmup_steps", "num_training_steps")

    def __init__(self, num_warmup_steps: int, num_training_steps: int) -> None:
        self._init_fields(**_run_arguments(num_warmup_steps, num_training_steps))

    @property
    def bounds(self) -> tuple[float, float]:
        return _bounds(self, self._edges())

    def _decay(self, steps: FloatArray) -> FloatArray:
        total = self._num_training_steps
        span = float(max(1, total - self._num_warmup_steps))
        values = (total - steps) / span
        return np.maximum(values, 0.0, out=values)


class _CosineDecay(_TrainingRun):
    """A warmup, then a cosine decay towards ``min_lr_rate`` (floored at 0)."""

    __slots__ = (
        "_min_lr_rate",
        "_num_cycles",
        "_num_training_steps",
        "_num_warmup_steps",
    )
    _num_cycles: float
    _min_lr_rate: float

    def _set_fields(
        self,
        num_warmup_steps: int,
        num_training_steps: int,
        num_cycles: float,
        min_lr_rate: float,
    ) -> None:
        values = _run_arguments(num_warmup_steps, num_training_steps)
        for name, value in values.items():
            object.__setattr__(self, "_" + name, value)
        num_cycles = check.non_negative("num_cycles", num_cycles)
        object.__setattr__(self, "_num_cycles", num_cycles)
        min_lr_rate = check.fraction("min_lr_rate", min_lr_rate)
        object.__setattr__(self, "_min_lr_rate", min_lr_rate)

    @property
    def bounds(self) -> tuple[float, float]:
        extra: list[float] = []
        if self._num_cycles > 0.5:
            rate = self._min_lr_rate
            extra = [rate, 1.0 * (1 - rate) + rate]
        return _bounds(self, self._edges(), extra)

    def _decay(self, steps: FloatArray) -> FloatArray:
        factor = _cosine_factor(self._num_cycles, self._progress(steps))
        return _floored(factor, self._min_lr_rate)


@register
class HfCosineWithMinLr(_CosineDecay):
    """transformers' ``get_cosine_with_min_lr_schedule_with_warmup`` multiplier.

    ``m(t) = t / max(1, w)`` for ``t < w``; then, with
    ``p = (t - w) / max(1, T - w)``,
    ``c = 0.5 * (1 + cos(pi * num_cycles * 2 * p))`` and
    ``m(t) = max(0, c * (1 - min_lr_rate) + min_lr_rate)``. With the default
    ``num_cycles=0.5`` it falls from 1 towards ``min_lr_rate``, which it
    would reach at ``t = T``. transformers' ``min_lr`` argument is
    ``min_lr_rate = min_lr / optimizer.defaults["lr"]``.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        num_training_steps: run length in optimizer steps (>= 1).
        num_cycles: number of cosine periods over the decay (>= 0).
        min_lr_rate: floor as a fraction of the initial lr, in [0, 1].

    Example:
        >>> schedule = hf_cosine_with_min_lr_schedule_with_warmup(
        ...     0, 4, min_lr_rate=0.1
        ... )
        >>> [round(schedule(t), 6) for t in range(4)]
        [1.0, 0.868198, 0.55, 0.231802]
    """

    __slots__ = ()
    _name = "hf_cosine_with_min_lr_schedule_with_warmup"
    _fields = ("num_warmup_steps", "num_training_steps", "num_cycles", "min_lr_rate")

    def __init__(
        self,
        num_warmup_steps: int,
        num_training_steps: int,
        num_cycles: float = 0.5,
        *,
        min_lr_rate: float,
    ) -> None:
        self._set_fields(num_warmup_steps, num_training_steps, num_cycles, min_lr_rate)


@register
class HfCosineWithWarmup(_CosineDecay):
    """transformers' ``get_cosine_schedule_with_warmup`` multiplier.

    ``m(t) = t / max(1, w)`` for ``t < w``, then
    ``max(0, 0.5 * (1 + cos(pi * num_cycles * 2 * p)))`` with
    ``p = (t - w) / max(1, T - w)``: the min-lr cosine with a floor of 0,
    which is how transformers computes it too. With the default
    ``num_cycles=0.5`` it falls from 1 towards 0, which it would reach at
    ``t = T``; transformers climbs again after that, lrkit holds the value
    of step ``T - 1``.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        num_training_steps: run length in optimizer steps (>= 1).
        num_cycles: number of cosine periods over the decay (>= 0).

    Example:
        >>> schedule = hf_cosine_schedule_with_warmup(1, 5)
        >>> [round(schedule(t), 6) for t in range(6)]
        [0.0, 1.0, 0.853553, 0.5, 0.146447, 0.146447]
    """

    __slots__ = ()
    _name = "hf_cosine_schedule_with_warmup"
    _fields = ("num_warmup_steps", "num_training_steps", "num_cycles")

    def __init__(
        self, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5
    ) -> None:
        self._set_fields(num_warmup_steps, num_training_steps, num_cycles, 0.0)


@register
class HfCosineWithHardRestarts(_TrainingRun):
    """transformers' ``get_cosine_with_hard_restarts_schedule_with_warmup``.

    ``m(t) = t / max(1, w)`` for ``t < w``; then, with
    ``p = (t - w) / max(1, T - w)``,
    ``m(t) = max(0, 0.5 * (1 + cos(pi * ((num_cycles * p) mod 1))))``: the
    decay from 1 towards 0 restarts ``num_cycles`` times over the run.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        num_training_steps: run length in optimizer steps (>= 1).
        num_cycles: number of decays from 1 (>= 1).

    Example:
        >>> schedule = hf_cosine_with_hard_restarts_schedule_with_warmup(0, 4, 2)
        >>> [round(schedule(t), 6) for t in range(4)]
        [1.0, 0.5, 1.0, 0.5]
    """

    __slots__ = ("_num_cycles", "_num_training_steps", "_num_warmup_steps")
    _num_cycles: int
    _name = "hf_cosine_with_hard_restarts_schedule_with_warmup"
    _fields = ("num_warmup_steps", "num_training_steps", "num_cycles")

    def __init__(
        self, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1
    ) -> None:
        self._init_fields(
            **_run_arguments(num_warmup_steps, num_training_steps),
            num_cycles=check.integer("num_cycles", num_cycles, minimum=1),
        )

    @property
    def bounds(self) -> tuple[float, float]:
        return _bounds(self, self._edges(), [0.0, 1.0])

    def _decay(self, steps: FloatArray) -> FloatArray:
        progress = self._progress(steps)
        turn = float(self._num_cycles) * progress
        np.remainder(turn, 1.0, out=turn)
        factor = np.cos(math.pi * turn)
        factor += 1.0
        factor *= 0.5
        np.maximum(factor, 0.0, out=factor)
        factor[progress >= 1.0] = 0.0
        return factor


@register
class HfPolynomialDecayWithWarmup(_TrainingRun):
    """transformers' ``get_polynomial_decay_schedule_with_warmup`` multiplier.

    ``m(t) = t / max(1, w)`` for ``t < w``; then, with
    ``r = 1 - (t - w) / (T - w)``,
    ``m(t) = ((lr_init - lr_end) * r ** power + lr_end) / lr_init``. It falls
    from 1 towards ``lr_end / lr_init``, reached at ``t = T``. transformers
    takes ``lr_init`` from ``optimizer.defaults["lr"]``, so every group gets
    the same multiplier even when its own lr differs.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        num_training_steps: run length in optimizer steps (>= 1).
        lr_end: final lr, absolute (>= 0, < ``lr_init``).
        power: exponent of the decay (>= 0).
        lr_init: the optimizer's default lr (> ``lr_end``).

    Example:
        >>> schedule = hf_polynomial_decay_schedule_with_warmup(
        ...     0, 4, lr_end=0.0, power=2.0, lr_init=1.0
        ... )
        >>> [schedule(t) for t in range(4)]
        [1.0, 0.5625, 0.25, 0.0625]
    """

    __slots__ = (
        "_lr_end",
        "_lr_init",
        "_num_training_steps",
        "_num_warmup_steps",
        "_power",
    )
    _lr_end: float
    _power: float
    _lr_init: float
    _name = "hf_polynomial_decay_schedule_with_warmup"
    _fields = ("num_warmup_steps", "num_training_steps", "lr_end", "power", "lr_init")

    def __init__(
        self,
        num_warmup_steps: int,
        num_training_steps: int,
        lr_end: float = 1e-7,
        power: float = 1.0,
        *,
        lr_init: float,
    ) -> None:
        lr_end = check.non_negative("lr_end", lr_end)
        lr_init = check.positive("lr_init", lr_init)
        if not lr_init > lr_end:
            raise ValueError(
                f"lr_end must be smaller than lr_init, got lr_end={lr_end!r} "
                f"and lr_init={lr_init!r}"
            )
        self._init_fields(
            **_run_arguments(num_warmup_steps, num_training_steps),
            lr_end=lr_end,
            power=check.non_negative("power", power),
            lr_init=lr_init,
        )

    @property
    def bounds(self) -> tuple[float, float]:
        return _bounds(self, self._edges())

    def _decay(self, steps: FloatArray) -> FloatArray:
        warmup_steps = self._num_warmup_steps
        remaining = 1 - (steps - warmup_steps) / float(
            self._num_training_steps - warmup_steps
        )
        if self._power != 1.0:
            power = self._power
            remaining = np.array([base**power for base in remaining.tolist()])
        decay = (self._lr_init - self._lr_end) * remaining + self._lr_end
        return decay / self._lr_init


@register
class HfInverseSqrt(_WithWarmup):
    """transformers' ``get_inverse_sqrt_schedule`` multiplier (no end).

    ``m(t) = t / max(1, w)`` for ``t < w``, then
    ``1 / sqrt((t + s - w) / s)`` with ``s = timescale``, which is 1 at
    ``t = w``. ``timescale=None`` means ``w``, or 10000 when ``w = 0``.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        timescale: decay time scale in optimizer steps (>= 1), or None.

    Example:
        >>> schedule = hf_inverse_sqrt_schedule(2)
        >>> [schedule(t) for t in (0, 1, 2, 8)]
        [0.0, 0.5, 1.0, 0.5]
    """

    __slots__ = ("_num_warmup_steps", "_timescale")
    _timescale: int | None
    _name = "hf_inverse_sqrt_schedule"
    _fields = ("num_warmup_steps", "timescale")

    def __init__(self, num_warmup_steps: int, timescale: int | None = None) -> None:
        self._init_fields(
            num_warmup_steps=check.integer(
                "num_warmup_steps", num_warmup_steps, minimum=0
            ),
            timescale=None
            if timescale is None
            else check.integer("timescale", timescale, minimum=1),
        )

    @property
    def length(self) -> None:
        return None

    @property
    def bounds(self) -> tuple[float, float]:
        return _bounds(self, self._edges(), [0.0])

    def _decay(self, steps: FloatArray) -> FloatArray:
        timescale = self._timescale
        if timescale is None:
            timescale = self._num_warmup_steps or 10_000
        shift = timescale - self._num_warmup_steps
        values = np.sqrt((steps + shift) / float(timescale))
        return np.divide(1.0, values, out=values)


@register
class HfWsd(Schedule):
    """transformers' ``get_wsd_schedule`` multiplier: warmup, stable, decay.

    With ``w, S, D`` the warmup, stable and decay lengths and
    ``m = min_lr_ratio``::

        t < w:              p = t / max(1, w)
                            linear p; cosine 0.5 * (1 - cos(pi * p));
                            1-sqrt 1 - sqrt(1 - p); then f * (1 - m) + m
        t < w + S:          1
        t < w + S + D:      p = (t - w - S) / max(1, D)
                            linear 1 - p;
                            cosine 0.5 * (1 + cos(pi * num_cycles * 2 * p));
                            1-sqrt 1 - sqrt(p); then f * (1 - m) + m
        after:              m

    The warmup starts at ``m``, not 0. ``S`` defaults to
    ``num_training_steps - w - D``. The run lasts ``num_training_steps``
    steps when given, else ``w + S + D``; lrkit holds the last value after
    it, where transformers returns ``m`` once the decay is over.

    Args:
        num_warmup_steps: warmup length in optimizer steps (>= 0).
        num_decay_steps: decay length in optimizer steps (>= 0).
        num_training_steps: run length in optimizer steps, or None.
        num_stable_steps: stable length in optimizer steps (>= 0), or None.
            At least one of the two must be given; this one wins when both
            are, as in transformers.
        warmup_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        decay_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        min_lr_ratio: floor as a fraction of the initial lr, in [0, 1].
        num_cycles: cosine periods over the decay (>= 0).

    Raises:
        ValueError: neither run length is given, the warmup and decay are
            longer than ``num_training_steps``, or an argument is out of
            range.

    Example:
        >>> schedule = hf_wsd_schedule(2, 2, num_stable_steps=1,
        ...                            decay_type="linear")
        >>> [schedule(t) for t in range(5)]
        [0.0, 0.5, 1.0, 1.0, 0.5]
    """

    __slots__ = (
        "_decay_type",
        "_length",
        "_min_lr_ratio",
        "_num_cycles",
        "_num_decay_steps",
        "_num_stable_steps",
        "_num_training_steps",
        "_num_warmup_steps",
        "_stable_steps",
        "_warmup_type",
    )
    _num_warmup_steps: int
    _num_decay_steps: int
    _num_training_steps: int | None
    _num_stable_steps: int | None
    _warmup_type: str
    _decay_type: str
    _min_lr_ratio: float
    _num_cycles: float
    _stable_steps: int
    _length: int
    _name = "hf_wsd_schedule"
    _fields = (
        "num_warmup_steps",
        "num_decay_steps",
        "num_training_steps",
        "num_stable_steps",
        "warmup_type",
        "decay_type",
        "min_lr_ratio",
        "num_cycles",
    )

    def __init__(
        self,
        num_warmup_steps: int,
        num_decay_steps: int,
        num_training_steps: int | None = None,
        num_stable_steps: int | None = None,
        warmup_type: str = "linear",
        decay_type: str = "cosine",
        min_lr_ratio: float = 0.0,
        num_cycles: float = 0.5,
    ) -> None:
        warmup = check.integer("num_warmup_steps", num_warmup_steps, minimum=0)
        decay = check.integer("num_decay_steps", num_decay_steps, minimum=0)
        if num_training_steps is not None:
            num_training_steps = check.integer(
                "num_training_steps", num_training_steps, minimum=1
            )
        if num_stable_steps is not None:
            num_stable_steps = check.integer(
                "num_stable_steps", num_stable_steps, minimum=0
            )
        stable, length = _wsd_lengths(
            warmup, decay, num_training_steps, num_stable_steps
        )
        self._init_fields(
            num_warmup_steps=warmup,
            num_decay_steps=decay,
            num_training_steps=num_training_steps,
            num_stable_steps=num_stable_steps,
            warmup_type=check.choice("warmup_type", warmup_type, _SHAPES),
            decay_type=check.choice("decay_type", decay_type, _SHAPES),
            min_lr_ratio=check.fraction("min_lr_ratio", min_lr_ratio),
            num_cycles=check.non_negative("num_cycles", num_cycles),
        )
        object.__setattr__(self, "_stable_steps", stable)
        object.__setattr__(self, "_length", length)

    @property
    def length(self) -> int:
        return self._length

    @property
    def bounds(self) -> tuple[float, float]:
        warmup_end = self._num_warmup_steps
        decay_start = warmup_end + self._stable_steps
        decay_end = decay_start + self._num_decay_steps
        steps = [0, warmup_end - 1, warmup_end, decay_start - 1, decay_start]
        steps += [decay_end - 1, decay_end, self._length - 1]
        extra: list[float] = []
        if self._decay_type == "cosine" and self._num_cycles > 0.5:
            ratio = self._min_lr_ratio
            extra = [ratio, 1.0 * (1.0 - ratio) + ratio]
        return _bounds(self, steps, extra)

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        warmup_end = self._num_warmup_steps
        decay_start = warmup_end + self._stable_steps
        decay_end = decay_start + self._num_decay_steps
        values = np.full_like(steps, self._min_lr_ratio)
        values[(steps >= warmup_end) & (steps < decay_start)] = 1.0
        rising = steps < warmup_end
        if rising.any():
            values[rising] = self._warmup(steps[rising])
        falling = (steps >= decay_start) & (steps < decay_end)
        if falling.any():
            values[falling] = self._decay(
                steps[falling] - warmup_end - self._stable_steps
            )
        return values

    def _warmup(self, steps: FloatArray) -> FloatArray:
        progress = steps / float(max(1, self._num_warmup_steps))
        if self._warmup_type == "linear":
            factor = progress
        elif self._warmup_type == "cosine":
            factor = 0.5 * (1.0 - np.cos(math.pi * progress))
        else:
            factor = 1.0 - np.sqrt(1.0 - progress)
        return _floored_wsd(factor, self._min_lr_ratio)

    def _decay(self, offsets: FloatArray) -> FloatArray:
        progress = offsets / float(max(1, self._num_decay_steps))
        if self._decay_type == "linear":
            factor = 1.0 - progress
        elif self._decay_type == "cosine":
            factor = _cosine_factor(self._num_cycles, progress)
        else:
            factor = 1.0 - np.sqrt(progress)
        return _floored_wsd(factor, self._min_lr_ratio)


def _floored_wsd(factor: FloatArray, ratio: float) -> FloatArray:
    """Compute ``max(0.0, factor * (1.0 - ratio) + ratio)`` in that order."""
    return np.maximum(factor * (1.0 - ratio) + ratio, 0.0)


def _wsd_lengths(
    warmup: int,
    decay: int,
    num_training_steps: int | None,
    num_stable_steps: int | None,
) -> tuple[int, int]:
    """Return the stable length and the run length of a WSD schedule."""
    if num_stable_steps is not None:
        length = warmup + num_stable_steps + decay
        if num_training_steps is not None:
            length = num_training_steps
        return num_stable_steps, max(length, 1)
    if num_training_steps is None:
        raise ValueError(
            "num_training_steps or num_stable_steps must be given, got None for both"
        )
    stable = num_training_steps - warmup - decay
    if stable < 0:
        raise ValueError(
            f"num_warmup_steps + num_decay_steps must be <= num_training_steps, got "
            f"num_warmup_steps={warmup}, num_decay_steps={decay} and "
            f"num_training_steps={num_training_steps}"
        )
    return stable, num_training_steps


hf_constant_schedule_with_warmup = HfConstantWithWarmup
hf_linear_schedule_with_warmup = HfLinearWithWarmup
hf_cosine_schedule_with_warmup = HfCosineWithWarmup
hf_cosine_with_min_lr_schedule_with_warmup = HfCosineWithMinLr
hf_cosine_with_hard_restarts_schedule_with_warmup = HfCosineWithHardRestarts
hf_polynomial_decay_schedule_with_warmup = HfPolynomialDecayWithWarmup
hf_inverse_sqrt_schedule = HfInverseSqrt
hf_wsd_schedule = HfWsd
