"""Argument checks and the write plan behind ``ParamScheduler``.

A plan sorts every (hyperparameter, param group) pair by how its value is
written: a float key, a scaled float key, Adam's ``betas[0]``, or a tensor
filled in place. Grouping the writes by kind keeps the per-step loops tight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from lrkit.schedules import Schedule
from lrkit.schedules import _validate as check

HYPERPARAMETERS = ("lr", "momentum", "weight_decay")
"""The hyperparameters a ParamScheduler can schedule."""

SCALE_KEYS = {"lr": "lr_scale", "weight_decay": "weight_decay_scale"}
"""The param-group key that stores each scalable hyperparameter's group scale."""

Spec = Schedule | tuple[Schedule, ...]
"""One schedule for every group, or one schedule per group."""


def check_spec(name: str, value: Any, group_count: int) -> Spec | None:
    """Return a hyperparameter argument as a schedule, a tuple of them, or None."""
    if value is None or isinstance(value, Schedule):
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a Schedule or a list with one Schedule per param "
            f"group, got {value!r} ({type(value).__name__})"
        )
    if len(value) != group_count:
        raise ValueError(
            f"{name} must hold one schedule per param group ({group_count}), "
            f"got {len(value)} schedules"
        )
    for index, item in enumerate(value):
        if not isinstance(item, Schedule):
            raise TypeError(
                f"{name}[{index}] must be a Schedule, got {item!r} "
                f"({type(item).__name__})"
            )
    return tuple(value)


def schedules_of(spec: Spec) -> tuple[Schedule, ...]:
    return spec if isinstance(spec, tuple) else (spec,)


def check_scale_list(
    name: str, value: Any, group_count: int, scheduled: bool
) -> list[float] | None:
    """Return a per-group scale argument as a list of floats, or None."""
    if value is None:
        return None
    if not scheduled:
        target = name.removesuffix("_scale")
        raise ValueError(f"{name} is given, but {target} is not scheduled: {value!r}")
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a list with one float per param group, got "
            f"{value!r} ({type(value).__name__})"
        )
    if len(value) != group_count:
        raise ValueError(
            f"{name} must hold one scale per param group ({group_count}), "
            f"got {len(value)}: {value!r}"
        )
    return [
        check.non_negative(f"{name}[{index}]", item) for index, item in enumerate(value)
    ]


def as_float(value: Any) -> float:
    """Return a group value (a float or a 0-dim tensor) as a Python float."""
    if isinstance(value, torch.Tensor):
        return float(value.item())
    return float(value)


def momentum_key(group: Mapping[str, Any], index: int, new: bool) -> str:
    """Return the key momentum is written to in a group: momentum or betas.

    A group the scheduler has not written yet (``new``) must not have
    momentum 0. A group it has written may hold 0, if a schedule reached it.
    """
    if "betas" in group:
        return "betas"
    if "momentum" not in group:
        keys = ", ".join(sorted(key for key in group if key != "params"))
        raise ValueError(
            f"momentum is scheduled, but param group {index} has neither a "
            f"'momentum' nor a 'betas' key (its keys: {keys}); schedule momentum "
            "only for SGD-like optimizers or the Adam family"
        )
    if new and as_float(group["momentum"]) == 0.0:
        raise ValueError(
            f"momentum is scheduled, but param group {index} was built with "
            "momentum=0, and scheduling it would switch momentum on; build the "
            "optimizer with a nonzero momentum (e.g. momentum=0.9)"
        )
    return "momentum"


def group_scale(
    name: str, group: Mapping[str, Any], index: int, relative: bool
) -> float:
    """Return the scale a group takes without a scale list.

    That is its current value in relative mode, else its scale key or 1.0.
    """
    require_key(name, group, index)
    if relative:
        return as_float(group[name])
    key = SCALE_KEYS[name]
    if key in group:
        return check.non_negative(f"param group {index}'s {key!r}", group[key])
    return 1.0


class Plan:
    """The writes one step makes, grouped by kind so the loops stay tight.

    Each entry names a distinct schedule by its index in ``schedules``.
    """

    __slots__ = ("betas", "plain", "scaled", "schedules", "tensors")

    def __init__(self) -> None:
        self.schedules: list[Schedule] = []
        self.scaled: list[tuple[str, int, list[tuple[dict[str, Any], float]]]] = []
        self.plain: list[tuple[str, int, list[dict[str, Any]]]] = []
        self.betas: list[tuple[int, list[dict[str, Any]]]] = []
        self.tensors: list[tuple[int, torch.Tensor, float]] = []

    def index(self, schedule: Schedule) -> int:
        for number, known in enumerate(self.schedules):
            if known is schedule or known == schedule:
                return number
        self.schedules.append(schedule)
        return len(self.schedules) - 1


