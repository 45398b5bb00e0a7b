"""The plain ``state_dict`` layout of ``ParamScheduler``, and its checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit.adapters._torch_plan import HYPERPARAMETERS, SCALE_KEYS, Spec
from lrkit.schedules import Schedule
from lrkit.schedules import _validate as check

FORMAT = 1
"""The version of the ``state_dict`` layout."""

MAX_STEP = 2**53 - 1
"""The largest saved step accepted: every integer up to it is exact in float64."""


def describe_specs(specs: Mapping[str, Spec]) -> str:
    parts = []
    for name, spec in specs.items():
        shown = list(spec) if isinstance(spec, tuple) else spec
        parts.append(f"{name}={shown!r}")
    return ", ".join(parts) if parts else "(none)"


def spec_to_plain(spec: Spec) -> Any:
    if isinstance(spec, tuple):
        return [schedule.to_dict() for schedule in spec]
    return spec.to_dict()


def spec_from_plain(name: str, value: Any) -> Spec:
    if isinstance(value, Mapping):
        return Schedule.from_dict(value)
    if isinstance(value, list) and value:
        return tuple(Schedule.from_dict(item) for item in value)
    raise TypeError(
        f"state_dict['schedules'][{name!r}] must be a schedule dict or a list of "
        f"them, got {value!r}"
    )


def parse_state(
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
    if state.get("format", FORMAT) != FORMAT:
        raise ValueError(
            f"state_dict['format'] must be {FORMAT}, got {state['format']!r}; "
            "it was saved by a newer lrkit"
        )
    step = check.integer("state_dict['step']", state["step"], minimum=0)
    if step > MAX_STEP:
        raise ValueError(
            f"state_dict['step'] must be < 2**53, the largest step a float64 "
            f"represents exactly, got {step}"
        )
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
    for name in HYPERPARAMETERS:
        if name in saved_schedules:
            specs[name] = spec_from_plain(name, saved_schedules[name])
    unknown = set(saved_schedules) - set(HYPERPARAMETERS)
    if unknown:
        raise ValueError(f"state_dict['schedules'] has unknown keys {sorted(unknown)}")
    scales: dict[str, list[float]] = {}
    for name, values in saved_scales.items():
        label = f"state_dict['scales'][{name!r}]"
        if name not in specs or name not in SCALE_KEYS:
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
        if name in SCALE_KEYS and name not in scales:
            raise ValueError(f"state_dict['scales'] has no scales for {name!r}")
    return step, count, specs, scales
