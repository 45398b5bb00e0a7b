"""The ``Schedule`` base class: step checks, equality, repr and serialisation.

A schedule is an immutable value that maps a step (the 0-based index of the
optimizer update the value is used for) to a float. Subclasses implement one
vectorised method, ``_evaluate``, and the base class gives every schedule the
same scalar and array behaviour, so that ``schedule(k)`` and
``schedule(np.array([k]))[0]`` are the same float for every ``k``.
"""

from __future__ import annotations

import abc
import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypedDict, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_REGISTRY: dict[str, type[Schedule]] = {}


class _LrSchedule(TypedDict):
    lr: Schedule


class CycleSchedules(_LrSchedule, total=False):
    """The lr schedule and, unless momentum was switched off, the momentum one.

    One-cycle builders return this dict; unpack it into ``ParamScheduler``
    with ``**``, which type checkers accept key by key.
    """

    momentum: Schedule


_ScheduleType = TypeVar("_ScheduleType", bound="type[Schedule]")


def register(cls: _ScheduleType) -> _ScheduleType:
    """Add an lrkit schedule class to the registry that ``from_dict`` reads."""
    name = cls._name
    if name in _REGISTRY:
        raise RuntimeError(f"schedule name {name!r} is registered twice")
    _REGISTRY[name] = cls
    return cls


def _as_step_array(step: Any) -> FloatArray:
    """Check a step or an array of steps and return them as a 1-D float64 array."""
    if isinstance(step, np.ndarray):
        array = step
    elif isinstance(step, (bool, np.bool_)):
        raise TypeError(f"step must be an integer, got {step!r} (bool)")
    elif isinstance(step, numbers.Integral):
        if step < 0:
            raise ValueError(f"step must be >= 0, got {int(step)}")
        return np.array([step], dtype=np.float64)
    elif isinstance(step, numbers.Real):
        array = np.asarray(step, dtype=np.float64)
    else:
        raise TypeError(
            f"step must be an integer or a numpy array of integers, "
            f"got {step!r} ({type(step).__name__})"
        )

    kind = array.dtype.kind
    if kind == "b":
        raise TypeError("step must be an integer, got an array of bools")
    if kind in "iu":
        flat = array.reshape(-1).astype(np.float64)
    elif kind == "f":
        flat = array.reshape(-1).astype(np.float64)
        # floor(inf) == inf, so infinities need their own check.
        integral = np.isfinite(flat) & (np.floor(flat) == flat)
        if not np.all(integral):
            bad = flat[~integral][0]
            raise TypeError(f"step must be an integer, got {bad.item()!r}")
    else:
        raise TypeError(f"step must be an integer, got an array of dtype {array.dtype}")
    if flat.size and flat.min() < 0:
        bad = array.reshape(-1)[flat < 0][0]
        raise ValueError(f"step must be >= 0, got {bad.item()!r}")
    return flat


def _to_plain(value: Any) -> Any:
    """Convert a field value to plain Python numbers, strings, lists and dicts."""
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_to_plain(item) for item in value]
    return value


def _repr_value(value: Any) -> str:
    """Show tuples as lists, since builders take lists."""
    if isinstance(value, tuple):
        return "[" + ", ".join(_repr_value(item) for item in value) + "]"
    return repr(value)


def _from_plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Schedule.from_dict(value)
    if isinstance(value, list):
        return [_from_plain(item) for item in value]
    return value


def _rebuild(name: str, fields: dict[str, Any]) -> Schedule:
    return _REGISTRY[name](**fields)


class Schedule(abc.ABC):
    """An immutable map from a step (int >= 0) to a float value.

    Call it with a Python or numpy integer to get a Python float, or with a
    numpy array of integers to get a float64 array of the same shape. A finite
    schedule (``length`` is an int) holds its final value past its last step,
    ``length - 1``.
    """

    __slots__ = ()

    _name: ClassVar[str]
    """The public builder name, used by ``repr`` and as the ``to_dict`` type."""

    _fields: ClassVar[tuple[str, ...]]
    """Constructor arguments, in order. Each is stored as ``_<field>``."""

    def _init_fields(self, **values: Any) -> None:
        for field in self._fields:
            object.__setattr__(self, "_" + field, values[field])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # Fields and serialisation

    def _field_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, "_" + field) for field in self._fields)

    def _field_dict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self._field_values(), strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Return the schedule as plain Python types, for JSON or a checkpoint.

        ``Schedule.from_dict(s.to_dict()) == s`` for every lrkit schedule.
        """
        data: dict[str, Any] = {"type": self._name}
        for field, value in self._field_dict().items():
            data[field] = _to_plain(value)
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Schedule:
        """Build a schedule from the output of ``to_dict``.

        Only lrkit's own schedule classes can be built, looked up by name in a
        fixed registry, so a dict read from an untrusted checkpoint cannot run
        arbitrary code.

        Raises:
            ValueError: the type is unknown or a field is missing or unexpected.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"data must be a dict, got {type(data).__name__}")
        name = data.get("type")
        # A list or dict type is unhashable, so check the type before the lookup.
        if not isinstance(name, str) or name not in _REGISTRY:
            known = ", ".join(sorted(_REGISTRY))
            raise ValueError(f"unknown schedule type {name!r}; known types: {known}")
        cls = _REGISTRY[name]
        fields = {
            key: _from_plain(value) for key, value in data.items() if key != "type"
        }
        try:
            inspect.signature(cls).bind(**fields)
        except TypeError as error:
            raise ValueError(f"invalid fields for schedule {name!r}: {error}") from None
        return cls(**fields)

    def __reduce__(self) -> tuple[Callable[..., Schedule], tuple[str, dict[str, Any]]]:
        return _rebuild, (self._name, self._field_dict())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Schedule)
        return self._field_values() == other._field_values()

    def __hash__(self) -> int:
        return hash((self._name, self._field_values()))

    def __repr__(self) -> str:
        arguments = ", ".join(
            f"{field}={_repr_value(value)}"
            for field, value in self._field_dict().items()
        )
        return f"{self._name}({arguments})"

    # Evaluation

    @property
    @abc.abstractmethod
    def length(self) -> int | None:
        """The number of steps the schedule spans, or None if it has no end."""

    @property
    @abc.abstractmethod
    def bounds(self) -> tuple[float, float]:
        """The lowest and highest value the schedule takes at any step."""

    @abc.abstractmethod
    def _evaluate(self, steps: FloatArray) -> FloatArray:
        """Return a new array of values for a 1-D float64 array of steps.

        The steps are integral and >= 0, and for a finite schedule they are at
        most ``length - 1``: ``__call__`` clamps them to hold the final value.
        """

    @overload
    def __call__(self, step: int | np.integer[Any]) -> float: ...

    @overload
    def __call__(self, step: NDArray[Any]) -> FloatArray: ...

    def __call__(
        self, step: int | np.integer[Any] | NDArray[Any]
    ) -> float | FloatArray:
        """Return the value at ``step``: a float, or an array for an array of steps.

        Raises:
            TypeError: a bool, a non-integral float or a non-numeric step.
            ValueError: a negative step.
        """
        steps = _as_step_array(step)
        length = self.length
        if length is not None:
            np.minimum(steps, length - 1, out=steps)
        values = self._evaluate(steps)
        if isinstance(step, np.ndarray):
            return values.reshape(step.shape)
        return float(values[0])
