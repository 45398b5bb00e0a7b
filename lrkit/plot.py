"""Plot schedules over a run, one subplot per hyperparameter and a line per group.

This module needs matplotlib (the ``plot`` extra). It draws on a
``matplotlib.figure.Figure`` built directly, never through pyplot, so it needs
no display and leaves pyplot's global state alone. Importing ``lrkit`` does not
import this module or matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from lrkit.schedules import Schedule
from lrkit.schedules import _validate as check

__all__ = ["plot_schedules"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

SCALE_KEYS = {"lr": "lr_scale", "weight_decay": "weight_decay_scale"}
"""The param-group key that contains each scalable hyperparameter's per-group scale.

These are the keys ``ParamScheduler`` reads. Other hyperparameters, such as
momentum, are never scaled per group.
"""

FULL_STEPS = 8192
"""Runs up to this many steps are drawn at every step."""

BUCKETS = 2048
"""Longer runs are drawn from this many buckets of steps (see ``line_points``)."""

CHUNK_STEPS = 2**20
"""Steps evaluated at once when decimating, at least one bucket: bounds memory."""

BOUNDARY_LABEL = "_boundary"
"""The label of the dashed lines at phase boundaries (hidden from legends)."""


def _check_schedules(schedules: Any) -> dict[str, Schedule]:
    if isinstance(schedules, Schedule):
        return {"lr": schedules}
    if not isinstance(schedules, Mapping):
        raise TypeError(
            "schedules must be a Schedule or a dict of schedules by hyperparameter, "
            f"got {type(schedules).__name__}"
        )
    if not schedules:
        raise ValueError("schedules must hold at least one schedule, got {}")
    for name, schedule in schedules.items():
        if not isinstance(name, str):
            raise TypeError(f"schedules keys must be strings, got {name!r}")
        if not isinstance(schedule, Schedule):
            raise TypeError(
                f"schedules[{name!r}] must be a Schedule, got {type(schedule).__name__}"
            )
    return dict(schedules)


def _check_steps(steps: Any, schedules: dict[str, Schedule]) -> int:
    if steps is not None:
        return check.integer("steps", steps, minimum=1)
    lengths = [schedule.length for schedule in schedules.values()]
    finite = [length for length in lengths if length is not None]
    if not finite:
        raise ValueError(
            "steps is required because no schedule has an end (every length is "
            "None); pass steps=N to plot N steps"
        )
    return max(finite)


def _optimizer_groups(optimizer: Any) -> list[Mapping[str, Any]]:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, Sequence) or not all(
        isinstance(group, Mapping) for group in groups
    ):
        raise TypeError(
            "optimizer must have param_groups, a list of dicts (a torch "
            f"optimizer), got {type(optimizer).__name__}"
        )
    if not groups:
        raise ValueError("optimizer has no param groups")
    return list(groups)


def _group_scales(
    schedules: dict[str, Schedule],
    groups: list[Mapping[str, Any]] | None,
    scales: Any,
) -> tuple[dict[str, list[float]], int]:
    """Return per-group scales for every hyperparameter, and the group count.

    Explicit ``scales`` win. Otherwise an optimizer's groups give ``lr`` and
    ``weight_decay`` their scale keys (1.0 when absent), and everything else,
    or everything when there is no optimizer, gets 1.0.
    """
    explicit: dict[str, list[float]] = {}
    if scales is not None:
        if not isinstance(scales, Mapping):
            raise TypeError(
                "scales must be a dict from hyperparameter to a list of per-group "
                f"scales, got {type(scales).__name__}"
            )
        for name, values in scales.items():
            if name not in schedules:
                raise ValueError(
                    f"scales[{name!r}] is given, but {name!r} is not among the "
                    f"schedules {sorted(schedules)}"
                )
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise TypeError(
                    f"scales[{name!r}] must be a list of floats, got {values!r}"
                )
            if not values:
                # No groups would draw an empty subplot without any error.
                raise ValueError(
                    f"scales[{name!r}] must hold at least one scale, got {values!r}"
                )
            explicit[name] = [
                check.non_negative(f"scales[{name!r}][{index}]", value)
                for index, value in enumerate(values)
            ]

    counts = {len(values) for values in explicit.values()}
    if groups is not None:
        counts.add(len(groups))
    if len(counts) > 1:
        raise ValueError(
            "scales and the optimizer's param groups disagree on the number of "
            f"groups: {sorted(counts)}"
        )
    count = counts.pop() if counts else 1

    result: dict[str, list[float]] = {}
    for name in schedules:
        if name in explicit:
            result[name] = explicit[name]
        elif groups is not None and name in SCALE_KEYS:
            key = SCALE_KEYS[name]
            result[name] = [
                check.non_negative(
                    f"param_groups[{index}][{key!r}]", group.get(key, 1.0)
                )
                for index, group in enumerate(groups)
            ]
        else:
            result[name] = [1.0] * count
    return result, count


def _group_names(
    names: Any, groups: list[Mapping[str, Any]] | None, count: int
) -> list[str]:
    if names is not None:
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise TypeError(f"names must be a list of strings, got {names!r}")
        if len(names) != count:
            raise ValueError(
                f"names must hold one name per group ({count}), got {len(names)}: "
                f"{names!r}"
            )
        return [str(name) for name in names]
    if groups is not None:
        return [
            str(group.get("name", f"group {index}"))
            for index, group in enumerate(groups)
        ]
    return [f"group {i}" for i in range(count)]


def phase_boundaries(schedule: Schedule) -> tuple[int, ...]:
    """Return the steps where a schedule's top-level phases start.

    A ``Join`` and a ``Warmup`` have ``boundaries``. Recipes built on an
    internal join (``warmup_stable_decay``, ``flat_cos``) give that join's
    boundaries. Other schedules have none.
    """
    owner: Any = schedule
    if not hasattr(owner, "boundaries"):
        # Recipes such as warmup_stable_decay evaluate through a private
        # Join in ``_joined``.
        owner = getattr(schedule, "_joined", None)
    boundaries = getattr(owner, "boundaries", ())
    return tuple(int(step) for step in boundaries)


def line_points(schedule: Schedule, steps: int) -> tuple[IntArray, FloatArray]:
    """Return the steps and values that draw a schedule over ``steps`` steps.

    Up to ``FULL_STEPS`` steps every step is drawn. Longer runs are cut into
    ``BUCKETS`` buckets of consecutive steps, and each bucket keeps its first,
    last, lowest and highest point (M4 decimation), so peaks, troughs and
    jumps survive while a line has at most ``4 * BUCKETS`` points. Values
    are evaluated in chunks of whole buckets, about ``CHUNK_STEPS`` steps
    each, so memory grows with ``steps`` only once a single bucket is longer
    than that (past ``CHUNK_STEPS * BUCKETS``, about 2 billion steps).
    """
    if steps <= FULL_STEPS:
        x = np.arange(steps)
        return x, schedule(x)

    bucket = -(-steps // BUCKETS)
    chunk = bucket * max(1, CHUNK_STEPS // bucket)
    kept: list[IntArray] = []
    for start in range(0, steps, chunk):
        x = np.arange(start, min(start + chunk, steps))
        kept.append(start + _m4_indices(schedule(x), bucket))
    x = np.concatenate(kept)
    return x, schedule(x)


def _m4_indices(values: FloatArray, bucket: int) -> IntArray:
    """Return the sorted indices of each bucket's first, last, min and max."""
    full = len(values) // bucket * bucket
    parts = []
    if full:
        rows = values[:full].reshape(-1, bucket)
        offsets = np.arange(0, full, bucket)[:, None]
        picks = np.stack(
            [
                np.zeros(len(rows), dtype=np.int64),
                rows.argmin(axis=1),
                rows.argmax(axis=1),
                np.full(len(rows), bucket - 1),
            ],
            axis=1,
        )
        parts.append((picks + offsets).ravel())
    rest = values[full:]
    if rest.size:
        tail = [0, int(rest.argmin()), int(rest.argmax()), rest.size - 1]
        parts.append(full + np.array(tail, dtype=np.int64))
    return np.unique(np.concatenate(parts))


