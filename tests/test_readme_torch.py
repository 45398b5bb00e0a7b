"""The README's "Driving a torch optimizer" example runs and resumes exactly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from lrkit.schedules import cosine, one_cycle
from tests._optional import require

torch = require("torch")

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example(heading: str) -> str:
    """Return the first python code block under a README heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no python block under {heading!r}"
    return match.group(1)


def test_torch_example_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    code = compile(readme_example("Driving a torch optimizer"), "README.md", "exec")
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(code, namespace)

    lr = one_cycle(max_lr=0.1, total_steps=200)["lr"]
    decay = cosine(1e-4, 1e-5, 200)
    optimizer, scheduler = namespace["optimizer"], namespace["scheduler"]
    assert (tmp_path / "checkpoint.pt").is_file()
    assert capsys.readouterr().out == f"100 {[lr(100), lr(100) * 0.1]}\n"
    for step in range(101, 210):
        optimizer.step()
        scheduler.step()
        weight_group, bias_group = optimizer.param_groups
        assert weight_group["lr"] == lr(step), f"step {step}"
        assert bias_group["lr"] == lr(step) * 0.1, f"step {step}"
        assert weight_group["weight_decay"] == decay(step), f"step {step}"
        assert bias_group["weight_decay"] == 0.0
