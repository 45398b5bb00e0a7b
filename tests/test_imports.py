"""Importing lrkit or its schedules must not import torch or matplotlib."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_suite_collects_without_torch(tmp_path: Path) -> None:
    """Without torch, the torch modules and their doctests are left out, not errors."""
    (tmp_path / "torch.py").write_text("raise ImportError('torch is hidden')\n")
    root = Path(__file__).resolve().parent.parent
    environment = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{root}")
    environment.pop("LRKIT_REQUIRE_OPTIONAL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "error" not in result.stdout.splitlines()[-1]
    assert "lrkit/adapters/torch.py" not in result.stdout
    assert "tests/test_cli.py" in result.stdout