def _draw_axes(
    axes: Axes,
    name: str,
    schedule: Schedule,
    steps: int,
    scales: list[float],
    labels: list[str] | None,
) -> None:
    x, values = line_points(schedule, steps)
    for index, scale in enumerate(scales):
        label = name if labels is None else labels[index]
        axes.plot(x, values * scale, label=label)
    for boundary in phase_boundaries(schedule):
        if 0 < boundary < steps:
            axes.axvline(
                boundary,
                color="0.6",
                linestyle="--",
                linewidth=0.8,
                label=BOUNDARY_LABEL,
            )
    axes.set_ylabel(name)
    axes.grid(True, alpha=0.3)
    if labels is not None:
        axes.legend(loc="best", fontsize="small")


def plot_schedules(
    schedules: Schedule | Mapping[str, Schedule],
    steps: int | None = None,
    *,
    optimizer: Any = None,
    scales: Mapping[str, Sequence[float]] | None = None,
    names: Sequence[str] | None = None,
) -> Figure:
    """Draw schedules over a run: one subplot per hyperparameter, a line per group.

    Each subplot shows ``schedule(k) * scale_g`` for steps ``k = 0 ..
    steps - 1`` and every param group ``g``. The scales come from ``scales``
    when given, else from the optimizer's groups as ``ParamScheduler`` reads
    them (``"lr_scale"`` for lr, ``"weight_decay_scale"`` for weight_decay,
    1.0 when absent, and no scale for other hyperparameters), else 1.0 with a
    single group. Phase boundaries of a joined schedule (its top level only)
    are dashed vertical lines at the step where each phase starts. Runs
    longer than ``FULL_STEPS`` are drawn from each bucket's first, last,
    lowest and highest point (see ``line_points``), so a long run plots fast.

    Args:
        schedules: one schedule (plotted as ``lr``) or a dict from
            hyperparameter name to schedule, such as ``one_cycle(...)``.
        steps: number of steps to plot (>= 1). Defaults to the longest
            finite schedule's length; required when no schedule has an end.
        optimizer: a torch optimizer, or any object with ``param_groups``
            (a list of dicts). torch is not imported.
        scales: per-group scales by hyperparameter, such as
            ``{"lr": [0.1, 1.0]}``, overriding the optimizer's keys.
        names: legend labels, one per group. Defaults to each group's
            ``"name"`` key, else ``"group 0"``, ``"group 1"``, ...

    Returns:
        The matplotlib Figure, for more styling or ``savefig``.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: no schedule, a bad ``steps``, only endless schedules
            without ``steps``, an empty list of scales, or group counts
            that disagree.

    Example:
        >>> from lrkit.plot import plot_schedules
        >>> from lrkit.schedules import one_cycle
        >>> figure = plot_schedules(one_cycle(0.1, 100), scales={"lr": [0.1, 1.0]})
        >>> [axes.get_ylabel() for axes in figure.axes]
        ['lr', 'momentum']
        >>> import io
        >>> figure.savefig(io.BytesIO(), format="png")
    """
    checked = _check_schedules(schedules)
    count_steps = _check_steps(steps, checked)
    groups = None if optimizer is None else _optimizer_groups(optimizer)
    group_scales, count = _group_scales(checked, groups, scales)
    labels = _group_names(names, groups, count)
    grouped = count > 1 or groups is not None or names is not None

    figure = Figure(figsize=(7.0, 1.0 + 2.4 * len(checked)), layout="constrained")
    all_axes = figure.subplots(len(checked), 1, sharex=True, squeeze=False)[:, 0]
    for axes, (name, schedule) in zip(all_axes, checked.items(), strict=True):
        legend_labels = labels if grouped else None
        _draw_axes(axes, name, schedule, count_steps, group_scales[name], legend_labels)
    all_axes[-1].set_xlabel("step")
    return figure
