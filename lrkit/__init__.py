"""lrkit: learning-rate and hyperparameter schedules for training neural networks.

``lrkit.schedules`` holds the framework-free schedules; ``lrkit.adapters``
connects them to training frameworks. Importing ``lrkit`` never imports torch.
"""

from lrkit import schedules
from lrkit.schedules import Schedule

__version__ = "0.1.0"

__all__ = ["Schedule", "__version__", "schedules"]
