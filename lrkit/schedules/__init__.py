"""Pure, immutable schedules that map an optimizer step to a value.

Every schedule is vectorised over numpy arrays, and this package imports
numpy only, never a training framework.
"""

from lrkit.schedules._base import CycleSchedules, Schedule
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
from lrkit.schedules._fastai_recipes import (
    fastai_combined_cos,
    fastai_flat_cos,
    fastai_one_cycle,
)
from lrkit.schedules._hf_recipes import (
    hf_constant_schedule_with_warmup,
    hf_cosine_schedule_with_warmup,
    hf_cosine_with_hard_restarts_schedule_with_warmup,
    hf_cosine_with_min_lr_schedule_with_warmup,
    hf_inverse_sqrt_schedule,
    hf_linear_schedule_with_warmup,
    hf_polynomial_decay_schedule_with_warmup,
    hf_wsd_schedule,
)
from lrkit.schedules._one_cycle import one_cycle
from lrkit.schedules._torch_recipes import TorchOneCycle, torch_one_cycle
from lrkit.schedules._wsd import (
    FlatCos,
    WarmupStableDecay,
    flat_cos,
    warmup_stable_decay,
)

__all__ = [
    "Clip",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "CycleSchedules",
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
    "TorchOneCycle",
    "Warmup",
    "WarmupStableDecay",
    "clip",
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "exponential",
    "exponential_decay",
    "fastai_combined_cos",
    "fastai_flat_cos",
    "fastai_one_cycle",
    "flat_cos",
    "hf_constant_schedule_with_warmup",
    "hf_cosine_schedule_with_warmup",
    "hf_cosine_with_hard_restarts_schedule_with_warmup",
    "hf_cosine_with_min_lr_schedule_with_warmup",
    "hf_inverse_sqrt_schedule",
    "hf_linear_schedule_with_warmup",
    "hf_polynomial_decay_schedule_with_warmup",
    "hf_wsd_schedule",
    "inverse_sqrt",
    "join",
    "linear",
    "multi_step",
    "one_cycle",
    "polynomial",
    "repeat",
    "scale",
    "step_decay",
    "torch_one_cycle",
    "warmup",
    "warmup_stable_decay",
]
