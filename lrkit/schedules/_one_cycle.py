"""The one-cycle policy in lrkit's own convention."""

from __future__ import annotations

from typing import Any

from lrkit.schedules import _validate as check
from lrkit.schedules._base import CycleSchedules, Schedule
from lrkit.schedules._combinators import Join
from lrkit.schedules._curves import Constant, Cosine, Linear

_CURVES: dict[str, type[Cosine] | type[Linear]] = {"cos": Cosine, "linear": Linear}


def _momentum_pair(momentum: Any) -> tuple[float, float] | None:
    if momentum is None:
        return None
    if isinstance(momentum, (str, bytes)) or not hasattr(momentum, "__len__"):
        kind = type(momentum).__name__
        raise TypeError(f"momentum must be a pair (high, low) or None, got {kind}")
    if len(momentum) != 2:
        raise ValueError(f"momentum must be a pair (high, low), got {momentum!r}")
    first = check.fraction("momentum[0]", momentum[0])
    second = check.fraction("momentum[1]", momentum[1])
    return (first, second)


def one_cycle(
    max_lr: float,
    total_steps: int,
    *,
    pct_start: float = 0.25,
    div: float = 25.0,
    final_div: float = 1e5,
    momentum: tuple[float, float] | None = (0.95, 0.85),
    three_phase: bool = False,
    anneal: str = "cos",
) -> CycleSchedules:
    """Build the one-cycle policy: warm up to a peak lr, then anneal far below it.

    The lr rises from ``max_lr / div`` at step 0 to exactly ``max_lr`` at the
    peak step ``P = round(pct_start * (total_steps - 1))``, then falls to
    exactly ``max_lr / final_div`` at step ``total_steps - 1`` and holds it.
    Momentum mirrors the lr: ``momentum[0]`` at step 0, ``momentum[1]`` at the
    peak, ``momentum[0]`` again at the end.

    With ``three_phase=True`` the shape is the original paper's: up to the peak
    at ``P``, back down to ``max_lr / div`` at ``2 * P``, then an anneal to
    ``max_lr / final_div``. Momentum goes down, back up, then holds
    ``momentum[0]``.

    Defaults are fastai's ``fit_one_cycle`` (``div=25``, ``div_final=1e5``,
    ``pct_start=0.25``, moms 0.95 to 0.85). ``final_div`` divides the peak, as
    fastai's ``div_final`` does, while torch's ``final_div_factor`` divides
    the initial lr. For torch's curve exactly, use ``torch_one_cycle``.

    Reference: L. N. Smith, "A disciplined approach to neural network
    hyper-parameters: Part 1", arXiv:1803.09820, 2018.

    Args:
        max_lr: peak learning rate (> 0).
        total_steps: length of the run in optimizer steps (>= 3).
        pct_start: fraction of the run, in (0, 1), spent rising to the peak.
        div: ``max_lr / div`` is the lr at step 0 (>= 1).
        final_div: ``max_lr / final_div`` is the lr at the last step (>= 1).
        momentum: ``(high, low)`` momentum or Adam beta1, each in [0, 1], or
            None to schedule the lr alone.
        three_phase: rise to the peak, fall back to the initial lr, then
            anneal to the final lr (momentum falls, rises, then holds).
        anneal: ``"cos"`` or ``"linear"`` interpolation in every phase.

    Returns:
        ``{"lr": schedule, "momentum": schedule}``, without ``"momentum"`` when
        ``momentum`` is None. Pass it to ``ParamScheduler`` with ``**``.

    Raises:
        ValueError: an argument is out of range, or the peak step falls on the
            first or last step (too few ``total_steps`` for ``pct_start``).

    Example:
        >>> curves = one_cycle(0.1, 101, pct_start=0.3)
        >>> curves["lr"](0), curves["lr"](30), curves["lr"](100)
        (0.004, 0.1, 1e-06)
        >>> curves["momentum"](30)
        0.85
    """
    max_lr = check.positive("max_lr", max_lr)
    total_steps = check.integer("total_steps", total_steps, minimum=3)
    pct_start = check.fraction("pct_start", pct_start, low_open=True, high_open=True)
    div = check.real("div", div)
    if div < 1:
        raise ValueError(f"div must be >= 1, got {div!r}")
    final_div = check.real("final_div", final_div)
    if final_div < 1:
        raise ValueError(f"final_div must be >= 1, got {final_div!r}")
    moms = _momentum_pair(momentum)
    three_phase = check.boolean("three_phase", three_phase)
    curve = _CURVES[check.choice("anneal", anneal, _CURVES)]

    peak = round(pct_start * (total_steps - 1))
    last_peak = (total_steps - 2) // 2 if three_phase else total_steps - 2
    if not 1 <= peak <= last_peak:
        raise ValueError(
            f"pct_start={pct_start!r} with total_steps={total_steps!r} puts the peak "
            f"at step {peak}, but it must be between 1 and {last_peak}; "
            "raise total_steps or move pct_start away from the ends"
        )

    init_lr = max_lr / div
    end_lr = max_lr / final_div
    rise = curve(init_lr, max_lr, peak + 1)
    if three_phase:
        lr: Schedule = Join(
            [
                rise,
                curve(max_lr, init_lr, peak, include_start=False),
                curve(init_lr, end_lr, total_steps - 1 - 2 * peak, include_start=False),
            ]
        )
    else:
        lr = Join(
            [rise, curve(max_lr, end_lr, total_steps - 1 - peak, include_start=False)]
        )
    result: CycleSchedules = {"lr": lr}
    if moms is None:
        return result

    high, low = moms
    fall = curve(high, low, peak + 1)
    if three_phase:
        result["momentum"] = Join(
            [fall, curve(low, high, peak, include_start=False), Constant(high)]
        )
    else:
        result["momentum"] = Join(
            [fall, curve(low, high, total_steps - 1 - peak, include_start=False)]
        )
    return result
