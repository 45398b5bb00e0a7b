"""Run every lrkit benchmark and write results.json and BENCHMARKS.md.

Usage (from the repository root, with lrkit and torch installed):

    python benchmarks/run.py            # full run, about 11 minutes on 2 cores
    python benchmarks/run.py --quick    # smaller sizes and fewer rounds

Every comparison times lrkit and its baselines in this same process,
interleaved, and reports medians and ratios of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# glibc returns large freed blocks to the system and faults them back in on
# the next allocation, which makes eager optimizer steps and big numpy
# temporaries bimodal from one process to the next. A high threshold keeps
# them on the heap; it only takes effect when set before the process starts.
MMAP_VARIABLE = "MALLOC_MMAP_THRESHOLD_"


def _machine() -> dict[str, Any]:
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        MMAP_VARIABLE: os.environ.get(MMAP_VARIABLE),
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run lrkit's benchmarks.")
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes and fewer rounds"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="interleaved rounds per comparison"
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=None,
        help="target duration of one candidate's share of a round, in seconds",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results.json",
        help="where to write the JSON results",
    )
    parser.add_argument(
        "--page",
        type=Path,
        default=ROOT / "BENCHMARKS.md",
        help="where to write the Markdown results page",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    if args.round_seconds is not None and args.round_seconds <= 0:
        parser.error(f"--round-seconds must be > 0, got {args.round_seconds}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write both output files."""
    args = _parse(argv)
    if MMAP_VARIABLE not in os.environ and argv is None:
        environment = {**os.environ, MMAP_VARIABLE: "1000000000"}
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)

    from benchmarks import curves, report, scalar, splitting, step_overhead

    rounds = args.rounds or (3 if args.quick else 9)
    seconds = args.round_seconds or (0.02 if args.quick else 0.2)
    started = time.time()
    results: dict[str, Any] = {
        "machine": _machine(),
        "settings": {"quick": args.quick, "rounds": rounds, "round_seconds": seconds},
    }
    sizes = [1_000, 10_000] if args.quick else [1_000, 100_000, 1_000_000]
    print("curve evaluation ...", flush=True)
    results["curves"] = curves.run(sizes, rounds=rounds, round_seconds=seconds)
    groups = [1, 8, 64] if args.quick else [1, 8, 64, 512]
    print("per-step overhead ...", flush=True)
    results["step_overhead"] = step_overhead.run(
        groups, rounds=rounds, round_seconds=seconds
    )
    results["optimizer_step_ratio"] = step_overhead.optimizer_step_ratio(
        rounds=rounds, round_seconds=seconds
    )
    print("splitting ...", flush=True)
    split_sizes = [100, 1_000] if args.quick else [100, 1_000, 10_000]
    results["splitting"] = splitting.run(
        split_sizes, rounds=rounds, round_seconds=seconds
    )
    print("scalar evaluation ...", flush=True)
    results["scalar"] = scalar.run(rounds=rounds, round_seconds=seconds)
    results["elapsed_seconds"] = time.time() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.page.write_text(report.render(results))
    print(f"wrote {args.out} and {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
