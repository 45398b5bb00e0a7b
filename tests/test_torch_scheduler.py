"""ParamScheduler on real torch optimizers: values in every group at every step."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import lrkit.schedules as sch
from tests._optional import require

torch = require("torch")
from lrkit.adapters.torch import ParamScheduler  # noqa: E402

TOTAL = 120
CURVES = sch.one_cycle(0.1, TOTAL, pct_start=0.3)

OptimizerFactory = Callable[[list[dict[str, Any]]], Any]

OPTIMIZERS: dict[str, OptimizerFactory] = {
    "sgd": lambda groups: torch.optim.SGD(groups, lr=0.1, momentum=0.9),
    "adamw": lambda groups: torch.optim.AdamW(groups, lr=0.1, betas=(0.9, 0.98)),
    "nadam": lambda groups: torch.optim.NAdam(groups, lr=0.1, betas=(0.9, 0.97)),
    "rmsprop": lambda groups: torch.optim.RMSprop(groups, lr=0.1, momentum=0.5),
}


def make_model() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    )


def split(model: Any, **extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Three param groups: first layer weight, first layer bias, last layer."""
    groups = [
        {"params": [model[0].weight]},
        {"params": [model[0].bias]},
        {"params": list(model[2].parameters())},
    ]
    for index, keys in extra.items():
        groups[int(index.removeprefix("g"))].update(keys)
    return groups


def hyperparameters(optimizer: Any) -> list[dict[str, Any]]:
    """Every group's values, without the params, to compare before and after."""
    return [
        copy.deepcopy({key: value for key, value in group.items() if key != "params"})
        for group in optimizer.param_groups
    ]


def momentum_of(group: dict[str, Any]) -> Any:
    return group["betas"][0] if "betas" in group else group["momentum"]


def train_steps(optimizer: Any, scheduler: ParamScheduler, steps: int) -> None:
    for _ in range(steps):
        optimizer.step()
        scheduler.step()


