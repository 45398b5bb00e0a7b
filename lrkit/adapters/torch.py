"""The torch adapter: drive an optimizer's param groups from lrkit schedules.

This is the only lrkit module that imports torch.
"""

from lrkit.adapters._torch_scheduler import ParamScheduler

__all__: list[str] = ["ParamScheduler"]
