"""Run every python snippet in docs/integrations.md and check what it did.

The snippets of one ``##`` section run in order in one namespace, as a
reader would paste them, inside a fresh temporary directory. After each
snippet, the check listed for it at that position below inspects its names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from lrkit.schedules import one_cycle
from tests._optional import require

DOC = Path(__file__).resolve().parent.parent / "docs" / "integrations.md"
SNIPPET = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)

# The init_scale of the snippets' GradScalers. A GradScaler's scale only grows
# after 2000 steps in a row without a skip, so in these short runs every
# halving of the scale is one skipped step.
INIT_SCALE = 2.0**24

Namespace = dict[str, Any]


def doc_sections() -> dict[str, list[str]]:
    """Split the page at ``## `` headings and collect each section's snippets."""
    sections: dict[str, list[str]] = {}
    for chunk in re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)[1:]:
        title, _, body = chunk.partition("\n")
        sections[title.strip()] = SNIPPET.findall(body)
    return sections


def skipped_steps(scaler: torch.amp.GradScaler) -> int:
    """Count the halvings of a GradScaler's scale since it started."""
    return round(math.log2(INIT_SCALE / scaler.get_scale()))


def check_lightning_resume(names: Namespace) -> None:
    saved = torch.load("epochs/epoch=1.ckpt", weights_only=True)

    assert saved["lr_schedulers"][0]["step"] == 8
    assert names["trainer"].global_step == 16
    assert names["scheduler"].last_epoch == 16


def check_lightning_float16(names: Namespace) -> None:
    trainer = names["trainer"]
    skipped = skipped_steps(trainer.precision_plugin.scaler)

    assert skipped > 0
    assert trainer.global_step == 16
    assert names["scheduler"].last_epoch == 16 - skipped


def check_hf_resume(names: Namespace) -> None:
    saved = torch.load("runs/checkpoint-8/scheduler.pt", weights_only=True)
    trainer = names["trainer"]

    assert saved["step"] == 8
    assert trainer.state.global_step == 16
    assert trainer.lr_scheduler.last_epoch == 16


def check_accelerate_loop(names: Namespace) -> None:
    scheduler = names["scheduler"]
    final_lr = one_cycle(0.1, total_steps=15)["lr"](14)

    assert scheduler.last_epoch == 15
    assert scheduler.get_last_lr() == [final_lr]


def check_gradscaler_loop(names: Namespace) -> None:
    skipped = skipped_steps(names["scaler"])

    assert skipped > 0
    assert names["scheduler"].last_epoch == 50 - skipped


CHECKS: dict[str, list[Callable[[Namespace], None]]] = {
    "PyTorch Lightning": [check_lightning_resume, check_lightning_float16],
    "Hugging Face Trainer": [check_hf_resume],
    "Hugging Face Accelerate in your own loop": [check_accelerate_loop],
    "Mixed precision in your own loop": [check_gradscaler_loop],
}


def test_doc_sections_all_checked() -> None:
    """Every section with snippets has one check per snippet, and no more."""
    counts = {title: len(snippets) for title, snippets in doc_sections().items()}
    with_snippets = {title: count for title, count in counts.items() if count}

    assert with_snippets == {title: len(checks) for title, checks in CHECKS.items()}


@pytest.mark.parametrize("title", list(CHECKS))
@pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)`")
@pytest.mark.filterwarnings("ignore:Checkpoint directory .* exists and is not empty")
def test_doc_snippets_run(
    title: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The section's snippets run in order, and each one does what it shows."""
    require("lightning")
    require("transformers")
    require("accelerate")
    monkeypatch.chdir(tmp_path)
    names: Namespace = {"__name__": "__main__"}

    snippets = doc_sections()[title]
    for position, (snippet, check) in enumerate(
        zip(snippets, CHECKS[title], strict=True)
    ):
        code = compile(snippet, f"{DOC.name}: {title}, snippet {position}", "exec")
        exec(code, names)
        check(names)
