"""The torch adapter: drive an optimizer's param groups from lrkit schedules.

This is the only lrkit module that imports torch.
"""

__all__: list[str] = []
