"""Pure, immutable schedules that map an optimizer step to a value.

Every schedule is vectorised over numpy arrays, and this package imports
numpy only, never a training framework.
"""

from lrkit.schedules._base import Schedule
from lrkit.schedules._combinators import (
    Clip,
    Join,
    Repeat,
    Scale,
    Warmup,
    clip,
    join,
    repeat,
    scale,
    warmup,
)
from lrkit.schedules._curves import Constant, Cosine, Linear, constant, cosine, linear
from lrkit.schedules._cyclic import CosineRestarts, Cyclic, cosine_restarts, cyclic
from lrkit.schedules._decays import (
    Exponential,
    ExponentialDecay,
    InverseSqrt,
    MultiStep,
    Polynomial,
    exponential,
    exponential_decay,
    inverse_sqrt,
    multi_step,
    polynomial,
    step_decay,
)
from lrkit.schedules._one_cycle import one_cycle
from lrkit.schedules._wsd import WSD, FlatCos, flat_cos, wsd

__all__ = [
    "WSD",
    "Clip",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "ExponentialDecay",
    "FlatCos",
    "InverseSqrt",
    "Join",
    "Linear",
    "MultiStep",
    "Polynomial",
    "Repeat",
    "Scale",
    "Schedule",
    "Warmup",
    "clip",
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "exponential",
    "exponential_decay",
    "flat_cos",
    "inverse_sqrt",
    "join",
    "linear",
    "multi_step",
    "one_cycle",
    "polynomial",
    "repeat",
    "scale",
    "step_decay",
    "warmup",
    "wsd",
]
