"""Run the ``lrkit`` command as ``python -m lrkit``."""

import sys

from lrkit.cli import main

sys.exit(main())
