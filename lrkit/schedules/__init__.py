"""Pure, immutable schedules that map an optimizer step to a value.

Every schedule is vectorised over numpy arrays, and this package imports
numpy only, never a training framework.
"""

from lrkit.schedules._base import Schedule
from lrkit.schedules._combinators import Join, Warmup, join, warmup
from lrkit.schedules._curves import Constant, Cosine, Linear, constant, cosine, linear
from lrkit.schedules._one_cycle import one_cycle

__all__ = [
    "Constant",
    "Cosine",
    "Join",
    "Linear",
    "Schedule",
    "Warmup",
    "constant",
    "cosine",
    "join",
    "linear",
    "one_cycle",
    "warmup",
]
