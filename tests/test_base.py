"""Behaviour every schedule shares: step checks, scalar vs array, serialisation."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies


@given(strategies.schedules(), st.lists(strategies.steps, min_size=1, max_size=50))
def test_scalar_equals_array(schedule: sch.Schedule, steps: list[int]) -> None:
    array = schedule(np.array(steps))
    for index, step in enumerate(steps):
        scalar = schedule(step)
        assert type(scalar) is float
        assert scalar == array[index], f"step {step}: {scalar!r} != {array[index]!r}"


@given(strategies.schedules())
def test_array_keeps_shape_and_dtype(schedule: sch.Schedule) -> None:
    steps = np.arange(12, dtype=np.int32).reshape(3, 4)
    values = schedule(steps)
    assert values.shape == (3, 4)
    assert values.dtype == np.float64


@given(strategies.schedules())
def test_values_within_bounds(schedule: sch.Schedule) -> None:
    end = 3 * (schedule.length or 2_000)
    values = schedule(np.arange(end))
    low, high = schedule.bounds
    assert np.all(np.isfinite(values))
    assert values.min() >= low
    assert values.max() <= high


@given(strategies.schedules())
def test_holds_final_value(schedule: sch.Schedule) -> None:
    if schedule.length is None:
        return
    last = schedule(schedule.length - 1)
    assert schedule(schedule.length) == last
    assert schedule(10 * schedule.length + 7) == last


@given(strategies.schedules())
def test_pickle_round_trip(schedule: sch.Schedule) -> None:
    copy = pickle.loads(pickle.dumps(schedule))
    assert copy == schedule
    assert hash(copy) == hash(schedule)
    steps = np.arange(100)
    np.testing.assert_array_equal(copy(steps), schedule(steps))


@given(strategies.schedules())
def test_json_round_trip(schedule: sch.Schedule) -> None:
    text = json.dumps(schedule.to_dict())
    copy = sch.Schedule.from_dict(json.loads(text))
    assert copy == schedule
    assert repr(copy) == repr(schedule)


def _plain(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return type(value) in (int, float, str, bool) or value is None


@given(strategies.schedules())
def test_to_dict_is_plain(schedule: sch.Schedule) -> None:
    assert _plain(schedule.to_dict())


def test_numpy_arguments_become_plain() -> None:
    schedule = sch.linear(np.float32(0.5), np.float64(0.0), np.int64(10))
    data = schedule.to_dict()
    assert type(data["init_value"]) is float
    assert type(data["steps"]) is int


def test_repr_reads_like_the_call() -> None:
    schedule = sch.join([sch.linear(0.0, 1.0, 3), sch.constant(2.0)])
    assert repr(schedule) == (
        "join(schedules=[linear(init_value=0.0, end_value=1.0, steps=3, "
        "include_start=True), constant(value=2.0)])"
    )
    namespace = {name: getattr(sch, name) for name in sch.__all__}
    assert eval(repr(schedule), namespace) == schedule


def test_schedules_are_immutable() -> None:
    schedule = sch.cosine(1.0, 0.0, 10)
    with pytest.raises(AttributeError, match="immutable"):
        schedule._steps = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        schedule.extra = 1  # type: ignore[attr-defined]


def test_equality_distinguishes_types_and_fields() -> None:
    assert sch.linear(1, 0, 10) == sch.linear(1.0, 0.0, 10)
    assert sch.linear(1, 0, 10) != sch.cosine(1, 0, 10)
    assert sch.linear(1, 0, 10) != sch.linear(1, 0, 11)


@pytest.mark.parametrize(
    ("step", "error", "message"),
    [
        (-1, ValueError, "step must be >= 0, got -1"),
        (np.int64(-3), ValueError, "got -3"),
        (True, TypeError, "got True"),
        (2.5, TypeError, "got 2.5"),
        (float("nan"), TypeError, "nan"),
        (float("inf"), TypeError, "inf"),
        ("3", TypeError, "'3'"),
        (np.array([1, -2]), ValueError, "-2"),
        (np.array([True]), TypeError, "bools"),
        (np.array([0.5]), TypeError, "0.5"),
        (np.array([1.0, -np.inf]), TypeError, "-inf"),
    ],
    ids=[
        "negative",
        "numpy-negative",
        "bool",
        "fraction",
        "nan",
        "infinity",
        "string",
        "array-negative",
        "array-bool",
        "array-fraction",
        "array-infinity",
    ],
)
def test_invalid_steps_raise(step: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        sch.cosine(1.0, 0.0, 10)(step)  # type: ignore[arg-type]


def test_infinite_step_rejected_by_endless_schedule() -> None:
    """An endless cyclic schedule would return nan at an infinite step."""
    with pytest.raises(TypeError, match="inf"):
        sch.cyclic(0.1, 1.0, 3)(float("inf"))


def test_finite_schedule_holds_at_huge_step() -> None:
    schedule = sch.linear(1.0, 0.5, 3)
    assert schedule(2**70) == 0.5
    assert schedule(np.array([2**63 - 1]))[0] == 0.5


def test_integral_float_step_accepted() -> None:
    schedule = sch.linear(0.0, 1.0, 5)
    assert schedule(2.0) == schedule(2)
    assert schedule(np.float64(2)) == 0.5


def test_numpy_integer_step_gives_float() -> None:
    value = sch.linear(0.0, 1.0, 5)(np.int32(1))
    assert type(value) is float
    assert value == 0.25


@pytest.mark.parametrize(
    "data",
    [
        {"type": "os.system", "command": "true"},
        {"type": "linear", "init_value": 1.0, "end_value": 0.0},
        {"type": "linear", "init_value": 1.0, "end_value": 0.0, "steps": 3, "x": 1},
        {"steps": 3},
        {"type": ["linear"], "init_value": 1.0, "end_value": 0.0, "steps": 3},
    ],
    ids=["unknown-type", "missing-field", "unexpected-field", "no-type", "list-type"],
)
def test_from_dict_rejects_bad_data(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sch.Schedule.from_dict(data)


def test_from_dict_only_builds_registered_classes() -> None:
    class Custom(sch.Constant):
        _name = "custom"

    with pytest.raises(ValueError, match="unknown schedule type 'custom'"):
        sch.Schedule.from_dict(Custom(1.0).to_dict())
