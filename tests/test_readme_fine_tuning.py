"""Run the README's fine-tuning example and check the state it ends in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests._optional import require

HEADING = "## Fine-tuning: layer groups, discriminative lrs, freezing"


def readme_example(heading: str) -> str:
    """Return the first python code block in the README section ``heading``."""
    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, f"no python block under {heading!r}"
    return found.group(1)


def test_fine_tuning_example_runs() -> None:
    require("torch")
    namespace: dict[str, Any] = {}
    exec(compile(readme_example(HEADING), "README.md", "exec"), namespace)
    model = namespace["model"]
    optimizer = namespace["optimizer"]
    assert all(p.requires_grad for p in model.parameters())
    assert namespace["scheduler"].last_epoch == 20
    names = [g["name"] for g in optimizer.param_groups]
    assert names[0] == "stem"
    assert names[-1] == "head.no_decay"
    layers = sorted({g["layer"] for g in optimizer.param_groups})
    assert layers == [0, 1, 2, 3]
    heads = [g for g in optimizer.param_groups if g["layer"] == 3]
    stems = [g for g in optimizer.param_groups if g["layer"] == 0]
    for head in heads:
        for stem in stems:
            ratio = stem["lr_scale"] / head["lr_scale"]
            assert stem["lr"] / head["lr"] == pytest.approx(ratio, rel=1e-12)
    assert stems[0]["lr_scale"] == pytest.approx(1e-2, rel=1e-12)
