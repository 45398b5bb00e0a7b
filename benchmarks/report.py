"""Render benchmark results as the Markdown page BENCHMARKS.md."""

from __future__ import annotations

from typing import Any

# Targets, as ratios of medians measured in the same run.
CURVE_VS_PER_PHASE = 1.5
CURVE_TORCH_SPEEDUP = 100.0
STEP_VS_BARE_LOOP = 2.0
STEP_TORCH_SPEEDUP = 20.0


def _ns(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if value >= 1e3:
        return f"{value / 1e3:.2f} us"
    return f"{value:.0f} ns"


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def _curves(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Whole-curve evaluation",
        "",
        "One-cycle (cosine phases) over the whole run as one array call, against",
        "a hand-written numpy expression evaluating each phase on its own slice",
        "(`per_phase_numpy`) and against stepping torch's `OneCycleLR` once per",
        "step. The hand-written lr-and-momentum expression computes the cosine",
        "weight once and reuses it for both curves.",
        "",
        "| steps | curves | lrkit | per-phase numpy | torch OneCycleLR "
        "| lrkit / per-phase | torch / lrkit |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        median = row["median_ns"]
        lines.append(
            f"| {row['steps']:,} | {row['hyperparameters']} | {_ns(median['lrkit'])} "
            f"| {_ns(median['per_phase_numpy'])} | {_ns(median['torch_onecycle'])} "
            f"| {row['lrkit_over_per_phase']:.2f}x | {row['torch_over_lrkit']:.0f}x |"
        )
    largest = [row for row in rows if row["steps"] == max(r["steps"] for r in rows)]
    lines.append("")
    for row in largest:
        near = row["lrkit_over_per_phase"] <= CURVE_VS_PER_PHASE
        fast = row["torch_over_lrkit"] >= CURVE_TORCH_SPEEDUP
        lines.append(
            f"- {row['steps']:,} steps, {row['hyperparameters']}: within "
            f"{CURVE_VS_PER_PHASE}x of per-phase numpy: {_verdict(near)} "
            f"({row['lrkit_over_per_phase']:.2f}x); at least "
            f"{CURVE_TORCH_SPEEDUP:.0f}x faster than torch: {_verdict(fast)} "
            f"({row['torch_over_lrkit']:.0f}x)."
        )
        if not near and row["hyperparameters"] != "lr":
            lines += [
                "",
                "  Why the pair misses: lrkit's lr and momentum are two",
                "  independent schedule objects, and each computes its own",
                "  cosine weight, while the hand-written expression computes it",
                "  once and reuses it. Sharing it would tie the two schedules",
                "  together, which their design as separate immutable values",
                "  rules out, so the pair costs about two single curves.",
            ]
    return lines


def _steps(rows: list[dict[str, Any]], ratio: dict[str, Any]) -> list[str]:
    lines = [
        "## Per-step overhead",
        "",
        "One scheduler step per call, scheduling lr and momentum (Adam's beta1",
        "for AdamW) over every param group. `bare loop` assigns precomputed",
        "floats, the physical limit. torch's CosineAnnealingLR and LambdaLR",
        "schedule the lr only. `lrkit, tensors` drives groups whose lr and",
        "betas are 0-dim tensors, updated in place; it has no target.",
        "",
        "| optimizer | groups | bare loop | lrkit | lrkit, tensors | OneCycleLR "
        "| CosineAnnealingLR | LambdaLR | lrkit / bare | OneCycleLR / lrkit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        m = row["median_ns"]
        lines.append(
            f"| {row['optimizer']} | {row['groups']} | {_ns(m['bare_loop'])} "
            f"| {_ns(m['lrkit'])} | {_ns(m['lrkit_tensor_values'])} "
            f"| {_ns(m['torch_onecycle'])} | {_ns(m['torch_cosine'])} "
            f"| {_ns(m['torch_lambda'])} | {row['lrkit_over_bare_loop']:.2f}x "
            f"| {row['torch_onecycle_over_lrkit']:.0f}x |"
        )
    lines.append("")
    for row in rows:
        if row["optimizer"] != "sgd" or row["groups"] != 64:
            continue
        near = row["lrkit_over_bare_loop"] <= STEP_VS_BARE_LOOP
        fast = row["torch_onecycle_over_lrkit"] >= STEP_TORCH_SPEEDUP
        lines.append(
            f"- SGD, 64 groups: within {STEP_VS_BARE_LOOP}x of the bare loop: "
            f"{_verdict(near)} ({row['lrkit_over_bare_loop']:.2f}x); at least "
            f"{STEP_TORCH_SPEEDUP:.0f}x faster than OneCycleLR: {_verdict(fast)} "
            f"({row['torch_onecycle_over_lrkit']:.0f}x)."
        )
    m = ratio["median_ns"]
    lines += [
        "",
        f"For scale: one SGD step of a {ratio['parameters']:,}-parameter MLP takes "
        f"{_ns(m['optimizer_step'])}, and one lrkit scheduler step over its "
        f"{ratio['groups']} groups {_ns(m['lrkit_step'])} "
        f"({100 * ratio['lrkit_over_optimizer_step']:.3f}% of the optimizer step).",
    ]
    return lines


def _splitting(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Splitting a model into param groups",
        "",
        "`param_groups(model)` on a stack of Linear + LayerNorm blocks, against a",
        "bare walk over `model.named_parameters()`. Time per tensor that stays",
        "flat as the model grows means the split is linear in the tensor count.",
        "",
        "| tensors | walk | param_groups | per tensor | param_groups / walk |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        m = row["median_ns"]
        lines.append(
            f"| {row['tensors']:,} | {_ns(m['named_parameters_walk'])} "
            f"| {_ns(m['param_groups'])} | {_ns(row['ns_per_tensor']['param_groups'])} "
            f"| {row['param_groups_over_walk']:.1f}x |"
        )
    return lines


def _scalar(result: dict[str, Any]) -> list[str]:
    lines = [
        "## Scalar evaluation of one step",
        "",
        f"`schedule({result['step']})` for each builder with example arguments,",
        "against the same cosine written with `math` in pure Python. A scalar",
        "call runs the same numpy code as an array call, which is what makes the",
        "two agree bit for bit, so it pays numpy's per-call overhead.",
        "`ParamScheduler` never calls schedules one step at a time: it evaluates",
        "blocks of upcoming steps as arrays.",
        "",
        "| schedule | median | / pure-Python cosine |",
        "|---|---:|---:|",
    ]
    ratios = result["over_python_math_cosine"]
    for name, value in result["median_ns"].items():
        lines.append(f"| {name} | {_ns(value)} | {ratios[name]:.1f}x |")
    if result["not_benchmarked"]:
        names = ", ".join(result["not_benchmarked"])
        lines += ["", f"Builders with no example arguments yet: {names}."]
    return lines


def render(results: dict[str, Any]) -> str:
    """Return the whole Markdown page for one run's results."""
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        "# lrkit benchmarks",
        "",
        "Generated by `python benchmarks/run.py` (see its docstring); every number",
        "below comes from `benchmarks/results.json` of the same run. Each",
        "comparison times lrkit and its baselines in one process, interleaved",
        f"over {settings['rounds']} rounds, and reports medians and ratios of",
        "medians. Absolute times vary with the machine and its load; the ratios",
        "are what the targets are stated in.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, Python "
        f"{machine['python']}, numpy {machine['numpy']}, torch {machine['torch']}"
        f"{' (quick run)' if settings['quick'] else ''}.",
        "",
        "To rerun: `make bench` (or `.venv/bin/python benchmarks/run.py`);",
        "`--quick` gives a short run with smaller sizes.",
        "",
    ]
    lines += [*_curves(results["curves"]), ""]
    lines += [*_steps(results["step_overhead"], results["optimizer_step_ratio"]), ""]
    lines += [*_splitting(results["splitting"]), ""]
    lines += [*_scalar(results["scalar"]), ""]
    return "\n".join(lines)
