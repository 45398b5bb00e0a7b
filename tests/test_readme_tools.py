"""The README's lr finder, plotting and command examples run as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._optional import require

README = Path(__file__).resolve().parent.parent / "README.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _blocks(heading: str, language: str) -> list[str]:
    """Return the code blocks of one language under a README heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert blocks, f"no {language} block under {heading!r}"
    return blocks


def _run_python(heading: str) -> dict[str, Any]:
    code = compile(_blocks(heading, "python")[0], "README.md", "exec")
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(code, namespace)
    return namespace


def test_lr_finder_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    torch = require("torch")
    require("matplotlib")
    monkeypatch.chdir(tmp_path)
    # One thread: the model is tiny, and on a busy machine torch's thread pool
    # makes each step many times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        namespace = _run_python("Finding a learning rate")
    finally:
        torch.set_num_threads(threads)

    result = namespace["result"]
    printed = capsys.readouterr().out
    assert printed == f"{result.suggestions}\n"
    assert set(result.suggestions) == {"valley", "minimum", "steep"}
    assert namespace["optimizer"].param_groups[0]["lr"] == 0.1
    assert (tmp_path / "lr_find.png").read_bytes().startswith(PNG_SIGNATURE)


def test_plotting_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("matplotlib")
    monkeypatch.chdir(tmp_path)
    namespace = _run_python("Plotting schedules")

    figure = namespace["figure"]
    assert [axes.get_ylabel() for axes in figure.axes] == ["lr", "momentum"]
    assert (tmp_path / "one_cycle.png").read_bytes().startswith(PNG_SIGNATURE)


def test_command_examples(tmp_path: Path) -> None:
    shell = _blocks("The `lrkit` command", "sh")[0]
    expected_output = _blocks("The `lrkit` command", "text")[0]
    outputs = []
    for line in shell.splitlines():
        command = line.split("#", 1)[0].strip()
        words = shlex.split(command)
        assert words[0] == "lrkit", line
        target = None
        if ">" in words:
            words, target = words[: words.index(">")], words[-1]
        result = subprocess.run(
            [sys.executable, "-m", "lrkit", *words[1:]],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert result.returncode == 0, f"{line}: {result.stderr}"
        if target is not None:
            (tmp_path / target).write_text(result.stdout)
        outputs.append(result.stdout)

    assert outputs[2] == expected_output
    assert len((tmp_path / "lr.csv").read_text().splitlines()) == 301
    assert (tmp_path / "one_cycle.png").read_bytes().startswith(PNG_SIGNATURE)
