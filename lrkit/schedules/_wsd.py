"""Schedules with a flat phase: warmup-stable-decay and flat-then-cosine."""

from __future__ import annotations

import numpy as np

from lrkit.schedules import _validate as check
from lrkit.schedules._base import FloatArray, Schedule, register
from lrkit.schedules._combinators import Join, _Composed
from lrkit.schedules._curves import Cosine, Linear, _Interpolation


class _OneMinusSqrt(_Interpolation):
    """The 1-sqrt cooldown: ``init_value * (1 - sqrt(p)) + end_value * sqrt(p)``.

    It is a private piece of ``warmup_stable_decay`` and is not registered,
    because ``warmup_stable_decay`` serialises its own arguments rather than
    its pieces.
    """

    __slots__ = ()
    _name = "one_minus_sqrt"

    def _evaluate(self, steps: FloatArray) -> FloatArray:
        weight = np.sqrt(self._progress(steps))
        np.subtract(1.0, weight, out=weight)
        return self._mix(weight)


_DECAY_SHAPES: dict[str, type[_Interpolation]] = {
    "1-sqrt": _OneMinusSqrt,
    "cosine": Cosine,
    "linear": Linear,
}


@register
class WarmupStableDecay(_Composed):
    """Warmup-stable-decay: rise to ``peak_value``, hold it, then cool down.

    With ``W = warmup_steps``, ``S = stable_steps``, ``D = decay_steps`` and
    the floor ``m = min_ratio * peak_value``:

    - steps ``0 .. W-1`` rise linearly from 0 as ``warmup`` does:
      ``peak_value * (k + 1) / W``, exactly ``peak_value`` at step ``W - 1``;
    - steps ``W .. W+S-1`` are exactly ``peak_value``;
    - steps ``W+S .. W+S+D-1`` decay with ``p = (k - W - S + 1) / D`` as
      ``m + (peak_value - m) * g(p)``, where ``g(p)`` is ``1 - p``
      (``"linear"``), ``(1 + cos(pi * p)) / 2`` (``"cosine"``) or
      ``1 - sqrt(p)`` (``"1-sqrt"``);
    - the last step is exactly ``m``, held after.

    It is built as a ``join`` of those pieces. Hugging Face's
    ``get_wsd_schedule`` has the same phases but starts its warmup at
    ``min_lr_ratio`` (first step at the floor, not above 0), and its decay
    uses ``p = (k - W - S) / D``, so it reaches the floor one step after
    lrkit does. Its default decay is cosine. The 1-sqrt cooldown comes from
    A. Hägele et al., "Scaling Laws and Compute-Optimal Training Beyond Fixed
    Training Durations", arXiv:2405.18392, 2024.

    Args:
        peak_value: value of the stable phase (>= 0).
        warmup_steps: steps of linear rise (>= 0; 0 starts at the peak).
        stable_steps: steps held at the peak (>= 0).
        decay_steps: steps of cooldown (>= 1).
        decay_shape: ``"1-sqrt"``, ``"cosine"`` or ``"linear"``.
        min_ratio: final value as a fraction of ``peak_value``, in [0, 1].

    Raises:
        ValueError: an argument is out of range or ``decay_shape`` is unknown.
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = warmup_stable_decay(1.0, 2, 2, 4, decay_shape="linear")
        >>> [schedule(k) for k in range(9)]
        [0.5, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    __slots__ = (
        "_decay_shape",
        "_decay_steps",
        "_min_ratio",
        "_peak_value",
        "_stable_steps",
        "_warmup_steps",
    )
    _peak_value: float
    _warmup_steps: int
    _stable_steps: int
    _decay_steps: int
    _decay_shape: str
    _min_ratio: float
    _name = "warmup_stable_decay"
    _fields = (
        "peak_value",
        "warmup_steps",
        "stable_steps",
        "decay_steps",
        "decay_shape",
        "min_ratio",
    )

    def __init__(
        self,
        peak_value: float,
        warmup_steps: int,
        stable_steps: int,
        decay_steps: int,
        decay_shape: str = "1-sqrt",
        min_ratio: float = 0.0,
    ) -> None:
        peak_value = check.non_negative("peak_value", peak_value)
        warmup_steps = check.integer("warmup_steps", warmup_steps, minimum=0)
        stable_steps = check.integer("stable_steps", stable_steps, minimum=0)
        decay_steps = check.integer("decay_steps", decay_steps, minimum=1)
        decay_shape = check.choice("decay_shape", decay_shape, _DECAY_SHAPES)
        min_ratio = check.fraction("min_ratio", min_ratio)

        pieces: list[Schedule] = []
        if warmup_steps:
            pieces.append(Linear(0.0, peak_value, warmup_steps, include_start=False))
        if stable_steps:
            pieces.append(Linear(peak_value, peak_value, stable_steps))
        decay = _DECAY_SHAPES[decay_shape]
        floor = peak_value * min_ratio
        pieces.append(decay(peak_value, floor, decay_steps, include_start=False))
        self._init_fields(
            peak_value=peak_value,
            warmup_steps=warmup_steps,
            stable_steps=stable_steps,
            decay_steps=decay_steps,
            decay_shape=decay_shape,
            min_ratio=min_ratio,
        )
        object.__setattr__(self, "_joined", Join(pieces))


@register
class FlatCos(_Composed):
    """Flat at ``peak_value``, then a cosine down to ``peak_value / final_div``.

    The value is exactly ``peak_value`` up to the step
    ``P = round(pct_start * (total_steps - 1))``, then follows
    ``cosine(peak_value, peak_value / final_div, total_steps - 1 - P,
    include_start=False)``, so the last step, ``total_steps - 1``, is exactly
    ``peak_value / final_div`` and is held after.

    This is the shape of fastai's ``fit_flat_cos(n_epoch, lr, div_final,
    pct_start)``, with the same defaults (``final_div`` is fastai's
    ``div_final``, spelled as in ``one_cycle``). fastai's batch ``i`` of ``N``
    uses the position ``i / N``, so its anneal starts at ``i = pct_start * N``
    and its last batch stops one step short of the final value.

    Args:
        peak_value: value of the flat phase (>= 0).
        total_steps: length of the run in steps (>= 2).
        pct_start: fraction of the run, in [0, 1), spent flat.
        final_div: ``peak_value / final_div`` is the final value (>= 1).

    Raises:
        ValueError: an argument is out of range, or the flat phase would
            cover the last step (too few ``total_steps`` for ``pct_start``).
        TypeError: an argument has the wrong type.

    Example:
        >>> schedule = flat_cos(1.0, 5, pct_start=0.5, final_div=2.0)
        >>> [schedule(k) for k in range(6)]
        [1.0, 1.0, 1.0, 0.75, 0.5, 0.5]
    """

    __slots__ = ("_final_div", "_pct_start", "_peak_value", "_total_steps")
    _peak_value: float
    _total_steps: int
    _pct_start: float
    _final_div: float
    _name = "flat_cos"
    _fields = ("peak_value", "total_steps", "pct_start", "final_div")

    def __init__(
        self,
        peak_value: float,
        total_steps: int,
        pct_start: float = 0.75,
        final_div: float = 1e5,
    ) -> None:
        peak_value = check.non_negative("peak_value", peak_value)
        total_steps = check.integer("total_steps", total_steps, minimum=2)
        pct_start = check.fraction("pct_start", pct_start, high_open=True)
        final_div = check.real("final_div", final_div)
        if final_div < 1:
            raise ValueError(f"final_div must be >= 1, got {final_div!r}")
        flat_end = round(pct_start * (total_steps - 1))
        if flat_end > total_steps - 2:
            raise ValueError(
                f"pct_start={pct_start!r} with total_steps={total_steps!r} leaves no "
                "step for the cosine; lower pct_start or raise total_steps"
            )

        flat = Linear(peak_value, peak_value, flat_end + 1)
        anneal = Cosine(
            peak_value,
            peak_value / final_div,
            total_steps - 1 - flat_end,
            include_start=False,
        )
        self._init_fields(
            peak_value=peak_value,
            total_steps=total_steps,
            pct_start=pct_start,
            final_div=final_div,
        )
        object.__setattr__(self, "_joined", Join([flat, anneal]))


warmup_stable_decay = WarmupStableDecay
flat_cos = FlatCos
