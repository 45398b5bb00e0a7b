"""Importing lrkit or its schedules must not import torch or matplotlib."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["lrkit", "lrkit.schedules", "lrkit.cli"])
def test_import_leaves_torch_unloaded(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(m for m in ('torch', 'matplotlib') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
