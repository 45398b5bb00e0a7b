"""ParamScheduler resume: plain state, exact continuation through real files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit.schedules as sch
from tests import strategies
from tests._optional import require

torch = require("torch")
from lrkit.adapters.torch import ParamScheduler  # noqa: E402


def build(
    lr: sch.Schedule,
    momentum: sch.Schedule | None,
    optimizer_state: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[Any, ParamScheduler]:
    """SGD with three groups: scale 1, an lr_scale key, and a no-decay group.

    ``optimizer_state`` is loaded into the optimizer before the scheduler is
    built.
    """
    torch.manual_seed(0)
    layers = [torch.nn.Linear(3, 3) for _ in range(3)]
    groups = [
        {"params": layers[0].parameters()},
        {"params": layers[1].parameters(), "lr_scale": 0.3},
        {"params": layers[2].parameters(), "weight_decay_scale": 0.0},
    ]
    optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9, weight_decay=1e-4)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    scheduler = ParamScheduler(
        optimizer,
        lr=lr,
        momentum=momentum,
        weight_decay=sch.linear(1e-4, 1e-5, 700),
        **options,
    )
    return optimizer, scheduler


def snapshot(optimizer: Any) -> list[tuple[float, float, float]]:
    return [
        (group["lr"], group["momentum"], group["weight_decay"])
        for group in optimizer.param_groups
    ]


def run(optimizer: Any, scheduler: ParamScheduler, steps: int) -> list[Any]:
    """Step ``steps`` times and return the groups' values after each step."""
    history = []
    for _ in range(steps):
        scheduler.step()
        history.append(snapshot(optimizer))
    return history


