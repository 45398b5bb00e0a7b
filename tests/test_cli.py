"""The lrkit command: CSV equal to the library, options, errors, plots, no torch."""

from __future__ import annotations

import csv
import inspect
import io
import os
import shlex
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrkit.schedules as sch
from lrkit._recipes import argument_help, parser_for, recipes
from lrkit.cli import _plot_figure, _without_out, main

Runner = Callable[[str], subprocess.CompletedProcess[str]]

COSINE = "table cosine --init-value 1 --end-value 0 --steps 5"
ONE_CYCLE = "table one-cycle --max-lr 0.1 --total-steps 100"


def _console_script() -> Path | None:
    script = Path(sys.executable).parent / "lrkit"
    return script if script.exists() else None


def _run_module(command: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m lrkit`` with a command line split as a shell does."""
    return subprocess.run(
        [sys.executable, "-m", "lrkit", *shlex.split(command)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _run_script(command: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``lrkit`` script with a command line split as a shell does."""
    script = _console_script()
    if script is None:
        if os.environ.get("LRKIT_REQUIRE_OPTIONAL") == "1":
            pytest.fail(
                f"the lrkit console script is not installed next to {sys.executable}"
            )
        pytest.skip("the lrkit console script is not installed")
    return subprocess.run(
        [str(script), *shlex.split(command)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(params=["module", "script"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Run the command as ``python -m lrkit`` or as the installed script."""
    return _run_module if request.param == "module" else _run_script


def _table(output: str) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(output)))
    return header, rows


def _assert_columns_equal(
    rows: list[list[str]], header: list[str], curves: dict[str, sch.Schedule]
) -> None:
    steps = np.array([int(row[0]) for row in rows])
    for column, name in enumerate(header[1:], start=1):
        expected = curves[name](steps)
        for row, value in zip(rows, expected, strict=True):
            assert float(row[column]) == value, f"{name} at step {row[0]}"


def test_table_matches_library(run: Runner) -> None:
    result = run("table torch-one-cycle --max-lr 0.1 --total-steps 1000")
    assert result.returncode == 0, result.stderr
    header, rows = _table(result.stdout)
    assert header == ["step", "lr", "momentum"]
    assert [int(row[0]) for row in rows] == list(range(1000))
    _assert_columns_equal(rows, header, sch.torch_one_cycle(0.1, 1000))


def test_table_at_steps() -> None:
    result = _run_module(f"{ONE_CYCLE} --at 0,10,99,150")
    assert result.returncode == 0, result.stderr
    header, rows = _table(result.stdout)
    assert header == ["step", "lr", "momentum"]
    assert [row[0] for row in rows] == ["0", "10", "99", "150"]
    _assert_columns_equal(rows, header, sch.one_cycle(0.1, 100))
    assert rows[0][1] == "0.004"
    assert rows[2][1] == "1e-06"


def test_table_lr_only_recipe() -> None:
    result = _run_module("table cosine --init-value 0.1 --end-value 0.001 --steps 50")
    assert result.returncode == 0, result.stderr
    header, rows = _table(result.stdout)
    assert header == ["step", "lr"]
    assert len(rows) == 50
    _assert_columns_equal(rows, header, {"lr": sch.cosine(0.1, 0.001, 50)})


def test_length_for_endless_recipe() -> None:
    command = "table cosine-restarts --peak-value 0.1 --cycle-steps 10"
    result = _run_module(f"{command} --length 35")
    assert result.returncode == 0, result.stderr
    header, rows = _table(result.stdout)
    assert len(rows) == 35
    _assert_columns_equal(rows, header, {"lr": sch.cosine_restarts(0.1, 10)})

    endless = _run_module(command)
    assert endless.returncode == 2
    assert "has no end; pass --length N" in endless.stderr


def test_list_and_bool_options() -> None:
    result = _run_module(
        "table one-cycle --max-lr 0.2 --total-steps 60 --momentum 0.9,0.8 "
        "--three-phase true --anneal linear"
    )
    assert result.returncode == 0, result.stderr
    header, rows = _table(result.stdout)
    curves = sch.one_cycle(
        0.2, 60, momentum=(0.9, 0.8), three_phase=True, anneal="linear"
    )
    _assert_columns_equal(rows, header, curves)

    in_process = io.StringIO()
    arguments = ["table", "multi-step", "--init-value", "1", "--milestones", "2,4"]
    assert _capture(arguments, in_process) == 0
    step_header, step_rows = _table(in_process.getvalue())
    assert step_header == ["step", "lr"]
    assert len(step_rows) == 5
    _assert_columns_equal(step_rows, step_header, {"lr": sch.multi_step(1.0, [2, 4])})


def _capture(arguments: list[str], stdout: io.StringIO) -> int:
    real = sys.stdout
    sys.stdout = stdout
    try:
        return main(arguments)
    finally:
        sys.stdout = real


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "table one-cycle --max-lr -1 --total-steps 100",
            "argument --max-lr: max_lr must be > 0, got -1.0",
        ),
        (
            "table one-cycle --max-lr abc --total-steps 100",
            "argument --max-lr: invalid float value: 'abc'",
        ),
        (
            "table one-cycle --max-lr 0.1 --total-steps 2.5",
            "argument --total-steps: invalid integer value: '2.5'",
        ),
        (
            f"{ONE_CYCLE} --pct-start 1.5",
            "argument --pct-start: pct_start must be in (0, 1), got 1.5",
        ),
        ("table one-cycle --max-lr 0.1", "required: --total-steps"),
        (f"{COSINE} --bogus 1", "unrecognized arguments: --bogus 1"),
        (f"{COSINE} --at 1,x", "argument --at: invalid step list: '1,x'"),
        (f"{COSINE} --length 0", "argument --length: must be >= 1, got 0"),
        ("table no-such-recipe", "unknown recipe 'no-such-recipe'"),
        ("table join", "unknown recipe 'join'"),
        ("draw cosine", "unknown command 'draw'"),
    ],
    ids=[
        "builder-rejects",
        "not-a-float",
        "not-an-int",
        "out-of-range",
        "missing-required",
        "unknown-option",
        "bad-at",
        "zero-length",
        "unknown-recipe",
        "combinator",
        "unknown-command",
    ],
)
def test_bad_input_exits_2(
    command: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command.split()) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 2, captured.err
    assert lines[0].startswith("usage: lrkit ")
    assert lines[1].startswith("lrkit: error: ")
    assert message in lines[1]


def test_bad_value_exits_2_without_traceback(run: Runner) -> None:
    result = run(
        "table warmup-stable-decay --peak-value 0.1 --warmup-steps -3"
        " --stable-steps 5 --decay-steps 5"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "usage: lrkit table warmup-stable-decay [--PARAM VALUE ...]",
        "lrkit: error: argument --warmup-steps: warmup_steps must be >= 0, got -3",
    ]


def test_at_step_beyond_int64(capsys: pytest.CaptureFixture[str]) -> None:
    """The library takes any integer step, so --at takes one too."""
    step = 2**63
    assert main(f"{ONE_CYCLE} --at 0,{step}".split()) == 0
    header, rows = _table(capsys.readouterr().out)
    assert header == ["step", "lr", "momentum"]
    assert [row[0] for row in rows] == ["0", str(step)]
    curves = sch.one_cycle(0.1, 100)
    assert float(rows[1][1]) == curves["lr"](step)
    assert float(rows[1][2]) == curves["momentum"](step)


def test_unknown_command_usage_is_generic(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The usage line does not repeat a command that does not exist."""
    assert main(["tabel", "cosine"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "usage: lrkit {table,plot} RECIPE [--PARAM VALUE ...]"
    assert lines[1] == "lrkit: error: unknown command 'tabel'; choose table or plot"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_is_one_error_line() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "lrkit", *COSINE.split()],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "lrkit: error: cannot write the table: [Errno 28] No space left on device"
    ]


def test_closed_pipe_is_not_an_error() -> None:
    command = "table cosine --init-value 1 --end-value 0 --steps 1000000"
    process = subprocess.Popen(
        [sys.executable, "-m", "lrkit", *command.split()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "step,lr\n"
    process.stdout.close()
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 0
    assert errors == ""


def test_plot_writes_png(run: Runner, tmp_path: Path) -> None:
    out = tmp_path / "one_cycle.png"
    result = run(
        f"plot one-cycle --max-lr 0.1 --total-steps 300 --out {shlex.quote(str(out))}"
    )
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100
    assert height > 100
    assert len(data) > 5000, "the PNG is too small to hold two curves"


@pytest.mark.parametrize(
    ("name", "magic"),
    [("plot.svg", b"<?xml"), ("plot.pdf", b"%PDF"), ("plot", b"\x89PNG")],
    ids=["svg", "pdf", "no-suffix"],
)
def test_plot_format_follows_suffix(tmp_path: Path, name: str, magic: bytes) -> None:
    out = tmp_path / name
    assert main([*COSINE.replace("table", "plot").split(), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_plot_unknown_suffix_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plot.xyz"
    assert main([*COSINE.replace("table", "plot").split(), "--out", str(out)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"lrkit: error: cannot write --out {str(out)!r}: ")
    assert "xyz" in lines[1]
    assert not out.exists()


def test_plot_title_names_recipe_and_options() -> None:
    options = ["--max-lr", "0.1", "--total-steps=300"]
    curves = dict(sch.one_cycle(0.1, 300))
    figure = _plot_figure("one-cycle", options, curves, 300)
    assert figure.get_suptitle() == "one-cycle --max-lr 0.1 --total-steps=300"
    typed = ["--max-lr", "0.1", "--out", "a.png", "--length", "5", "--out=b.png"]
    assert _without_out(typed) == ["--max-lr", "0.1", "--length", "5"]
    assert [axes.get_xlabel() for axes in figure.axes][-1] == "step"


def test_command_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from lrkit.cli import main\n"
        "main(['table', 'torch-one-cycle', '--max-lr', '0.1', '--total-steps', '9'])\n"
        f"main(['plot', 'cosine', '--init-value', '1', '--end-value', '0', "
        f"'--steps', '9', '--out', {str(tmp_path / 'c.png')!r}])\n"
        "print('torch' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "False False"
    assert (tmp_path / "c.png").exists()


def test_main_help_lists_recipes() -> None:
    result = _run_module("--help")
    assert result.returncode == 0
    recipe_lines = result.stdout.split("recipes:\n")[1].splitlines()
    listed = {line.split()[0] for line in recipe_lines if line[:3].strip()}
    for name in (
        "one-cycle",
        "torch-one-cycle",
        "cosine",
        "linear",
        "warmup-stable-decay",
    ):
        assert name in listed, name
    for combinator in ("join", "warmup", "scale"):
        assert combinator not in listed, combinator


def test_recipe_help_shows_units_and_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["table", "one-cycle", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--max-lr FLOAT peak learning rate (> 0). Required." in text
    assert "--total-steps INT length of the run in optimizer steps (>= 3)." in text
    assert "Default: 0.25." in text
    assert "--momentum FLOAT,...|none" in text
    assert "Default: 0.95,0.85." in text


def test_every_recipe_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    table = recipes()
    assert len(table) >= 10
    for name, recipe in table.items():
        with pytest.raises(SystemExit) as exit_info:
            main(["table", name, "--help"])
        assert exit_info.value.code == 0, name
        out = capsys.readouterr().out
        for option in recipe.options:
            assert option.flag in out, f"{name}: {option.flag}"


def test_every_option_has_help_text() -> None:
    """Each option's help comes from its builder's Args section."""
    for name, recipe in recipes().items():
        for option in recipe.options:
            assert option.help, f"{name}: {option.flag} has no Args entry"


def test_recipes_are_builders_without_schedule_parameters() -> None:
    table = recipes()
    by_builder = {recipe.builder: recipe for recipe in table.values()}
    for name in sch.__all__:
        builder = getattr(sch, name)
        if not name[0].islower():
            continue
        parameters = inspect.signature(builder).parameters.values()
        takes_schedule = any("Schedule" in str(p.annotation) for p in parameters)
        if takes_schedule:
            assert builder not in by_builder, name
        else:
            assert builder in by_builder, (
                f"{name} takes no schedule, so the command should offer it; "
                "a required parameter may have a type that parser_for cannot parse"
            )
            assert by_builder[builder].name == name.replace("_", "-")


@pytest.mark.parametrize(
    ("annotation", "text", "expected"),
    [
        ("float", "0.1", 0.1),
        ("int", "12", 12),
        ("bool", "False", False),
        ("str", "cos", "cos"),
        ("int | None", "none", None),
        ("int | None", "7", 7),
        ("Sequence[int]", "2,4,8", [2, 4, 8]),
        ("tuple[float, float]", "0.95, 0.85", (0.95, 0.85)),
        ("tuple[float, float, float] | None", "None", None),
    ],
)
def test_parser_for_annotations(annotation: str, text: str, expected: Any) -> None:
    found = parser_for(annotation)
    assert found is not None
    parse, _ = found
    assert parse(text) == expected
    assert type(parse(text)) is type(expected)


@pytest.mark.parametrize("annotation", ["Schedule", "dict[str, float]", "float | str"])
def test_parser_for_unsupported(annotation: str) -> None:
    assert parser_for(annotation) is None


def test_argument_help_reads_args_section() -> None:
    docstring = inspect.cleandoc(
        """Summary.

        Args:
            steps: number of steps
                the curve spans (>= 1).
            power: exponent.

        Raises:
            ValueError: not a parameter.
        """
    )
    assert argument_help(docstring) == {
        "steps": "number of steps the curve spans (>= 1).",
        "power": "exponent.",
    }
