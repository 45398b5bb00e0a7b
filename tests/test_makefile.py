"""The Makefile's set-up: which index each pip step installs torch from."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands(tmp_path: Path, *variables: str) -> list[str]:
    """Return the pip commands that ``make demo`` would run, without running them."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "-n", "demo", f"VENV={tmp_path / 'venv'}", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # make -n prints a recipe line continued with a backslash as it is written.
    commands = result.stdout.replace("\\\n", " ").splitlines()
    return [" ".join(line.split()) for line in commands if " pip install " in line]


def test_torch_from_default_index(tmp_path: Path) -> None:
    torch_step, extras_step = _setup_commands(tmp_path)
    assert torch_step.endswith(" torch")
    assert "--constraint constraints.txt" in torch_step
    assert "--index-url" not in torch_step
    assert "--index-url" not in extras_step


def test_torch_index_url_applies_to_torch_step(tmp_path: Path) -> None:
    """The CPU index serves torch only: the extras still come from PyPI."""
    index = "https://download.pytorch.org/whl/cpu"
    torch_step, extras_step = _setup_commands(tmp_path, f"TORCH_INDEX_URL={index}")
    assert f"--index-url {index}" in torch_step
    assert "--constraint constraints.txt" in torch_step
    assert "--index-url" not in extras_step
    assert "--constraint constraints.txt" in extras_step
