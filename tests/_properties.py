"""Checks every recipe must pass, shared by the recipe test modules."""

from __future__ import annotations

import json
import pickle

import numpy as np

import lrkit.schedules as sch


def assert_recipe_properties(schedule: sch.Schedule) -> None:
    """Check bounds, scalar against array, holding, and both round trips."""
    run = schedule.length or 3_000
    steps = np.arange(run + 5)
    values = schedule(steps)
    low, high = schedule.bounds
    assert np.all(np.isfinite(values))
    assert values.min() >= low, f"{values.min()!r} below the lower bound {low!r}"
    assert values.max() <= high, f"{values.max()!r} above the upper bound {high!r}"

    for step in {0, run // 3, run // 2, run - 1, run, run + 4}:
        scalar = schedule(step)
        assert type(scalar) is float
        assert scalar == values[step], f"step {step}: {scalar!r} != {values[step]!r}"

    if schedule.length is not None:
        assert schedule(10 * run + 3) == values[run - 1]

    copy = pickle.loads(pickle.dumps(schedule))
    assert copy == schedule
    np.testing.assert_array_equal(copy(steps), values)
    rebuilt = sch.Schedule.from_dict(json.loads(json.dumps(schedule.to_dict())))
    assert rebuilt == schedule
    assert repr(rebuilt) == repr(schedule)
    np.testing.assert_array_equal(rebuilt(steps), values)
