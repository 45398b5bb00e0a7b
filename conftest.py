"""Root pytest set-up for the tests and the docstring examples.

It gives the docstring examples names they use without importing, and leaves
the torch modules out of collection when torch is not installed.
"""

import importlib
import os
from typing import Any

import numpy as np
import pytest

import lrkit.schedules


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


# These modules import torch at the top, so collecting them (tests, or the
# doctests of --doctest-modules) would be an error rather than the skip that
# tests/_optional.require gives. CI sets LRKIT_REQUIRE_OPTIONAL=1 after
# installing every extra, and there they are always collected.
collect_ignore_glob: list[str] = []
if os.environ.get("LRKIT_REQUIRE_OPTIONAL") != "1" and not _importable("torch"):
    collect_ignore_glob = [
        "lrkit/adapters/*torch*.py",
        "tests/_torch_models.py",
        "tests/_trainers.py",
        "tests/test_trainers_*.py",
        "tests/test_integrations_doc.py",
    ]


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace["np"] = np
    for name in lrkit.schedules.__all__:
        doctest_namespace[name] = getattr(lrkit.schedules, name)
