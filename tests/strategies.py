"""hypothesis strategies shared by the schedule tests."""

from __future__ import annotations

from hypothesis import strategies as st

import lrkit.schedules as sch

values = st.floats(min_value=0.0, max_value=1e3, allow_nan=False, allow_infinity=False)
positive_values = st.floats(
    min_value=1e-8, max_value=1e3, allow_nan=False, allow_infinity=False
)
lengths = st.integers(min_value=1, max_value=5_000)
steps = st.integers(min_value=0, max_value=20_000)


@st.composite
def interpolations(draw: st.DrawFn) -> sch.Schedule:
    """A linear or cosine curve with arbitrary ends and length."""
    kind = draw(st.sampled_from([sch.linear, sch.cosine]))
    return kind(
        draw(values),
        draw(values),
        draw(lengths),
        include_start=draw(st.booleans()),
    )


@st.composite
def one_cycles(draw: st.DrawFn) -> dict[str, sch.Schedule]:
    """A valid one-cycle (lr and momentum) with random arguments."""
    three_phase = draw(st.booleans())
    total_steps = draw(st.integers(min_value=6, max_value=5_000))
    pct_start = draw(st.floats(min_value=0.02, max_value=0.45 if three_phase else 0.9))
    peak = round(pct_start * (total_steps - 1))
    limit = (total_steps - 2) // 2 if three_phase else total_steps - 2
    if not 1 <= peak <= limit:
        pct_start = 1 / (total_steps - 1)
    high = draw(st.floats(min_value=0.5, max_value=0.99))
    low = draw(st.floats(min_value=0.0, max_value=high))
    return sch.one_cycle(
        draw(positive_values),
        total_steps,
        pct_start=pct_start,
        div=draw(st.floats(min_value=1.0, max_value=1e3)),
        final_div=draw(st.floats(min_value=1.0, max_value=1e6)),
        momentum=(high, low),
        three_phase=three_phase,
        anneal=draw(st.sampled_from(["cos", "linear"])),
    )


@st.composite
def exponentials(draw: st.DrawFn) -> sch.Schedule:
    """A geometric interpolation between two positive values."""
    return sch.exponential(
        draw(positive_values),
        draw(positive_values),
        draw(lengths),
        include_start=draw(st.booleans()),
    )


@st.composite
def polynomials(draw: st.DrawFn) -> sch.Schedule:
    """A polynomial decay (or rise) with a power between 0.1 and 5."""
    return sch.polynomial(
        draw(values),
        draw(values),
        draw(lengths),
        draw(st.floats(min_value=0.1, max_value=5.0)),
        include_start=draw(st.booleans()),
    )


gammas = st.floats(min_value=1e-3, max_value=1.0)


@st.composite
def exponential_decays(draw: st.DrawFn) -> sch.Schedule:
    """A decay by a factor per ``decay_steps``, smooth or in stairs."""
    return sch.exponential_decay(
        draw(values),
        draw(gammas),
        draw(st.integers(1, 500)),
        staircase=draw(st.booleans()),
    )


@st.composite
def multi_steps(draw: st.DrawFn) -> sch.Schedule:
    """A multi-step decay (or growth) at up to five sorted milestones."""
    milestones = draw(st.lists(st.integers(1, 3_000), min_size=1, max_size=5))
    return sch.multi_step(
        draw(values),
        sorted(set(milestones)),
        draw(st.floats(min_value=1e-3, max_value=4.0)),
    )


@st.composite
def inverse_sqrts(draw: st.DrawFn) -> sch.Schedule:
    """An inverse square root decay with a timescale up to 10,000 steps."""
    return sch.inverse_sqrt(draw(values), draw(st.floats(1e-3, 1e4)))


@st.composite
def cyclics(draw: st.DrawFn) -> sch.Schedule:
    """A triangular cycle in any mode, upright or upside down."""
    return sch.cyclic(
        draw(values),
        draw(values),
        draw(st.integers(1, 500)),
        draw(st.none() | st.integers(1, 500)),
        mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        gamma=draw(gammas),
    )


@st.composite
def cosine_restarts(draw: st.DrawFn) -> sch.Schedule:
    """Warm restarts with integer or real cycle growth, decay and warmup."""
    cycle_steps = draw(st.integers(1, 400))
    mult = draw(st.integers(1, 3) | st.floats(min_value=1.0, max_value=3.0))
    peak = draw(values)
    return sch.cosine_restarts(
        peak,
        cycle_steps,
        cycle_mult=mult,
        cycle_decay=draw(st.floats(0.0, 1.0)),
        warmup_steps=draw(st.integers(0, cycle_steps - 1)),
        end_value=draw(st.floats(0.0, peak)),
    )