def assert_plain(value: Any, where: str = "state") -> None:
    """Fail unless ``value`` is made only of plain Python types and None."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, f"{where}: key {key!r} is {type(key).__name__}"
            assert_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    else:
        assert value is None or type(value) in (int, float, str, bool), (
            f"{where} is {type(value).__name__}: {value!r}"
        )


momenta = st.one_of(
    st.none(),
    st.builds(
        sch.linear, st.floats(0.5, 0.99), st.floats(0.0, 0.99), strategies.lengths
    ),
    strategies.one_cycles().map(lambda curves: curves["momentum"]),
)


@given(
    lr=strategies.schedules(),
    momentum=momenta,
    stop=st.integers(min_value=0, max_value=3_000),
    more=st.integers(min_value=1, max_value=300),
)
def test_resume_continues_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    lr: sch.Schedule,
    momentum: sch.Schedule | None,
    stop: int,
    more: int,
) -> None:
    folder = tmp_path_factory.mktemp("resume")
    optimizer, scheduler = build(lr, momentum)
    run(optimizer, scheduler, stop)
    torch.save(optimizer.state_dict(), folder / "optimizer.pt")
    torch.save(scheduler.state_dict(), folder / "scheduler.pt")
    expected = run(optimizer, scheduler, more)

    fresh_optimizer, fresh_scheduler = build(lr, momentum)
    fresh_optimizer.load_state_dict(
        torch.load(folder / "optimizer.pt", weights_only=True)
    )
    fresh_scheduler.load_state_dict(
        torch.load(folder / "scheduler.pt", weights_only=True)
    )
    assert fresh_scheduler.last_epoch == stop
    actual = run(fresh_optimizer, fresh_scheduler, more)

    for offset, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"step {stop + 1 + offset}: expected {want}, got {got}"


@given(lr=strategies.schedules(), stop=st.integers(min_value=0, max_value=3_000))
def test_state_holds_plain_types(lr: sch.Schedule, stop: int) -> None:
    optimizer, scheduler = build(lr, sch.constant(0.9))
    run(optimizer, scheduler, stop)
    state = scheduler.state_dict()

    assert_plain(state)
    assert state["step"] == stop
    assert sch.Schedule.from_dict(state["schedules"]["lr"]) == lr
    assert state["scales"]["lr"] == [1.0, 0.3, 1.0]
    assert state["scales"]["weight_decay"] == [1.0, 1.0, 0.0]


def test_scheduler_state_alone_restores_groups(tmp_path: Path) -> None:
    lr = sch.one_cycle(0.1, 500)["lr"]
    optimizer, scheduler = build(lr, sch.cosine(0.95, 0.85, 400))
    history = run(optimizer, scheduler, 123)
    torch.save(scheduler.state_dict(), tmp_path / "scheduler.pt")

    fresh_optimizer, fresh_scheduler = build(lr, sch.cosine(0.95, 0.85, 400))
    fresh_scheduler.load_state_dict(
        torch.load(tmp_path / "scheduler.pt", weights_only=True)
    )
    assert snapshot(fresh_optimizer) == history[-1]
    assert fresh_scheduler.get_last_lr() == [values[0] for values in history[-1]]
    assert fresh_scheduler.base_lrs == scheduler.base_lrs


def test_saved_scales_win_over_group_values(tmp_path: Path) -> None:
    """In relative mode the scales come from the state, not the loaded groups."""
    lr = sch.cosine(1.0, 0.0, 100)
    optimizer, scheduler = build(lr, None, relative=True)
    run(optimizer, scheduler, 40)
    torch.save(optimizer.state_dict(), tmp_path / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp_path / "scheduler.pt")
    expected = run(optimizer, scheduler, 10)

    # The optimizer state puts step 40's lrs into the groups before the
    # scheduler reads its initial values, so only the saved scales are right.
    optimizer_state = torch.load(tmp_path / "optimizer.pt", weights_only=True)
    fresh_optimizer, fresh_scheduler = build(lr, None, optimizer_state, relative=True)
    assert fresh_optimizer.param_groups[0]["lr"] == 0.1 * lr(40)
    fresh_scheduler.load_state_dict(
        torch.load(tmp_path / "scheduler.pt", weights_only=True)
    )
    assert run(fresh_optimizer, fresh_scheduler, 10) == expected


def test_different_schedules_raise_showing_both() -> None:
    _, scheduler = build(sch.cosine(0.1, 0.0, 100), None)
    state = scheduler.state_dict()
    optimizer, other = build(sch.cosine(0.2, 0.0, 100), None)
    before = snapshot(optimizer)

    with pytest.raises(ValueError, match="saved schedules differ") as raised:
        other.load_state_dict(state)
    assert "init_value=0.1" in str(raised.value)
    assert "init_value=0.2" in str(raised.value)
    assert snapshot(optimizer) == before
    assert other.last_epoch == 0


def test_use_saved_schedules_takes_them() -> None:
    saved = sch.cosine(0.1, 0.0, 100)
    _, scheduler = build(saved, sch.constant(0.8))
    for _ in range(7):
        scheduler.step()
    state = scheduler.state_dict()
    optimizer, other = build(sch.constant(0.5), None, use_saved_schedules=True)
    other.load_state_dict(state)

    assert other.last_epoch == 7
    assert optimizer.param_groups[0]["lr"] == saved(7)
    assert optimizer.param_groups[1]["momentum"] == 0.8
    other.step()
    assert optimizer.param_groups[0]["lr"] == saved(8)


def test_group_count_mismatch_names_both() -> None:
    _, scheduler = build(sch.constant(0.1), None)
    state = scheduler.state_dict()
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    other = ParamScheduler(optimizer, lr=sch.constant(0.1))

    with pytest.raises(ValueError, match=r"saved with 3 param groups.*now has 1"):
        other.load_state_dict(state)


def test_added_group_survives_resume(tmp_path: Path) -> None:
    lr = sch.one_cycle(0.1, 300)["lr"]
    optimizer, scheduler = build(lr, None)
    run(optimizer, scheduler, 20)
    extra = torch.nn.Linear(3, 1)
    optimizer.add_param_group({"params": extra.parameters(), "lr_scale": 0.5})
    run(optimizer, scheduler, 5)
    torch.save(scheduler.state_dict(), tmp_path / "scheduler.pt")
    expected = run(optimizer, scheduler, 30)

    fresh_optimizer, fresh_scheduler = build(lr, None)
    fresh_optimizer.add_param_group(
        {"params": torch.nn.Linear(3, 1).parameters(), "lr_scale": 0.5}
    )
    fresh_scheduler.load_state_dict(
        torch.load(tmp_path / "scheduler.pt", weights_only=True)
    )
    assert run(fresh_optimizer, fresh_scheduler, 30) == expected


BROKEN: list[tuple[str, Any, type[Exception], str]] = [
    ("not a dict", [1, 2], TypeError, "state_dict must be a dict"),
    ("negative step", {"step": -1}, ValueError, r"state_dict\['step'\] must be >= 0"),
    ("format", {"format": 2}, ValueError, r"state_dict\['format'\] must be 1"),
    (
        "unknown schedule",
        {"schedules": {"lr": {"type": "nope"}}},
        ValueError,
        "unknown schedule type 'nope'",
    ),
    ("scale count", {"scales": {"lr": [1.0]}}, ValueError, "list of 3 floats"),
    ("huge step", {"step": 10**30}, ValueError, r"state_dict\['step'\] must be < 2"),
]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_state_raises(change: Any, error: type[Exception], message: str) -> None:
    optimizer, scheduler = build(sch.constant(0.1), None)
    state = scheduler.state_dict()
    broken = {**state, **change} if isinstance(change, dict) else change
    before = snapshot(optimizer)

    with pytest.raises(error, match=message):
        scheduler.load_state_dict(broken)
    assert snapshot(optimizer) == before
    assert scheduler.last_epoch == 0


def test_endless_schedule_resumes_near_exact_limit() -> None:
    """Steps up to 2**53 - 1 are exact in float64, so the last one still loads."""
    schedule = sch.exponential_decay(0.1, 0.5, 2**50)
    optimizer, scheduler = build(schedule, None)
    state = scheduler.state_dict()
    last = 2**53 - 1

    scheduler.load_state_dict({**state, "step": last})

    assert scheduler.last_epoch == last
    assert optimizer.param_groups[0]["lr"] == schedule(last)


def test_state_missing_keys_raises() -> None:
    _, scheduler = build(sch.constant(0.1), None)

    with pytest.raises(ValueError, match=r"missing \['group_count', 'schedules'"):
        scheduler.load_state_dict({"step": 1, "scales": {}})
    assert scheduler.last_epoch == 0
