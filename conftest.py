"""Root pytest set-up: names that the docstring examples use without importing."""

from typing import Any

import numpy as np
import pytest

import lrkit.schedules


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace["np"] = np
    for name in lrkit.schedules.__all__:
        doctest_namespace[name] = getattr(lrkit.schedules, name)