@st.composite
def wsds(draw: st.DrawFn) -> sch.Schedule:
    """A warmup-stable-decay run with any cooldown shape and floor."""
    return sch.warmup_stable_decay(
        draw(values),
        draw(st.integers(0, 1_000)),
        draw(st.integers(0, 2_000)),
        draw(st.integers(1, 2_000)),
        decay_shape=draw(st.sampled_from(["1-sqrt", "cosine", "linear"])),
        min_ratio=draw(st.floats(0.0, 1.0)),
    )


@st.composite
def flat_coses(draw: st.DrawFn) -> sch.Schedule:
    """A flat-then-cosine run with room for at least one cosine step."""
    total_steps = draw(st.integers(2, 5_000))
    pct_start = draw(st.floats(min_value=0.0, max_value=0.99))
    if round(pct_start * (total_steps - 1)) > total_steps - 2:
        pct_start = 0.0
    return sch.flat_cos(
        draw(values),
        total_steps,
        pct_start=pct_start,
        final_div=draw(st.floats(min_value=1.0, max_value=1e6)),
    )


def shapes() -> st.SearchStrategy[sch.Schedule]:
    """Any basic shape: curves, decays, cycles and flat-phase schedules."""
    return st.one_of(
        interpolations(),
        values.map(sch.constant),
        one_cycles().map(lambda curves: curves["lr"]),
        exponentials(),
        polynomials(),
        exponential_decays(),
        multi_steps(),
        inverse_sqrts(),
        cyclics(),
        cosine_restarts(),
        wsds(),
        flat_coses(),
        recipes(),
    )


def schedules() -> st.SearchStrategy[sch.Schedule]:
    """Any schedule lrkit can build, including nested combinators."""
    return st.recursive(
        shapes(),
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(_join_finite),
            st.tuples(children, st.integers(1, 500), values).map(
                lambda args: sch.warmup(*args)
            ),
            st.tuples(children, st.floats(0.0, 10.0)).map(
                lambda args: sch.scale(*args)
            ),
            st.tuples(children.map(_finite), st.none() | st.integers(1, 5)).map(
                lambda args: sch.repeat(*args)
            ),
            st.tuples(children, values, st.none() | values).map(_clip),
        ),
        max_leaves=4,
    )


def _finite(schedule: sch.Schedule) -> sch.Schedule:
    """Return the schedule if it is finite, else a short line in its place."""
    return schedule if schedule.length is not None else sch.linear(1, 0, 7)


def _clip(args: tuple[sch.Schedule, float, float | None]) -> sch.Schedule:
    """Clip with the two bounds in order."""
    schedule, low, high = args
    if high is not None and high < low:
        low, high = high, low
    return sch.clip(schedule, low, high)


def _join_finite(pieces: list[sch.Schedule]) -> sch.Schedule:
    """Join pieces, replacing every endless piece but the last with a line."""
    fixed = [
        piece if index == len(pieces) - 1 else _finite(piece)
        for index, piece in enumerate(pieces)
    ]
    return sch.join(fixed)


@st.composite
def torch_one_cycles(draw: st.DrawFn) -> dict[str, sch.Schedule]:
    """torch's one-cycle lr and momentum, from any argument set torch runs."""
    total_steps = draw(st.integers(min_value=1, max_value=3_000))
    pct_start = draw(st.floats(min_value=0.0, max_value=1.0))
    if pct_start * total_steps == 1.0:
        pct_start = 0.0
    return sch.torch_one_cycle(
        draw(positive_values),
        total_steps,
        pct_start=pct_start,
        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
        div_factor=draw(st.floats(min_value=0.5, max_value=1e3)),
        final_div_factor=draw(st.floats(min_value=0.5, max_value=1e5)),
        three_phase=draw(st.booleans()),
        base_momentum=draw(st.floats(min_value=0.0, max_value=1.0)),
        max_momentum=draw(st.floats(min_value=0.0, max_value=1.0)),
    )


fractions = st.floats(min_value=0.0, max_value=1.0)
outside_unit = st.one_of(
    st.floats(max_value=0.0, exclude_max=True, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1.0, exclude_min=True, allow_nan=False, allow_infinity=False),
)
"""Finite floats outside [0, 1], invalid for every fraction argument."""


