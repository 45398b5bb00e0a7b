"""Timing harness: interleaved rounds, medians, and ratios of medians.

The machines these benchmarks run on are shared and noisy, so one absolute
time means little. Every comparison times its candidates in the same process,
one after another within each round (A B C A B C ...), and reports the median
of each candidate over the rounds together with ratios of those medians.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Median time of one candidate, in nanoseconds per call."""

    name: str
    median_ns: float
    rounds: int
    calls_per_round: int


def calls_for(function: Callable[[], object], target_seconds: float) -> int:
    """Return how many calls of ``function`` take about ``target_seconds``."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds / 4 or calls >= 1 << 24:
            break
        calls *= 4
    return max(1, round(calls * target_seconds / max(elapsed, 1e-9)))


def compare(
    candidates: dict[str, Callable[[], object]],
    *,
    rounds: int,
    round_seconds: float,
) -> dict[str, Timing]:
    """Time every candidate over interleaved rounds and return their medians.

    Each candidate is called enough times per round to take about
    ``round_seconds``; its time per call in that round is one sample.
    The garbage collector is off while timing and runs between rounds.
    """
    counts = {name: calls_for(fn, round_seconds) for name, fn in candidates.items()}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, function in candidates.items():
            calls = counts[name]
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter_ns()
                for _ in range(calls):
                    function()
                elapsed = time.perf_counter_ns() - start
            finally:
                gc.enable()
            samples[name].append(elapsed / calls)
    return {
        name: Timing(name, statistics.median(values), rounds, counts[name])
        for name, values in samples.items()
    }