def build_plan(
    groups: Sequence[dict[str, Any]],
    specs: Mapping[str, Spec],
    scales: Mapping[str, list[float]],
    known: int,
) -> Plan:
    """Sort every (hyperparameter, group) write into the plan's kinds of write.

    The first ``known`` groups have been written by the scheduler before.

    Raises:
        ValueError: a group lacks the key a hyperparameter is written to, or a
            per-group list of schedules no longer matches the group count.
    """
    plan = Plan()
    scaled: dict[tuple[str, int], list[tuple[dict[str, Any], float]]] = {}
    plain: dict[tuple[str, int], list[dict[str, Any]]] = {}
    betas: dict[int, list[dict[str, Any]]] = {}
    for name, spec in specs.items():
        if isinstance(spec, tuple) and len(spec) != len(groups):
            raise ValueError(
                f"{name} has one schedule per param group ({len(spec)} groups), but "
                f"the optimizer now has {len(groups)} param groups; to add groups "
                f"later, pass one {name} schedule and give each group its own scale"
            )
        group_scales = scales.get(name)
        for index, group in enumerate(groups):
            schedule = spec[index] if isinstance(spec, tuple) else spec
            number = plan.index(schedule)
            scale = 1.0 if group_scales is None else group_scales[index]
            if name == "momentum":
                key = momentum_key(group, index, new=index >= known)
            else:
                key = name
                require_key(name, group, index)
            current = group[key]
            if key == "betas":
                if isinstance(current[0], torch.Tensor):
                    plan.tensors.append((number, current[0], 1.0))
                else:
                    betas.setdefault(number, []).append(group)
            elif isinstance(current, torch.Tensor):
                plan.tensors.append((number, current, scale))
            elif scale == 1.0:
                plain.setdefault((key, number), []).append(group)
            else:
                scaled.setdefault((key, number), []).append((group, scale))

    plan.scaled = [(key, number, pairs) for (key, number), pairs in scaled.items()]
    plan.plain = [(key, number, targets) for (key, number), targets in plain.items()]
    plan.betas = list(betas.items())
    return plan


def first_end(specs: Mapping[str, Spec]) -> tuple[int, str] | None:
    """Return the earliest end (length) among finite schedules and its name."""
    ends = [
        (schedule.length, name)
        for name, spec in specs.items()
        for schedule in schedules_of(spec)
        if schedule.length is not None
    ]
    return min(ends) if ends else None


def check_momentum_bounds(spec: Spec | None) -> None:
    if spec is None:
        return
    for schedule in schedules_of(spec):
        low, high = schedule.bounds
        if low < 0 or high > 1:
            raise ValueError(
                f"momentum must stay in [0, 1], but the schedule {schedule!r} "
                f"takes values from {low!r} to {high!r}"
            )


def require_key(name: str, group: Mapping[str, Any], index: int) -> None:
    if name not in group:
        raise ValueError(
            f"{name} is scheduled, but param group {index} has no {name!r} key"
        )


def check_uniform_start(
    name: str, spec: Spec, groups: Sequence[dict[str, Any]]
) -> None:
    """Raise if one schedule would flatten groups that start with different values."""
    key = SCALE_KEYS[name]
    if isinstance(spec, tuple) or any(key in group for group in groups):
        return
    for index, group in enumerate(groups):
        require_key(name, group, index)
    values = [as_float(group[name]) for group in groups]
    if len(set(values)) > 1:
        raise ValueError(
            f"the param groups start with different {name} values {values}, and "
            f"one {name} schedule would give every group the same {name}; pass "
            f"{key}=[...] with one scale per group, set a {key!r} key in each "
            "group, or pass relative=True to schedule a multiplier of each "
            f"group's initial {name}"
        )


def initial_scales(
    name: str,
    given: list[float] | None,
    groups: Sequence[dict[str, Any]],
    relative: bool,
) -> list[float]:
    """Return the scale of every group at construction."""
    if given is not None:
        return given
    return [
        group_scale(name, group, index, relative) for index, group in enumerate(groups)
    ]