def assert_close(actual: float, expected: float, where: str) -> None:
    assert abs(actual - expected) <= 1e-15 * abs(expected), (
        f"{where}: expected {expected!r}, got {actual!r}"
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_group_every_step(name: str) -> None:
    model = make_model()
    groups = split(model, g1={"lr_scale": 0.1}, g2={"lr_scale": 2.5})
    optimizer = OPTIMIZERS[name](groups)
    second_betas = [group.get("betas", (None, None))[1] for group in groups]
    scheduler = ParamScheduler(optimizer, **CURVES)
    lr, momentum = CURVES["lr"], CURVES["momentum"]
    loss = torch.nn.MSELoss()
    inputs, targets = torch.randn(16, 4), torch.randn(16, 1)

    for step in range(TOTAL + 5):
        first, second, third = optimizer.param_groups
        assert scheduler.last_epoch == step
        assert first["lr"] == lr(step), f"step {step}: {first['lr']!r} != {lr(step)!r}"
        assert_close(second["lr"], 0.1 * lr(step), f"group 1, step {step}")
        assert_close(third["lr"], 2.5 * lr(step), f"group 2, step {step}")
        for index, group in enumerate(optimizer.param_groups):
            assert type(group["lr"]) is float
            assert momentum_of(group) == momentum(step), f"group {index} step {step}"
            assert type(momentum_of(group)) is float
            if "betas" in group:
                assert group["betas"][1] == second_betas[index]
        assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
        optimizer.zero_grad()
        loss(model(inputs), targets).backward()
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize("name", ["sgd", "adamw", "nadam"])
@pytest.mark.parametrize("three_phase", [False, True], ids=["two", "three"])
def test_equals_one_cycle_lr_per_group(name: str, three_phase: bool) -> None:
    """A schedule per group equals torch's OneCycleLR with a max_lr per group."""
    max_lrs = [0.1, 0.03, 0.007]
    options: dict[str, Any] = {"pct_start": 0.25, "three_phase": three_phase}
    reference = OPTIMIZERS[name](split(make_model()))
    one_cycle_lr = torch.optim.lr_scheduler.OneCycleLR(
        reference, max_lr=max_lrs, total_steps=TOTAL, **options
    )
    optimizer = OPTIMIZERS[name](split(make_model()))
    curves = [sch.torch_one_cycle(peak, TOTAL, **options) for peak in max_lrs]
    scheduler = ParamScheduler(
        optimizer,
        lr=[curve["lr"] for curve in curves],
        momentum=[curve["momentum"] for curve in curves],
    )

    for step in range(TOTAL):
        for index, (ours, theirs) in enumerate(
            zip(optimizer.param_groups, reference.param_groups, strict=True)
        ):
            where = f"group {index}, step {step}"
            assert ours["lr"] == theirs["lr"], where
            assert momentum_of(ours) == momentum_of(theirs), where
            if "betas" in ours:
                assert ours["betas"][1] == theirs["betas"][1], where
        train_steps(reference, one_cycle_lr, 1)
        train_steps(optimizer, scheduler, 1)


def test_equals_one_cycle_lr_at_scale_one() -> None:
    """One schedule for every group equals OneCycleLR with a single max_lr."""
    reference = OPTIMIZERS["sgd"](split(make_model()))
    one_cycle_lr = torch.optim.lr_scheduler.OneCycleLR(
        reference, max_lr=0.1, total_steps=TOTAL, anneal_strategy="linear"
    )
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    curves = sch.torch_one_cycle(0.1, TOTAL, anneal_strategy="linear")
    scheduler = ParamScheduler(optimizer, **curves)

    for step in range(TOTAL):
        ours = [(group["lr"], group["momentum"]) for group in optimizer.param_groups]
        theirs = [(group["lr"], group["momentum"]) for group in reference.param_groups]
        assert ours == theirs, f"step {step}"
        train_steps(reference, one_cycle_lr, 1)
        train_steps(optimizer, scheduler, 1)


def test_scale_list_overrides_group_keys() -> None:
    model = make_model()
    optimizer = OPTIMIZERS["sgd"](split(model, g0={"lr_scale": 7.0}))
    scales = [0.5, 1.0, 3.0]
    scheduler = ParamScheduler(optimizer, lr=CURVES["lr"], lr_scale=scales)

    for step in range(TOTAL):
        for index, group in enumerate(optimizer.param_groups):
            expected = scales[index] * CURVES["lr"](step)
            assert_close(group["lr"], expected, f"group {index}, step {step}")
        train_steps(optimizer, scheduler, 1)


def test_schedule_per_group() -> None:
    model = make_model()
    optimizer = OPTIMIZERS["adamw"](split(model))
    lrs = [CURVES["lr"], sch.cosine(0.01, 0.0, 50), sch.warmup(sch.constant(0.3), 9)]
    momenta = [CURVES["momentum"], sch.linear(0.9, 0.5, 80), sch.constant(0.8)]
    scheduler = ParamScheduler(optimizer, lr=lrs, momentum=momenta)

    for step in range(TOTAL + 3):
        for index, group in enumerate(optimizer.param_groups):
            assert group["lr"] == lrs[index](step), f"group {index}, step {step}"
            assert group["betas"][0] == momenta[index](step)
            assert group["betas"][1] == 0.98
        train_steps(optimizer, scheduler, 1)


def test_weight_decay_scale_keeps_no_decay_groups() -> None:
    model = make_model()
    groups = split(model, g1={"weight_decay_scale": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.05)
    decay = sch.cosine(0.05, 0.01, 60)
    scheduler = ParamScheduler(optimizer, weight_decay=decay)

    for step in range(70):
        first, second, third = optimizer.param_groups
        assert first["weight_decay"] == decay(step)
        assert second["weight_decay"] == 0.0
        assert third["weight_decay"] == decay(step)
        assert first["lr"] == 1e-3
        train_steps(optimizer, scheduler, 1)


def test_relative_mode_keeps_ratios() -> None:
    model = make_model()
    groups = split(model, g0={"lr": 1e-4}, g1={"lr": 1e-3})
    optimizer = torch.optim.SGD(groups, lr=1e-2, momentum=0.9)
    multiplier = sch.warmup(sch.cosine(1.0, 0.0, 40), 10)
    scheduler = ParamScheduler(optimizer, lr=multiplier, relative=True)

    for step in range(60):
        for index, initial in enumerate([1e-4, 1e-3, 1e-2]):
            actual = optimizer.param_groups[index]["lr"]
            assert actual == initial * multiplier(step), f"group {index} step {step}"
        train_steps(optimizer, scheduler, 1)


def test_matches_lambda_lr_in_relative_mode() -> None:
    model = make_model()
    groups = split(model, g0={"lr": 1e-4}, g1={"lr": 1e-3})
    twin = split(make_model(), g0={"lr": 1e-4}, g1={"lr": 1e-3})
    optimizer = torch.optim.SGD(groups, lr=1e-2, momentum=0.9)
    reference = torch.optim.SGD(twin, lr=1e-2, momentum=0.9)
    multiplier = sch.cosine(1.0, 0.1, 30)
    scheduler = ParamScheduler(optimizer, lr=multiplier, relative=True)
    lambda_lr = torch.optim.lr_scheduler.LambdaLR(reference, multiplier)

    for step in range(40):
        ours = [group["lr"] for group in optimizer.param_groups]
        theirs = [group["lr"] for group in reference.param_groups]
        assert ours == theirs, f"step {step}"
        train_steps(optimizer, scheduler, 1)
        train_steps(reference, lambda_lr, 1)


def test_splitter_groups_absolute_and_relative() -> None:
    """Splitter groups carry lr and lr_scale: both modes keep their ratios."""
    from lrkit.adapters.torch import param_groups

    model = make_model()
    groups = param_groups(model, lr=slice(1e-3, 1e-1), weight_decay=0.01)
    twin = param_groups(model, lr=slice(1e-3, 1e-1), weight_decay=0.01)
    absolute_optimizer = torch.optim.AdamW(groups)
    relative_optimizer = torch.optim.AdamW(twin)
    multiplier = sch.cosine(1.0, 0.0, 30)
    peak = sch.scale(multiplier, 0.1)
    absolute = ParamScheduler(absolute_optimizer, lr=peak)
    relative = ParamScheduler(relative_optimizer, lr=multiplier, relative=True)
    initial_lrs = [group["lr"] for group in twin]

    for step in range(35):
        for index, group in enumerate(absolute_optimizer.param_groups):
            expected = groups[index]["lr_scale"] * peak(step)
            assert_close(group["lr"], expected, f"group {index}, step {step}")
        for index, group in enumerate(relative_optimizer.param_groups):
            expected = initial_lrs[index] * multiplier(step)
            assert_close(group["lr"], expected, f"relative {index}, step {step}")
        train_steps(absolute_optimizer, absolute, 1)
        train_steps(relative_optimizer, relative, 1)


def test_different_lrs_without_scales_raise() -> None:
    optimizer = torch.optim.SGD(
        split(make_model(), g0={"lr": 1e-4}), lr=1e-3, momentum=0.9
    )
    before = hyperparameters(optimizer)

    with pytest.raises(ValueError, match=r"different lr values \[0.0001, 0.001"):
        ParamScheduler(optimizer, lr=CURVES["lr"])
    assert hyperparameters(optimizer) == before


def test_added_group_takes_its_scale() -> None:
    model = make_model()
    optimizer = OPTIMIZERS["sgd"](split(model)[:2])
    scheduler = ParamScheduler(optimizer, **CURVES)
    train_steps(optimizer, scheduler, 10)
    optimizer.add_param_group(
        {"params": list(model[2].parameters()), "lr": 5.0, "lr_scale": 0.25}
    )
    train_steps(optimizer, scheduler, 1)

    for step in range(11, 40):
        added = optimizer.param_groups[2]
        assert_close(added["lr"], 0.25 * CURVES["lr"](step), f"step {step}")
        assert added["momentum"] == CURVES["momentum"](step)
        assert optimizer.param_groups[0]["lr"] == CURVES["lr"](step)
        train_steps(optimizer, scheduler, 1)
    assert len(scheduler.get_last_lr()) == 3
    assert scheduler.base_lrs == [
        CURVES["lr"](0),
        CURVES["lr"](0),
        0.25 * CURVES["lr"](0),
    ]


def test_added_group_in_relative_mode() -> None:
    model = make_model()
    optimizer = torch.optim.SGD(split(model)[:1], lr=1e-2)
    multiplier = sch.linear(1.0, 0.0, 50)
    scheduler = ParamScheduler(optimizer, lr=multiplier, relative=True)
    train_steps(optimizer, scheduler, 5)
    optimizer.add_param_group({"params": list(model[2].parameters()), "lr": 1e-3})
    train_steps(optimizer, scheduler, 1)

    assert optimizer.param_groups[1]["lr"] == 1e-3 * multiplier(6)
    assert optimizer.param_groups[0]["lr"] == 1e-2 * multiplier(6)


def test_holds_past_end_by_default() -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    scheduler = ParamScheduler(optimizer, **CURVES)
    train_steps(optimizer, scheduler, TOTAL + 50)

    assert scheduler.last_epoch == TOTAL + 50
    assert scheduler.get_last_lr() == [CURVES["lr"](TOTAL - 1)] * 3
    assert optimizer.param_groups[0]["momentum"] == CURVES["momentum"](TOTAL - 1)


def test_past_end_raise() -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    scheduler = ParamScheduler(optimizer, **CURVES, past_end="raise")
    train_steps(optimizer, scheduler, TOTAL - 1)
    before = hyperparameters(optimizer)

    with pytest.raises(ValueError, match=f"step {TOTAL} is past the end of the lr"):
        scheduler.step()
    assert scheduler.last_epoch == TOTAL - 1
    assert hyperparameters(optimizer) == before


def test_skipped_step_keeps_values() -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    scheduler = ParamScheduler(optimizer, **CURVES)
    train_steps(optimizer, scheduler, 5)
    before = hyperparameters(optimizer)
    scheduler.step(skipped=True)

    assert scheduler.last_epoch == 5
    assert hyperparameters(optimizer) == before
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == CURVES["lr"](6)


def test_skips_with_a_grad_scaler() -> None:
    """The documented GradScaler pattern holds the schedule on a skipped step."""
    model = make_model()
    optimizer = OPTIMIZERS["sgd"](split(model))
    scheduler = ParamScheduler(optimizer, **CURVES)
    scaler = torch.amp.GradScaler("cpu")
    inputs = torch.randn(8, 4)
    for poison in [False, True, False]:
        optimizer.zero_grad()
        loss = model(inputs).sum() * (float("inf") if poison else 1.0)
        scaler.scale(loss).backward()
        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step(skipped=scaler.get_scale() < scale)

    assert scheduler.last_epoch == 2
    assert optimizer.param_groups[0]["lr"] == CURVES["lr"](2)


def test_is_an_lr_scheduler_without_side_effects() -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = ParamScheduler(optimizer, **CURVES)
        scheduler.step()
        train_steps(optimizer, scheduler, 3)

    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    assert scheduler.optimizer is optimizer
    assert all("initial_lr" not in group for group in optimizer.param_groups)
    assert not hasattr(optimizer.step, "_wrapped_by_lr_sched")
    assert scheduler.base_lrs == [CURVES["lr"](0)] * 3
    assert all(type(lr) is float for lr in scheduler.get_last_lr())


def test_epoch_argument_raises() -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    scheduler = ParamScheduler(optimizer, **CURVES)

    with pytest.raises(TypeError, match="epoch=3"):
        scheduler.step(3)
    assert scheduler.last_epoch == 0


def test_tensor_hyperparameters_filled_in_place() -> None:
    model = make_model()
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=torch.tensor(0.01),
        betas=(torch.tensor(0.9), torch.tensor(0.999)),
        foreach=False,
    )
    group = optimizer.param_groups[0]
    lr_tensor, beta1, beta2 = group["lr"], *group["betas"]
    scheduler = ParamScheduler(optimizer, **CURVES)

    for step in range(20):
        assert group["lr"] is lr_tensor
        assert group["betas"][0] is beta1
        assert group["betas"][1] is beta2
        assert lr_tensor.item() == pytest.approx(CURVES["lr"](step), rel=1e-6)
        assert beta1.item() == pytest.approx(CURVES["momentum"](step), rel=1e-6)
        assert beta2.item() == pytest.approx(0.999, rel=1e-6)
        assert scheduler.get_last_lr() == [lr_tensor.item()]
        train_steps(optimizer, scheduler, 1)


def test_training_loss_goes_down() -> None:
    torch.manual_seed(1)
    inputs = torch.randn(256, 4)
    targets = inputs @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1
    model = make_model()
    groups = split(model, g1={"weight_decay_scale": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=1e-2, weight_decay=0.01)
    curves = sch.one_cycle(0.05, 200)
    scheduler = ParamScheduler(optimizer, **curves, weight_decay=sch.constant(0.01))
    loss_fn = torch.nn.MSELoss()
    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    assert losses[-1] < 0.1 * losses[0]
    assert optimizer.param_groups[1]["weight_decay"] == 0.0


LR = CURVES["lr"]
INVALID: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("nothing scheduled", {}, ValueError, "no hyperparameter is scheduled"),
    ("lr not a schedule", {"lr": 0.1}, TypeError, r"lr must be a Schedule.*0\.1"),
    ("lr list too short", {"lr": [LR, LR]}, ValueError, "one schedule per param"),
    ("lr list item", {"lr": [LR, LR, "x"]}, TypeError, r"lr\[2\] must be a Sch"),
    ("scale length", {"lr": LR, "lr_scale": [1.0]}, ValueError, r"lr_scale.*\(3\)"),
    ("scale value", {"lr": LR, "lr_scale": [1, -2, 1]}, ValueError, r"\[1\].*-2"),
    ("scale type", {"lr": LR, "lr_scale": 2.0}, TypeError, "lr_scale must be a list"),
    (
        "scale unused",
        {"momentum": CURVES["momentum"], "lr_scale": [1, 1, 1]},
        ValueError,
        "lr is not scheduled",
    ),
    ("relative", {"lr": LR, "relative": 1}, TypeError, "relative must be a bool"),
    (
        "relative with scales",
        {"lr": LR, "relative": True, "lr_scale": [1, 2, 3]},
        ValueError,
        r"cannot be combined with lr_scale.*\[1, 2, 3\]",
    ),
    ("past_end", {"lr": LR, "past_end": "wrap"}, ValueError, "past_end.*'wrap'"),
    (
        "use_saved",
        {"lr": LR, "use_saved_schedules": "yes"},
        TypeError,
        "use_saved_schedules",
    ),
    (
        "momentum above 1",
        {"momentum": sch.linear(0.9, 1.5, 10)},
        ValueError,
        r"momentum must stay in \[0, 1\].*1\.5",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_arguments_change_nothing(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model()))
    before = hyperparameters(optimizer)

    with pytest.raises(error, match=message):
        ParamScheduler(optimizer, **kwargs)
    assert hyperparameters(optimizer) == before


def test_optimizer_type_checked() -> None:
    with pytest.raises(TypeError, match=r"optimizer must be a torch\.optim\.Optimizer"):
        ParamScheduler([{"lr": 0.1}], lr=LR)


def test_momentum_without_a_momentum_key_raises() -> None:
    optimizer = torch.optim.Adagrad(split(make_model()), lr=0.1)
    before = hyperparameters(optimizer)

    with pytest.raises(ValueError, match="neither a 'momentum' nor a 'betas' key"):
        ParamScheduler(optimizer, **CURVES)
    assert hyperparameters(optimizer) == before


def test_momentum_on_sgd_without_momentum_raises() -> None:
    optimizer = torch.optim.SGD(split(make_model()), lr=0.1)
    before = hyperparameters(optimizer)

    with pytest.raises(ValueError, match="momentum=0"):
        ParamScheduler(optimizer, **CURVES)
    assert hyperparameters(optimizer) == before


def test_added_group_breaks_per_group_list() -> None:
    model = make_model()
    optimizer = OPTIMIZERS["sgd"](split(model)[:2])
    scheduler = ParamScheduler(optimizer, lr=[LR, LR])
    optimizer.add_param_group({"params": list(model[2].parameters())})

    with pytest.raises(ValueError, match=r"one schedule per param group \(2 groups\)"):
        scheduler.step()
    assert scheduler.last_epoch == 0


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [("lr_scale", -0.5, ValueError), ("lr_scale", "big", TypeError)],
    ids=["negative", "string"],
)
def test_invalid_group_scale_key_raises(
    key: str, value: Any, error: type[Exception]
) -> None:
    optimizer = OPTIMIZERS["sgd"](split(make_model(), g2={key: value}))
    before = hyperparameters(optimizer)

    with pytest.raises(error, match=f"param group 2's '{key}'.*{value}"):
        ParamScheduler(optimizer, lr=LR)
    assert hyperparameters(optimizer) == before
