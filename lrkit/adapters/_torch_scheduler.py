"""``ParamScheduler``: write lrkit schedules into a torch optimizer's param groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lrkit.schedules import Schedule
from lrkit.schedules import _validate as check

_HYPERPARAMETERS = ("lr", "momentum", "weight_decay")
"""The hyperparameters a ParamScheduler can schedule, in the order it writes them."""

_SCALE_KEYS = {"lr": "lr_scale", "weight_decay": "weight_decay_scale"}
"""The param-group key that holds each scalable hyperparameter's per-group scale."""

_BLOCK_STEPS = 1024
"""How many upcoming steps each schedule is evaluated for at once."""

_FORMAT = 1
"""The version of the ``state_dict`` layout."""

Spec = Schedule | tuple[Schedule, ...]
"""One schedule for every group, or one schedule per group."""


def _check_spec(name: str, value: Any, group_count: int) -> Spec | None:
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


def _schedules_of(spec: Spec) -> tuple[Schedule, ...]:
    return spec if isinstance(spec, tuple) else (spec,)


def _check_scale_list(
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


def _as_float(value: Any) -> float:
    """Return a group value (a float or a 0-dim tensor) as a Python float."""
    if isinstance(value, torch.Tensor):
        return float(value.item())
    return float(value)


def _momentum_key(group: Mapping[str, Any], index: int, new: bool) -> str:
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
    if new and _as_float(group["momentum"]) == 0.0:
        raise ValueError(
            f"momentum is scheduled, but param group {index} was built with "
            "momentum=0, and scheduling it would switch momentum on; build the "
            "optimizer with a nonzero momentum (e.g. momentum=0.9)"
        )
    return "momentum"


def _group_scale(
    name: str, group: Mapping[str, Any], index: int, relative: bool
) -> float:
    """Return the scale a group takes without a scale list.

    That is its current value in relative mode, else its scale key or 1.0.
    """
    _require_key(name, group, index)
    if relative:
        return _as_float(group[name])
    key = _SCALE_KEYS[name]
    if key in group:
        return check.non_negative(f"param group {index}'s {key!r}", group[key])
    return 1.0


class _Plan:
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


def _build_plan(
    groups: Sequence[dict[str, Any]],
    specs: Mapping[str, Spec],
    scales: Mapping[str, list[float]],
    known: int,
) -> _Plan:
    """Sort every (hyperparameter, group) write into the plan's kinds of write.

    The first ``known`` groups have been written by the scheduler before.

    Raises:
        ValueError: a group lacks the key a hyperparameter is written to, or a
            per-group list of schedules no longer matches the group count.
    """
    plan = _Plan()
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
            key = name
            if name == "momentum":
                key = _momentum_key(group, index, new=index >= known)
            if key not in group:
                raise ValueError(
                    f"{name} is scheduled, but param group {index} has no {key!r} key"
                )
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


def _first_end(specs: Mapping[str, Spec]) -> tuple[int, str] | None:
    """Return the earliest end (length) among finite schedules and its name."""
    ends = [
        (schedule.length, name)
        for name, spec in specs.items()
        for schedule in _schedules_of(spec)
        if schedule.length is not None
    ]
    return min(ends) if ends else None


def _check_momentum_bounds(spec: Spec | None) -> None:
    if spec is None:
        return
    for schedule in _schedules_of(spec):
        low, high = schedule.bounds
        if low < 0 or high > 1:
            raise ValueError(
                f"momentum must stay in [0, 1], but the schedule {schedule!r} "
                f"takes values from {low!r} to {high!r}"
            )


def _describe_specs(specs: Mapping[str, Spec]) -> str:
    parts = []
    for name, spec in specs.items():
        shown = list(spec) if isinstance(spec, tuple) else spec
        parts.append(f"{name}={shown!r}")
    return ", ".join(parts) if parts else "(none)"


def _spec_to_plain(spec: Spec) -> Any:
    if isinstance(spec, tuple):
        return [schedule.to_dict() for schedule in spec]
    return spec.to_dict()


def _spec_from_plain(name: str, value: Any) -> Spec:
    if isinstance(value, Mapping):
        return Schedule.from_dict(value)
    if isinstance(value, list) and value:
        return tuple(Schedule.from_dict(item) for item in value)
    raise TypeError(
        f"state_dict['schedules'][{name!r}] must be a schedule dict or a list of "
        f"them, got {value!r}"
    )


def _parse_state(
    state: Any,
) -> tuple[int, int, dict[str, Spec], dict[str, list[float]]]:
    """Check a saved state and return its step, group count, schedules and scales."""
    if not isinstance(state, Mapping):
        raise TypeError(f"state_dict must be a dict, got {type(state).__name__}")
    missing = [
        key
        for key in ("step", "group_count", "schedules", "scales")
        if key not in state
    ]
    if missing:
        raise ValueError(
            f"state_dict is missing {missing} (keys found: {sorted(state)}); "
            "pass the dict that ParamScheduler.state_dict() returned"
        )
    if state.get("format", _FORMAT) != _FORMAT:
        raise ValueError(
            f"state_dict['format'] must be {_FORMAT}, got {state['format']!r}; "
            "it was saved by a newer lrkit"
        )
    step = check.integer("state_dict['step']", state["step"], minimum=0)
    count = check.integer("state_dict['group_count']", state["group_count"], minimum=1)
    saved_schedules = state["schedules"]
    saved_scales = state["scales"]
    if not isinstance(saved_schedules, Mapping) or not isinstance(
        saved_scales, Mapping
    ):
        raise TypeError(
            "state_dict['schedules'] and state_dict['scales'] must be dicts"
        )

    specs: dict[str, Spec] = {}
    for name in _HYPERPARAMETERS:
        if name in saved_schedules:
            specs[name] = _spec_from_plain(name, saved_schedules[name])
    unknown = set(saved_schedules) - set(_HYPERPARAMETERS)
    if unknown:
        raise ValueError(f"state_dict['schedules'] has unknown keys {sorted(unknown)}")
    scales: dict[str, list[float]] = {}
    for name, values in saved_scales.items():
        label = f"state_dict['scales'][{name!r}]"
        if name not in specs or name not in _SCALE_KEYS:
            raise ValueError(
                f"{label} belongs to no scheduled, scalable hyperparameter"
            )
        if not isinstance(values, list) or len(values) != count:
            raise ValueError(
                f"{label} must be a list of {count} floats, got {values!r}"
            )
        scales[name] = [
            check.non_negative(f"{label}[{index}]", value)
            for index, value in enumerate(values)
        ]
    for name in specs:
        if name in _SCALE_KEYS and name not in scales:
            raise ValueError(f"state_dict['scales'] has no scales for {name!r}")
    return step, count, specs, scales


def _require_key(name: str, group: Mapping[str, Any], index: int) -> None:
    if name not in group:
        raise ValueError(
            f"{name} is scheduled, but param group {index} has no {name!r} key"
        )


def _check_uniform_start(
    name: str, spec: Spec, groups: Sequence[dict[str, Any]]
) -> None:
    """Raise if one schedule would flatten groups that start with different values."""
    key = _SCALE_KEYS[name]
    if isinstance(spec, tuple) or any(key in group for group in groups):
        return
    for index, group in enumerate(groups):
        _require_key(name, group, index)
    values = [_as_float(group[name]) for group in groups]
    if len(set(values)) > 1:
        raise ValueError(
            f"the param groups start with different {name} values {values}, and "
            f"one {name} schedule would give every group the same {name}; pass "
            f"{key}=[...] with one scale per group, set a {key!r} key in each "
            "group, or pass relative=True to schedule a multiplier of each "
            f"group's initial {name}"
        )


def _initial_scales(
    name: str,
    given: list[float] | None,
    groups: Sequence[dict[str, Any]],
    relative: bool,
) -> list[float]:
    """Return the scale of every group at construction."""
    if given is not None:
        return given
    return [
        _group_scale(name, group, index, relative) for index, group in enumerate(groups)
    ]


class ParamScheduler(LRScheduler):
    """Drive an optimizer's lr, momentum and weight decay from lrkit schedules.

    Each scheduled hyperparameter ``h`` of param group ``g`` takes, at step
    ``k``::

        g[h] = schedule_g(k) * scale_g

    Legend: ``schedule_g`` is the ``h`` argument (one schedule for every
    group, or a list with one per group); ``k`` is ``last_epoch``, the number
    of ``step()`` calls made so far; ``scale_g`` is the group's scale for
    ``h``. The lr scale comes from ``lr_scale[g]`` if that list is given,
    else from the group's ``"lr_scale"`` key (timm's convention, also set by
    lrkit's splitter), else 1.0. The weight-decay scale works the same way
    with ``weight_decay_scale`` and the ``"weight_decay_scale"`` key (0 in a
    no-decay group). With ``relative=True`` the scale is instead the group's
    value of ``h`` at construction, so the schedule is a multiplier, as in
    torch's ``LambdaLR``, and groups built with different lrs keep their
    ratios. Scale keys are ignored then, since a group's lr already includes
    its scale (lrkit's splitter sets both). Momentum is never scaled. It goes to
    ``g["momentum"]`` for SGD-like optimizers and to ``g["betas"][0]`` for the
    Adam family (``betas[1]`` is left alone), chosen per group by its keys.

    Stepping follows torch: the constructor writes the step-0 values, and
    each ``step()``, called after ``optimizer.step()``, moves to the next
    step. Values are written as Python floats; a group whose lr or betas are
    tensors (capturable or compiled optimizers) has them updated in place
    with ``fill_``, so a compiled optimizer step does not recompile. Groups
    added later with ``optimizer.add_param_group`` (gradual unfreezing) are
    picked up at the next ``step()``, with their own ``lr_scale`` key, or
    their own lr in relative mode. Past the end of a finite schedule its final
    value holds, unless ``past_end="raise"``.

    Skipped optimizer steps: with a ``torch.amp.GradScaler``, the scaler skips
    ``optimizer.step()`` when it finds inf or NaN gradients, and it lowers its
    scale exactly then. Pass ``skipped=True`` to keep the schedule where it
    is for that step::

        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step(skipped=scaler.get_scale() < scale)

    Resuming: ``state_dict()`` holds only Python ints, floats, strings, lists
    and dicts (the step, every schedule's ``to_dict()`` and every group's
    scales), so ``torch.load(..., weights_only=True)`` reads it. To resume,
    build the optimizer and the scheduler as before, then load the optimizer
    state first and the scheduler state second. ``load_state_dict`` writes
    the current values into the param groups at once, so the groups are right
    even when only the scheduler state is restored.

    It subclasses torch's ``LRScheduler`` so that trainers that check for one
    (PyTorch Lightning, the Hugging Face Trainer) accept it, but it does not
    call ``LRScheduler.__init__``: that adds an ``initial_lr`` key to every
    group and wraps ``optimizer.step`` to warn about call order, which warns
    falsely when a GradScaler skips a step.

    Args:
        optimizer: the torch optimizer whose param groups are written.
        lr: learning-rate schedule, or a list with one schedule per group.
        momentum: momentum (SGD-like) or beta1 (Adam family) schedule, or a
            list with one per group. Values must stay in [0, 1].
        weight_decay: weight-decay schedule, or a list with one per group.
        lr_scale: one lr scale (>= 0) per param group, overriding the groups'
            ``"lr_scale"`` keys.
        weight_decay_scale: one weight-decay scale (>= 0) per param group,
            overriding the groups' ``"weight_decay_scale"`` keys.
        relative: scale each group's lr and weight decay by its own value at
            construction, so the schedules are multipliers. It cannot be
            combined with ``lr_scale`` or ``weight_decay_scale``.
        past_end: ``"hold"`` keeps the final values after a finite schedule
            ends; ``"raise"`` raises ValueError from the ``step()`` that would
            pass the end.
        use_saved_schedules: let ``load_state_dict`` take the schedules from
            the saved state instead of raising when they differ.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: no hyperparameter is scheduled; a list length differs from
            the group count; momentum is scheduled on an optimizer with
            neither ``momentum`` nor ``betas``, or built with ``momentum=0``;
            the groups start with different lrs (or weight decays) and
            neither scales nor ``relative=True`` say how to keep them apart.
            Nothing in the optimizer is changed when the constructor raises.

    Example:
        >>> import torch
        >>> from lrkit.schedules import one_cycle
        >>> model = torch.nn.Linear(2, 1)
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> scheduler = ParamScheduler(optimizer, **one_cycle(0.1, 101, pct_start=0.3))
        >>> optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]
        (0.004, 0.95)
        >>> for _ in range(30):
        ...     optimizer.step()
        ...     scheduler.step()
        >>> scheduler.last_epoch, scheduler.get_last_lr()
        (30, [0.1])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        *,
        lr: Schedule | Sequence[Schedule] | None = None,
        momentum: Schedule | Sequence[Schedule] | None = None,
        weight_decay: Schedule | Sequence[Schedule] | None = None,
        lr_scale: Sequence[float] | None = None,
        weight_decay_scale: Sequence[float] | None = None,
        relative: bool = False,
        past_end: Literal["hold", "raise"] = "hold",
        use_saved_schedules: bool = False,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"optimizer must be a torch.optim.Optimizer, got {optimizer!r} "
                f"({type(optimizer).__name__})"
            )
        groups = optimizer.param_groups
        count = len(groups)
        given = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        specs: dict[str, Spec] = {}
        for name, value in given.items():
            spec = _check_spec(name, value, count)
            if spec is not None:
                specs[name] = spec
        if not specs:
            raise ValueError(
                "no hyperparameter is scheduled: pass at least one of lr, momentum "
                "and weight_decay"
            )
        relative = check.boolean("relative", relative)
        past_end = check.choice("past_end", past_end, ("hold", "raise"))  # type: ignore[assignment]
        use_saved_schedules = check.boolean("use_saved_schedules", use_saved_schedules)
        scale_lists = {
            "lr": _check_scale_list("lr_scale", lr_scale, count, "lr" in specs),
            "weight_decay": _check_scale_list(
                "weight_decay_scale", weight_decay_scale, count, "weight_decay" in specs
            ),
        }
        if relative and any(value is not None for value in scale_lists.values()):
            raise ValueError(
                "relative=True takes each group's scale from its initial value, so "
                "it cannot be combined with lr_scale or weight_decay_scale, got "
                f"lr_scale={lr_scale!r}, weight_decay_scale={weight_decay_scale!r}"
            )
        _check_momentum_bounds(specs.get("momentum"))

        scales: dict[str, list[float]] = {}
        for name, given_scales in scale_lists.items():
            if name not in specs:
                continue
            if given_scales is None and not relative:
                _check_uniform_start(name, specs[name], groups)
            scales[name] = _initial_scales(name, given_scales, groups, relative)
        plan = _build_plan(groups, specs, scales, known=0)

        self._blocks: list[list[float]] = []
        self.optimizer = optimizer
        self.last_epoch = 0
        self._step_count = 1
        self._specs = specs
        self._scales = scales
        self._relative = relative
        self._past_end = past_end
        self._use_saved_schedules = use_saved_schedules
        self._install(plan, groups)
        self._move_to(0)

    # Stepping

    def step(self, epoch: int | None = None, *, skipped: bool = False) -> None:
        """Move to the next step and write its values into every param group.

        Call it after ``optimizer.step()``. With ``skipped=True`` (the
        optimizer step was skipped, as a GradScaler does on inf gradients)
        nothing changes.

        Raises:
            TypeError: ``epoch`` is given; torch deprecated stepping to an
                explicit epoch, and lrkit counts steps itself.
            ValueError: ``past_end="raise"`` and the next step is past the end
                of a finite schedule; or a group added since the last step
                cannot be scheduled.
        """
        if epoch is not None:
            raise TypeError(
                f"step() takes no epoch, got epoch={epoch!r}; the scheduler counts "
                "steps itself (use load_state_dict to resume at a step)"
            )
        if skipped:
            return
        step = self.last_epoch + 1
        groups = self.optimizer.param_groups
        if groups is not self._planned_groups or len(groups) != self._group_count:
            self._sync(groups)
        if step >= self._limit:
            self._refill(step)
        self._write(step - self._block_start)
        self.last_epoch = step
        self._step_count += 1

    def _write(self, offset: int) -> None:
        """Write the values at ``offset`` into the block into every group."""
        values = [block[offset] for block in self._blocks]
        plan = self._plan
        for key, number, pairs in plan.scaled:
            value = values[number]
            for group, scale in pairs:
                group[key] = value * scale
        for key, number, targets in plan.plain:
            value = values[number]
            for group in targets:
                group[key] = value
        for number, targets in plan.betas:
            value = values[number]
            for group in targets:
                group["betas"] = (value, group["betas"][1])
        for number, tensor, scale in plan.tensors:
            tensor.fill_(values[number] * scale)

    def _refill(self, step: int) -> None:
        """Evaluate every distinct schedule over the block of steps from ``step``.

        One vectorised call per schedule replaces a scalar call per step,
        which would cost microseconds each.
        """
        end = self._end
        if end is not None and step >= end[0]:
            length, name = end
            raise ValueError(
                f"step {step} is past the end of the {name} schedule, which has "
                f"{length} steps (0 to {length - 1}); stop training at step "
                f"{length}, or construct ParamScheduler with past_end='hold' to "
                "keep the final values"
            )
        stop = step + _BLOCK_STEPS
        steps = np.arange(step, stop)
        self._blocks = [schedule(steps).tolist() for schedule in self._plan.schedules]
        self._block_start = step
        self._limit = stop if end is None else min(stop, end[0])

    def _move_to(self, step: int) -> None:
        if not self._block_start <= step < self._limit:
            self._refill(step)
        self._write(step - self._block_start)

    def _install(self, plan: _Plan, groups: list[dict[str, Any]]) -> None:
        """Make ``plan`` current for ``groups`` and drop the cached blocks."""
        self._plan = plan
        self._planned_groups = groups
        self._group_count = len(groups)
        self._end = _first_end(self._specs) if self._past_end == "raise" else None
        self._blocks = []
        self._block_start = 0
        self._limit = -1
        self.base_lrs = self._step_zero_lrs(groups)

    def _sync(self, groups: list[dict[str, Any]]) -> None:
        """Plan again for a new group list: groups added, or a loaded optimizer."""
        known = self._group_count
        if len(groups) < known:
            raise ValueError(
                f"the optimizer has {len(groups)} param groups, fewer than the "
                f"{known} the scheduler has seen; param groups cannot be removed"
            )
        scales = {
            name: values
            + [
                _group_scale(name, group, index, self._relative)
                for index, group in enumerate(groups[known:], start=known)
            ]
            for name, values in self._scales.items()
        }
        plan = _build_plan(groups, self._specs, scales, known)

        self._scales = scales
        self._install(plan, groups)

    def _step_zero_lrs(
        self, groups: list[dict[str, Any]]
    ) -> list[float | torch.Tensor]:
        spec = self._specs.get("lr")
        if spec is None:
            return [_as_float(group["lr"]) for group in groups]
        scales = self._scales["lr"]
        lrs: list[float | torch.Tensor] = []
        for index in range(len(groups)):
            schedule = spec[index] if isinstance(spec, tuple) else spec
            lrs.append(schedule(0) * scales[index])
        return lrs

    # Resuming

    def state_dict(self) -> dict[str, Any]:
        """Return the step, the schedules and the scales as plain Python values.

        The dict holds only ints, floats, strings, lists and dicts, so that
        ``torch.load(..., weights_only=True)`` can read it back.
        """
        groups = self.optimizer.param_groups
        if groups is not self._planned_groups or len(groups) != self._group_count:
            self._sync(groups)
        return {
            "format": _FORMAT,
            "step": self.last_epoch,
            "group_count": self._group_count,
            "schedules": {
                name: _spec_to_plain(spec) for name, spec in self._specs.items()
            },
            "scales": {name: list(values) for name, values in self._scales.items()},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from a saved state and write its values into the groups now.

        Load the optimizer state first, then this. Every later value equals
        that of the run the state was saved from.

        Raises:
            ValueError: the state was saved with a different number of param
                groups, or from different schedules (unless the scheduler was
                built with ``use_saved_schedules=True``), or is malformed.
            TypeError: the state has a value of the wrong type.
        """
        step, count, specs, scales = _parse_state(state_dict)
        groups = self.optimizer.param_groups
        if count != len(groups):
            raise ValueError(
                f"the scheduler state was saved with {count} param groups, but the "
                f"optimizer now has {len(groups)}; build the optimizer with the "
                "same param groups (adding any that were added during training) "
                "before loading"
            )
        if specs != self._specs:
            if not self._use_saved_schedules:
                raise ValueError(
                    "the saved schedules differ from this scheduler's.\n"
                    f"  saved: {_describe_specs(specs)}\n"
                    f"  this scheduler: {_describe_specs(self._specs)}\n"
                    "Construct the scheduler with the saved schedules, or pass "
                    "use_saved_schedules=True to take them from the state."
                )
            _check_momentum_bounds(specs.get("momentum"))
        plan = _build_plan(groups, specs, scales, known=count)
        end = _first_end(specs) if self._past_end == "raise" else None
        if end is not None and step >= end[0]:
            raise ValueError(
                f"the saved step {step} is past the end of the {end[1]} schedule "
                f"({end[0]} steps), and past_end='raise'"
            )

        self._specs = specs
        self._scales = scales
        self.last_epoch = step
        self._step_count = step + 1
        self._install(plan, groups)
        self._move_to(step)

    # What torch's LRScheduler API exposes

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """Return every param group's current lr as a Python float."""
        return [_as_float(group["lr"]) for group in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """Return every param group's current lr, as ``get_last_lr`` does."""
        return self.get_last_lr()

    def __repr__(self) -> str:
        return (
            f"ParamScheduler({_describe_specs(self._specs)}, step={self.last_epoch}, "
            f"groups={self._group_count})"
        )
