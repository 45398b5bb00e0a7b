"""End-to-end run of examples/finetune_digits.py, the example `make demo` runs.

The example runs in a subprocess, as a user runs it, with one unfrozen epoch
(about 10 s of CPU time). The checks read its results.json and its PNG files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._optional import require

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "finetune_digits.py"
METHODS = ("constant", "one_cycle", "fine_tune")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The accuracy plot, the finder's curve and one schedule plot per phase.
PNG_NAMES = (
    "accuracy.png",
    "lr_finder.png",
    "schedule_constant.png",
    "schedule_one_cycle.png",
    "schedule_fine_tune_1_head.png",
    "schedule_fine_tune_2_all.png",
)


def run_example(out: Path) -> subprocess.CompletedProcess[str]:
    """Run the example with one unfrozen epoch, importing this checkout's lrkit."""
    for module in ("torch", "sklearn", "tqdm", "matplotlib"):
        require(module)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--epochs", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, f"the example failed:\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def first_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("digits")
    return out, run_example(out)


def load_results(out: Path) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def test_fine_tune_recipe_learns_new_digits(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The recipe reaches 0.8 accuracy in two epochs, where chance is 0.2."""
    out, _ = first_run
    results = load_results(out)

    accuracy = results["methods"]["fine_tune"]["final_valid_accuracy"]
    assert accuracy >= 0.8


def test_every_method_trains_two_epochs(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = first_run
    methods = load_results(out)["methods"]

    assert sorted(methods) == sorted(METHODS)
    for method in METHODS:
        epochs = methods[method]["epochs"]
        assert [record["epoch"] for record in epochs] == [1, 2], method
        for record in epochs:
            assert 0.0 <= record["valid_accuracy"] <= 1.0, (method, record)
            assert record["train_loss"] > 0.0, (method, record)
    phases = [record["phase"] for record in methods["fine_tune"]["epochs"]]
    assert phases == ["head", "all"]


def test_lr_is_the_finder_valley(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = first_run
    results = load_results(out)

    suggestions = results["lr_finder"]["suggestions"]
    assert results["lr"] == suggestions["valley"]
    assert 1e-5 < results["lr"] < 1.0
    assert f"using lr = {results['lr']:.2e}" in result.stdout


def test_comparison_table_matches_results(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = first_run
    methods = load_results(out)["methods"]

    table = result.stdout.split("final acc", 1)[1]
    for method in METHODS:
        accuracy = methods[method]["final_valid_accuracy"]
        assert f"{method:<10} {accuracy:>9.3f}" in table


@pytest.mark.parametrize("name", PNG_NAMES)
def test_plot_is_a_readable_nonblank_png(
    first_run: tuple[Path, subprocess.CompletedProcess[str]], name: str
) -> None:
    out, _ = first_run
    path = out / name
    image = require("matplotlib.image").imread(path)
    data = path.read_bytes()

    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    assert image.ndim == 3
    assert image.shape[0] >= 300
    assert image.shape[1] >= 400
    # A blank or single-colour image has no spread and a handful of colours;
    # lines, text and legends give thousands.
    assert image[..., :3].std() > 0.05
    colours = {tuple(pixel) for pixel in image[::4, ::4, :3].reshape(-1, 3).tolist()}
    assert len(colours) > 50


def test_second_run_writes_identical_results(
    first_run: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    """Fixed seeds and one thread make every number reproducible."""
    out, _ = first_run
    run_example(tmp_path)

    first = (out / "results.json").read_text()
    second = (tmp_path / "results.json").read_text()
    assert first == second
