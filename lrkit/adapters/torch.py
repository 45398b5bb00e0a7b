"""The torch adapter: drive an optimizer's param groups from lrkit schedules.

This is the only lrkit module that imports torch.
"""

from lrkit.adapters._torch_freeze import freeze, freeze_to, unfreeze
from lrkit.adapters._torch_groups import param_groups
from lrkit.adapters._torch_lr_find import LRFindResult, lr_find
from lrkit.adapters._torch_scheduler import ParamScheduler

__all__: list[str] = [
    "LRFindResult",
    "ParamScheduler",
    "freeze",
    "freeze_to",
    "lr_find",
    "param_groups",
    "unfreeze",
]
