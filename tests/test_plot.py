"""plot_schedules: real PNGs, one line per group, phase boundaries, checks."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import lrkit.schedules as sch
from tests._optional import require

require("matplotlib")

from matplotlib.image import imread  # noqa: E402

from lrkit.plot import (  # noqa: E402
    BOUNDARY_LABEL,
    BUCKETS,
    CHUNK_STEPS,
    FULL_STEPS,
    line_points,
    phase_boundaries,
    plot_schedules,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _curves(axes: Any) -> list[Any]:
    return [line for line in axes.get_lines() if line.get_label() != BOUNDARY_LABEL]


def _boundary_steps(axes: Any) -> list[float]:
    return [
        float(line.get_xdata()[0])
        for line in axes.get_lines()
        if line.get_label() == BOUNDARY_LABEL
    ]


def _png_size(path: Path) -> tuple[int, int]:
    """Read width and height from the IHDR chunk, the first after the signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE
    assert header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _groups() -> list[dict[str, Any]]:
    return [
        {"params": [], "lr_scale": 0.01, "name": "embeddings"},
        {"params": [], "lr_scale": 0.1, "weight_decay_scale": 0.0, "name": "body"},
        {"params": [], "name": "head"},
    ]


def test_png_is_real_image(tmp_path: Path) -> None:
    figure = plot_schedules(sch.cosine(0.1, 0.0, 200))
    path = tmp_path / "cosine.png"
    figure.savefig(path, dpi=50)

    width, height = _png_size(path)
    expected_width, expected_height = figure.get_size_inches() * 50
    assert width == round(expected_width)
    assert height == round(expected_height)
    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels[..., :3].std() > 0.05, "the image is blank"
    dark = (pixels[..., :3].mean(axis=2) < 0.5).mean()
    assert dark > 0.001, "no curve or text was drawn"


def test_single_schedule_values_exact() -> None:
    schedule = sch.cosine(0.1, 0.001, 50)
    figure = plot_schedules(schedule)
    (axes,) = figure.axes
    (line,) = _curves(axes)
    assert axes.get_ylabel() == "lr"
    assert axes.get_xlabel() == "step"
    np.testing.assert_array_equal(line.get_xdata(), np.arange(50))
    np.testing.assert_array_equal(line.get_ydata(), schedule(np.arange(50)))


def test_torch_optimizer_groups_one_line_each(tmp_path: Path) -> None:
    torch = require("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))
    optimizer = torch.optim.SGD(
        [
            {"params": model[0].parameters(), "lr_scale": 0.1, "name": "body"},
            {"params": model[1].parameters(), "name": "head"},
        ],
        lr=0.1,
        momentum=0.9,
    )
    curves = sch.one_cycle(0.1, 120)
    figure = plot_schedules(curves, optimizer=optimizer)
    figure.savefig(tmp_path / "one_cycle.png")

    lr_axes, momentum_axes = figure.axes
    steps = np.arange(120)
    lr_lines = _curves(lr_axes)
    assert [line.get_label() for line in lr_lines] == ["body", "head"]
    np.testing.assert_array_equal(lr_lines[0].get_ydata(), curves["lr"](steps) * 0.1)
    np.testing.assert_array_equal(lr_lines[1].get_ydata(), curves["lr"](steps))
    momentum_lines = _curves(momentum_axes)
    assert len(momentum_lines) == 2
    for line in momentum_lines:
        np.testing.assert_array_equal(line.get_ydata(), curves["momentum"](steps))


def test_duck_typed_groups_and_weight_decay() -> None:
    optimizer = SimpleNamespace(param_groups=_groups())
    lr = sch.linear(1.0, 0.0, 10)
    decay = sch.constant(0.05)
    figure = plot_schedules({"lr": lr, "weight_decay": decay}, optimizer=optimizer)

    for axes in figure.axes:
        assert len(_curves(axes)) == 3, axes.get_ylabel()
    lr_lines = _curves(figure.axes[0])
    for line, scale in zip(lr_lines, [0.01, 0.1, 1.0], strict=True):
        np.testing.assert_array_equal(line.get_ydata(), lr(np.arange(10)) * scale)
    decay_lines = _curves(figure.axes[1])
    assert list(decay_lines[0].get_ydata()) == [0.05] * 10
    assert list(decay_lines[1].get_ydata()) == [0.0] * 10
    assert [line.get_label() for line in decay_lines] == ["embeddings", "body", "head"]


def test_explicit_scales_and_names() -> None:
    figure = plot_schedules(
        sch.constant(1.0),
        steps=5,
        scales={"lr": [0.25, 0.5, 1.0, 2.0]},
        names=["a", "b", "c", "d"],
    )
    lines = _curves(figure.axes[0])
    assert [line.get_label() for line in lines] == ["a", "b", "c", "d"]
    assert [line.get_ydata()[0] for line in lines] == [0.25, 0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (sch.join([sch.linear(0.0, 1.0, 30), sch.cosine(1.0, 0.0, 70)]), [30.0]),
        (sch.warmup(sch.cosine(1.0, 0.0, 90), 10), [10.0]),
        (
            sch.join(
                [
                    sch.join([sch.linear(0.0, 1.0, 10), sch.linear(1.0, 1.0, 20)]),
                    sch.linear(1.0, 0.0, 70),
                ]
            ),
            [30.0],
        ),
        (sch.warmup_stable_decay(1.0, 10, 40, 50), [10.0, 50.0]),
        (sch.cosine(1.0, 0.0, 100), []),
    ],
    ids=["join", "warmup", "nested-join", "wsd", "plain"],
)
def test_boundaries_marked_at_phase_starts(
    schedule: sch.Schedule, expected: list[float], tmp_path: Path
) -> None:
    figure = plot_schedules(schedule, steps=100)
    figure.savefig(tmp_path / "boundaries.png")
    assert _boundary_steps(figure.axes[0]) == expected
    assert len(_curves(figure.axes[0])) == 1


