"""Argument checks shared by every schedule builder.

Each check converts the value to a plain Python type and raises ``TypeError``
for a wrong type or ``ValueError`` for a broken rule. Messages name the
parameter as the caller typed it, the rule, and the value received.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def real(name: str, value: Any) -> float:
    """Return ``value`` as a finite Python float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result!r}")
    return result


def non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a finite float that is at least 0."""
    result = real(name, value)
    if result < 0:
        raise ValueError(f"{name} must be >= 0, got {result!r}")
    return result


def positive(name: str, value: Any) -> float:
    """Return ``value`` as a finite float that is greater than 0."""
    result = real(name, value)
    if result <= 0:
        raise ValueError(f"{name} must be > 0, got {result!r}")
    return result


def fraction(
    name: str,
    value: Any,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float in [0, 1], with either end optionally open."""
    result = real(name, value)
    low_ok = result > 0 if low_open else result >= 0
    high_ok = result < 1 if high_open else result <= 1
    if not (low_ok and high_ok):
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        interval = f"{left}0, 1{right}"
        raise ValueError(f"{name} must be in {interval}, got {result!r}")
    return result


def integer(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int, at least ``minimum`` when given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    result = int(value)
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {result!r}")
    return result


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of the allowed strings."""
    allowed = tuple(options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {_describe(value)}")
    if value not in allowed:
        listed = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def boolean(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {_describe(value)}")
    return bool(value)
