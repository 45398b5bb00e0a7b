"""``ParamScheduler``: write lrkit schedules into a torch optimizer's param groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lrkit.adapters._torch_plan import (
    Plan,
    Spec,
    as_float,
    build_plan,
    check_momentum_bounds,
    check_scale_list,
    check_spec,
    check_uniform_start,
    first_end,
    group_scale,
    initial_scales,
)
from lrkit.adapters._torch_state import (
    FORMAT,
    describe_specs,
    parse_state,
    spec_to_plain,
)
from lrkit.schedules import Schedule
from lrkit.schedules import _validate as check

_BLOCK_STEPS = 1024
"""How many upcoming steps each schedule is evaluated for at once."""


class ParamScheduler(LRScheduler):
    """Drive an optimizer's lr, momentum and weight decay from lrkit schedules.

    Each scheduled hyperparameter ``h`` of param group ``g`` takes, at step
    ``k``::

        g[h] = schedule_g(k) * scale_g

    Legend:

    - ``schedule_g``: the ``h`` argument, one schedule for every group or
      the group's entry in a list with one schedule per group.
    - ``k``: ``last_epoch``, the number of ``step()`` calls made so far.
    - ``scale_g``: the group's scale for ``h``.

    The lr scale comes from ``lr_scale[g]`` if that list is given,
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
            spec = check_spec(name, value, count)
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
            "lr": check_scale_list("lr_scale", lr_scale, count, "lr" in specs),
            "weight_decay": check_scale_list(
                "weight_decay_scale", weight_decay_scale, count, "weight_decay" in specs
            ),
        }
        if relative and any(value is not None for value in scale_lists.values()):
            raise ValueError(
                "relative=True takes each group's scale from its initial value, so "
                "it cannot be combined with lr_scale or weight_decay_scale, got "
                f"lr_scale={lr_scale!r}, weight_decay_scale={weight_decay_scale!r}"
            )
        check_momentum_bounds(specs.get("momentum"))

        scales: dict[str, list[float]] = {}
        for name, given_scales in scale_lists.items():
            if name not in specs:
                continue
            if given_scales is None and not relative:
                check_uniform_start(name, specs[name], groups)
            scales[name] = initial_scales(name, given_scales, groups, relative)
        plan = build_plan(groups, specs, scales, known=0)

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
        """Write the values cached at ``offset`` in the block into every group."""
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

    def _install(self, plan: Plan, groups: list[dict[str, Any]]) -> None:
        """Make ``plan`` current for ``groups`` and drop the cached blocks."""
        self._plan = plan
        self._planned_groups = groups
        self._group_count = len(groups)
        self._end = first_end(self._specs) if self._past_end == "raise" else None
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
                group_scale(name, group, index, self._relative)
                for index, group in enumerate(groups[known:], start=known)
            ]
            for name, values in self._scales.items()
        }
        plan = build_plan(groups, self._specs, scales, known)

        self._scales = scales
        self._install(plan, groups)

    def _step_zero_lrs(
        self, groups: list[dict[str, Any]]
    ) -> list[float | torch.Tensor]:
        spec = self._specs.get("lr")
        if spec is None:
            return [as_float(group["lr"]) for group in groups]
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
            "format": FORMAT,
            "step": self.last_epoch,
            "group_count": self._group_count,
            "schedules": {
                name: spec_to_plain(spec) for name, spec in self._specs.items()
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
        step, count, specs, scales = parse_state(state_dict)
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
                    f"  saved: {describe_specs(specs)}\n"
                    f"  this scheduler: {describe_specs(self._specs)}\n"
                    "Construct the scheduler with the saved schedules, or pass "
                    "use_saved_schedules=True to take them from the state."
                )
            check_momentum_bounds(specs.get("momentum"))
        plan = build_plan(groups, specs, scales, known=count)
        end = first_end(specs) if self._past_end == "raise" else None
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
        return [as_float(group["lr"]) for group in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """Return every param group's current lr, as ``get_last_lr`` does."""
        return self.get_last_lr()

    def __repr__(self) -> str:
        return (
            f"ParamScheduler({describe_specs(self._specs)}, step={self.last_epoch}, "
            f"groups={self._group_count})"
        )