@st.composite
def fastai_combined_coses(draw: st.DrawFn) -> sch.Schedule:
    """fastai's two-phase cosine, directly or through its recipes."""
    total_steps = draw(st.integers(min_value=1, max_value=3_000))
    kind = draw(st.sampled_from(["combined", "one_cycle", "momentum", "flat_cos"]))
    if kind == "combined":
        return sch.fastai_combined_cos(
            draw(fractions), draw(values), draw(values), draw(values), total_steps
        )
    if kind == "flat_cos":
        return sch.fastai_flat_cos(
            draw(positive_values),
            total_steps,
            div_final=draw(st.floats(min_value=0.5, max_value=1e6)),
            pct_start=draw(fractions),
        )
    curves = sch.fastai_one_cycle(
        draw(positive_values),
        total_steps,
        div=draw(st.floats(min_value=0.5, max_value=1e3)),
        div_final=draw(st.floats(min_value=0.5, max_value=1e6)),
        pct_start=draw(fractions),
        moms=(draw(fractions), draw(fractions), draw(fractions)),
    )
    return curves["lr" if kind == "one_cycle" else "momentum"]


warmup_steps = st.integers(min_value=0, max_value=300)
training_steps = st.integers(min_value=1, max_value=2_000)


@st.composite
def hf_schedules(draw: st.DrawFn) -> sch.Schedule:
    """Any Hugging Face multiplier, with arguments transformers accepts."""
    warmup = draw(warmup_steps)
    total = draw(training_steps)
    cycles = st.floats(min_value=0.0, max_value=3.0)
    kind = draw(st.integers(min_value=0, max_value=7))
    if kind == 0:
        return sch.hf_constant_schedule_with_warmup(warmup)
    if kind == 1:
        return sch.hf_linear_schedule_with_warmup(warmup, total)
    if kind == 2:
        return sch.hf_cosine_schedule_with_warmup(warmup, total, draw(cycles))
    if kind == 3:
        return sch.hf_cosine_with_min_lr_schedule_with_warmup(
            warmup, total, draw(cycles), min_lr_rate=draw(fractions)
        )
    if kind == 4:
        return sch.hf_cosine_with_hard_restarts_schedule_with_warmup(
            warmup, total, draw(st.integers(min_value=1, max_value=5))
        )
    if kind == 5:
        lr_init = draw(positive_values)
        return sch.hf_polynomial_decay_schedule_with_warmup(
            warmup,
            total,
            lr_end=draw(st.floats(min_value=0.0, max_value=lr_init, exclude_max=True)),
            power=draw(st.floats(min_value=0.0, max_value=4.0)),
            lr_init=lr_init,
        )
    if kind == 6:
        timescale = draw(st.none() | st.integers(min_value=1, max_value=20_000))
        return sch.hf_inverse_sqrt_schedule(warmup, timescale)
    return draw(hf_wsds())


@st.composite
def hf_wsds(draw: st.DrawFn) -> sch.Schedule:
    """A warmup-stable-decay multiplier, sized by the run or by its phases."""
    warmup = draw(warmup_steps)
    decay = draw(st.integers(min_value=0, max_value=300))
    stable = draw(st.none() | st.integers(min_value=0, max_value=300))
    if stable is None:
        total = warmup + decay + draw(st.integers(min_value=0, max_value=300))
    else:
        total = draw(st.none() | st.integers(min_value=1, max_value=1_000))
    if total == 0:
        total = 1
    return sch.hf_wsd_schedule(
        warmup,
        decay,
        num_training_steps=total,
        num_stable_steps=stable,
        warmup_type=draw(st.sampled_from(["linear", "cosine", "1-sqrt"])),
        decay_type=draw(st.sampled_from(["linear", "cosine", "1-sqrt"])),
        min_lr_ratio=draw(fractions),
        num_cycles=draw(st.floats(min_value=0.0, max_value=3.0)),
    )


def recipes() -> st.SearchStrategy[sch.Schedule]:
    """Any peer recipe: torch, fastai or Hugging Face."""
    return st.one_of(
        torch_one_cycles().map(lambda curves: curves["lr"]),
        torch_one_cycles().map(lambda curves: curves["momentum"]),
        fastai_combined_coses(),
        hf_schedules(),
    )
