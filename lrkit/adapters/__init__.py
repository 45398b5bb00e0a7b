"""Bridges from lrkit schedules to training frameworks.

Each framework lives in its own submodule (``lrkit.adapters.torch``), which is
the only place that imports that framework.
"""
