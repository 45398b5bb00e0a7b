"""Per-layer lr scales: fastai's spread, timm's layer decay, or a given list.

Each rule maps the number of layer groups to one ``(lr_scale, lr)`` pair per
layer, with ``lr`` None when no base lr was given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lrkit.schedules import _validate as check


def sequence(parameter: str, value: Any) -> list[Any]:
    """Return ``value`` as a list, raising TypeError for a string or non-sequence."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{parameter} must be a list, got {value!r} ({type(value).__name__})"
        )
    return list(value)


ScaleRule = Callable[[int], list[tuple[float, float | None]]]


def scale_rule(lr: Any, layer_decay: Any, lr_scales: Any) -> ScaleRule:
    """Check the lr options and return a function from layer count to scales.

    Each scale is a pair ``(lr_scale, lr)``, with lr None when not given.
    """
    if isinstance(lr, slice):
        if layer_decay is not None or lr_scales is not None:
            raise ValueError(
                "lr=slice(...) sets the per-layer lrs itself: pass it without "
                f"layer_decay and lr_scales, got layer_decay={layer_decay!r}, "
                f"lr_scales={lr_scales!r}"
            )
        return _spread_rule(lr)
    base = None if lr is None else check.positive("lr", lr)
    if layer_decay is not None and lr_scales is not None:
        raise ValueError(
            f"pass layer_decay or lr_scales, not both, got "
            f"layer_decay={layer_decay!r}, lr_scales={lr_scales!r}"
        )
    if layer_decay is not None:
        factor = check.fraction("layer_decay", layer_decay, low_open=True)
        return lambda count: [
            _with_lr(factor ** (count - 1 - layer), base) for layer in range(count)
        ]
    if lr_scales is not None:
        return _list_rule(lr_scales, base)
    return lambda count: [_with_lr(1.0, base)] * count


def _with_lr(scale: float, base: float | None) -> tuple[float, float | None]:
    return scale, None if base is None else base * scale


def _spread_rule(lr: slice) -> ScaleRule:
    if lr.step is not None:
        raise ValueError(f"lr must be slice(hi) or slice(lo, hi), got {lr!r}")
    high = check.positive("lr.stop", lr.stop)
    low = None if lr.start is None else check.positive("lr.start", lr.start)

    def spread(count: int) -> list[tuple[float, float | None]]:
        if low is None:
            lrs = [high / 10] * (count - 1)
        else:
            lrs = [
                low * (high / low) ** (layer / (count - 1))
                for layer in range(count - 1)
            ]
        lrs.append(high)
        return [(layer_lr / high, layer_lr) for layer_lr in lrs]

    return spread


def _list_rule(lr_scales: Any, base: float | None) -> ScaleRule:
    scales = [
        check.positive(f"lr_scales[{layer}]", value)
        for layer, value in enumerate(sequence("lr_scales", lr_scales))
    ]

    def listed(count: int) -> list[tuple[float, float | None]]:
        if len(scales) != count:
            raise ValueError(
                f"lr_scales must hold one scale per layer group ({count}), got "
                f"{len(scales)} values"
            )
        return [_with_lr(scale, base) for scale in scales]

    return listed
