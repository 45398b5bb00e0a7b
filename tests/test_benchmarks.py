"""Smoke test: the benchmark entry point runs on a tiny budget and writes JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._optional import require

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_write_results(tmp_path: Path) -> None:
    require("torch")
    out = tmp_path / "results.json"
    page = tmp_path / "BENCHMARKS.md"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--quick",
            "--rounds",
            "1",
            "--round-seconds",
            "0.001",
            "--out",
            str(out),
            "--page",
            str(page),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = json.loads(out.read_text())
    assert results["machine"]["cores"] >= 1
    assert {row["steps"] for row in results["curves"]} == {1_000, 10_000}
    for row in results["curves"]:
        assert row["median_ns"]["lrkit"] > 0
        assert row["torch_over_lrkit"] > 0
    assert {row["groups"] for row in results["step_overhead"]} == {1, 8, 64}
    assert results["optimizer_step_ratio"]["parameters"] > 1_000_000
    assert all(row["ns_per_tensor"]["param_groups"] > 0 for row in results["splitting"])
    assert results["scalar"]["median_ns"]["cosine"] > 0
    text = page.read_text()
    assert "# lrkit benchmarks" in text
    assert "SGD, 64 groups" in text


def test_benchmarks_reject_bad_rounds(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--rounds", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--rounds must be >= 1, got 0" in result.stderr