def test_boundaries_past_steps_are_left_out() -> None:
    schedule = sch.join([sch.linear(0.0, 1.0, 30), sch.linear(1.0, 0.0, 70)])
    figure = plot_schedules(schedule, steps=20)
    assert _boundary_steps(figure.axes[0]) == []
    assert phase_boundaries(schedule) == (30,)


def test_steps_default_to_longest_schedule() -> None:
    figure = plot_schedules(
        {
            "lr": sch.linear(1.0, 0.0, 40),
            "momentum": sch.linear(0.9, 0.8, 25),
            "weight_decay": sch.constant(0.01),
        }
    )
    for axes in figure.axes:
        assert len(_curves(axes)[0].get_xdata()) == 40


def test_short_run_draws_every_step() -> None:
    figure = plot_schedules(sch.cyclic(0.0, 1.0, 5), steps=FULL_STEPS)
    (line,) = _curves(figure.axes[0])
    np.testing.assert_array_equal(line.get_xdata(), np.arange(FULL_STEPS))


def test_long_run_keeps_every_bucket_extreme() -> None:
    """A cycle of 14 steps over a million steps keeps each bucket's extremes."""
    steps = 1_000_003
    schedule = sch.cyclic(0.1, 1.0, 7)
    figure = plot_schedules(schedule, steps=steps)
    (line,) = _curves(figure.axes[0])
    x = np.asarray(line.get_xdata())
    y = np.asarray(line.get_ydata())

    assert len(x) <= 4 * BUCKETS
    assert x[0] == 0
    assert x[-1] == steps - 1
    assert np.all(np.diff(x) > 0)
    np.testing.assert_array_equal(y, schedule(x))
    every = schedule(np.arange(steps))
    bucket = -(-steps // BUCKETS)
    bucket_starts = np.arange(0, steps, bucket)
    kept_starts = np.searchsorted(x, bucket_starts)
    assert np.all(x[kept_starts] == bucket_starts), "a bucket lost its first step"
    np.testing.assert_array_equal(
        np.minimum.reduceat(y, kept_starts), np.minimum.reduceat(every, bucket_starts)
    )
    np.testing.assert_array_equal(
        np.maximum.reduceat(y, kept_starts), np.maximum.reduceat(every, bucket_starts)
    )


def test_long_run_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decimating evaluates a few buckets at a time, never the whole run."""
    import lrkit.plot

    # Few buckets make each one long, so that 8 chunks of steps are enough
    # to tell evaluating chunk by chunk from evaluating the whole run.
    monkeypatch.setattr(lrkit.plot, "BUCKETS", 8)
    steps = 8 * CHUNK_STEPS
    schedule = sch.constant(0.1)
    tracemalloc.start()
    try:
        x, y = line_points(schedule, steps)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert x[-1] == steps - 1
    np.testing.assert_array_equal(y, schedule(x))
    one_chunk = CHUNK_STEPS * np.dtype(np.float64).itemsize
    assert peak < 4 * one_chunk, f"peak {peak} bytes for chunks of {one_chunk}"


def test_endless_schedule_needs_steps() -> None:
    with pytest.raises(ValueError, match="steps is required because no schedule"):
        plot_schedules({"lr": sch.constant(0.1), "momentum": sch.constant(0.9)})
    figure = plot_schedules(sch.constant(0.1), steps=7)
    assert len(_curves(figure.axes[0])[0].get_xdata()) == 7


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
        ({"steps": 2.5}, TypeError, "steps must be an integer"),
        ({"scales": {"momentum": [1.0]}}, ValueError, "'momentum' is not among"),
        ({"scales": {"lr": [1.0, -1.0]}}, ValueError, "must be >= 0, got -1.0"),
        ({"names": ["only"], "scales": {"lr": [1.0, 2.0]}}, ValueError, "one name"),
        (
            {"scales": {"lr": []}},
            ValueError,
            r"scales\['lr'\] must hold at least one scale, got \[\]",
        ),
        ({"optimizer": object()}, TypeError, "optimizer must have param_groups"),
        (
            {
                "optimizer": SimpleNamespace(param_groups=_groups()),
                "scales": {"lr": [1.0]},
            },
            ValueError,
            "disagree",
        ),
    ],
    ids=[
        "zero-steps",
        "float-steps",
        "unknown-scale",
        "negative-scale",
        "names-count",
        "no-scales",
        "no-groups",
        "count-mismatch",
    ],
)
def test_bad_arguments_raise(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        plot_schedules(sch.linear(1.0, 0.0, 10), **arguments)


def test_bad_schedules_raise() -> None:
    with pytest.raises(TypeError, match="must be a Schedule or a dict"):
        plot_schedules([sch.constant(1.0)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"schedules\['lr'\] must be a Schedule"):
        plot_schedules({"lr": 0.1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="at least one schedule"):
        plot_schedules({})


def test_plot_imports_neither_pyplot_nor_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from lrkit.plot import plot_schedules\n"
        "from lrkit.schedules import one_cycle\n"
        "from types import SimpleNamespace\n"
        "groups = [{'lr_scale': 0.5}, {}]\n"
        "figure = plot_schedules(one_cycle(0.1, 50),"
        " optimizer=SimpleNamespace(param_groups=groups))\n"
        f"figure.savefig({str(tmp_path / 'out.png')!r})\n"
        "print(sorted(m for m in ('torch', 'matplotlib.pyplot') if m in sys.modules))\n"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "MPLBACKEND")
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "out.png").read_bytes().startswith(PNG_SIGNATURE)
