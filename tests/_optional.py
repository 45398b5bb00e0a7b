"""Import optional dependencies in tests: skip when missing, or fail in CI.

CI sets ``LRKIT_REQUIRE_OPTIONAL=1`` after installing every extra, so a test
that would silently skip for lack of a package fails there instead.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    """Import ``module``, or skip the test (fail it under LRKIT_REQUIRE_OPTIONAL).

    Call it inside a test, or at the top of a test module to skip or fail
    every test in that module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if os.environ.get("LRKIT_REQUIRE_OPTIONAL") == "1":
            pytest.fail(f"optional dependency {module!r} is missing: {error}")
        pytest.skip(
            f"optional dependency {module!r} is not installed", allow_module_level=True
        )
