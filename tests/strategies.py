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


def schedules() -> st.SearchStrategy[sch.Schedule]:
    """Any schedule lrkit can build, including nested combinators."""
    leaves = st.one_of(
        interpolations(),
        values.map(sch.constant),
        one_cycles().map(lambda curves: curves["lr"]),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(_join_finite),
            st.tuples(children, st.integers(1, 500), values).map(
                lambda args: sch.warmup(*args)
            ),
        ),
        max_leaves=4,
    )


def _join_finite(pieces: list[sch.Schedule]) -> sch.Schedule:
    """Join pieces, replacing every endless piece but the last with a line."""
    fixed = [
        piece
        if piece.length is not None or index == len(pieces) - 1
        else sch.linear(1, 0, 7)
        for index, piece in enumerate(pieces)
    ]
    return sch.join(fixed)
