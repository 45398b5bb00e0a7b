"""lr_find: the exponential sweep, smoothing, early stop, suggestions, restore."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests._optional import require

torch = require("torch")

from lrkit.adapters._torch_lr_find import _suggest, _valley_index  # noqa: E402
from lrkit.adapters.torch import LRFindResult, lr_find  # noqa: E402

mse = torch.nn.functional.mse_loss


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Run torch on one thread while this module's tests run.

    The models are tiny, and on a busy machine torch's thread pool makes each
    step many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _regression_batches(count: int = 4) -> list[tuple[Any, Any]]:
    generator = torch.Generator().manual_seed(0)
    weights = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    batches = []
    for _ in range(count):
        inputs = torch.randn(32, 4, generator=generator)
        batches.append((inputs, inputs @ weights + 0.1))
    return batches


def _linear() -> Any:
    torch.manual_seed(0)
    return torch.nn.Linear(4, 1)


def _net() -> Any:
    """A small model with buffers (batch norm) and randomness (dropout)."""
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(8, 1),
    )


def _used_optimizer(model: Any) -> Any:
    """Adam with two groups, extra keys and state from two real steps."""
    optimizer = torch.optim.Adam(
        [
            {"params": model[0].parameters(), "lr_scale": 0.1, "name": "body"},
            {"params": [*model[1].parameters(), *model[4].parameters()]},
        ],
        lr=1e-3,
    )
    for inputs, targets in _regression_batches(2):
        optimizer.zero_grad()
        mse(model(inputs), targets).backward()
        optimizer.step()
    return optimizer


def _capture(model: Any, optimizer: Any) -> dict[str, Any]:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "grads": [
            None if p.grad is None else p.grad.clone() for p in model.parameters()
        ],
        "modes": [module.training for module in model.modules()],
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "rng": torch.get_rng_state(),
    }


def _assert_same(before: Any, after: Any, where: str = "") -> None:
    """Compare nested dicts, lists and tensors bitwise."""
    if isinstance(before, torch.Tensor):
        assert isinstance(after, torch.Tensor), where
        assert before.dtype == after.dtype, where
        assert torch.equal(before, after), where
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), where
        for key in before:
            _assert_same(before[key], after[key], f"{where}.{key}")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), where
        for index, (first, second) in enumerate(zip(before, after, strict=True)):
            _assert_same(first, second, f"{where}[{index}]")
    else:
        assert before == after, f"{where}: {before!r} != {after!r}"


def test_sweep_lrs_follow_the_formula() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = lr_find(
        model,
        optimizer,
        mse,
        _regression_batches(),
        start_lr=1e-6,
        end_lr=1e-2,
        num_steps=30,
        divergence_factor=None,
    )
    assert result.stop_reason == "completed"
    assert len(result.lrs) == 30
    assert result.lrs[0] == 1e-6
    assert result.lrs[-1] == 1e-2
    for k, lr in enumerate(result.lrs):
        expected = 1e-6 * (1e-2 / 1e-6) ** (k / 29)
        assert lr == pytest.approx(expected, rel=1e-12), f"step {k}"


def test_groups_keep_their_lr_scale_ratios() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(
        [
            {"params": model[0].parameters(), "lr_scale": 0.25},
            {"params": model[1].parameters()},
        ],
        lr=0.1,
    )
    seen: list[tuple[float, float]] = []

    def recording_loss(outputs: Any, targets: Any) -> Any:
        groups = optimizer.param_groups
        seen.append((groups[0]["lr"], groups[1]["lr"]))
        return mse(outputs, targets)

    result = lr_find(
        model, optimizer, recording_loss, _regression_batches(), num_steps=10
    )
    assert len(seen) == len(result.lrs)
    for k, (lr, (first, second)) in enumerate(zip(result.lrs, seen, strict=True)):
        assert first == lr * 0.25, f"step {k}"
        assert second == lr, f"step {k}"
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[0]["lr_scale"] == 0.25


def test_smoothed_loss_is_bias_corrected_average() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = lr_find(
        model, optimizer, mse, _regression_batches(), num_steps=20, end_lr=1e-2
    )
    beta = 0.98
    average = 0.0
    for k, (raw, smoothed) in enumerate(
        zip(result.raw_losses, result.losses, strict=True)
    ):
        average = beta * average + (1 - beta) * raw
        assert smoothed == pytest.approx(average / (1 - beta ** (k + 1)), rel=1e-12)


def test_state_restored_bitwise_after_sweep() -> None:
    model = _net()
    optimizer = _used_optimizer(model)
    model[1].eval()
    torch.manual_seed(7)
    before = _capture(model, optimizer)
    groups_before = copy.deepcopy(
        [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    )

    result = lr_find(model, optimizer, mse, _regression_batches(), num_steps=20)

    assert len(result.lrs) >= 2
    _assert_same(before, _capture(model, optimizer))
    groups_after = [
        {k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups
    ]
    _assert_same(groups_before, groups_after)
    assert model[1].training is False
    assert model[0].training is True


def test_state_restored_when_loss_fn_raises() -> None:
    model = _net()
    optimizer = _used_optimizer(model)
    model.eval()
    before = _capture(model, optimizer)
    calls = 0

    def failing_loss(outputs: Any, targets: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 6:
            raise RuntimeError("loss failed on purpose")
        return mse(outputs, targets)

    with pytest.raises(RuntimeError, match="on purpose"):
        lr_find(model, optimizer, failing_loss, _regression_batches(), num_steps=20)

    assert calls == 6
    _assert_same(before, _capture(model, optimizer))
    assert not any(module.training for module in model.modules())


def test_divergence_stops_sweep_early() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _capture(model, optimizer)
    result = lr_find(
        model, optimizer, mse, _regression_batches(), end_lr=1e4, num_steps=100
    )
    assert result.stop_reason == "diverged"
    assert len(result.lrs) < 100
    losses = result.losses
    assert losses[-1] > 4 * min(losses[:-1])
    for k in range(1, len(losses) - 1):
        assert losses[k] <= 4 * min(losses[: k + 1]), f"step {k} should have stopped"
    _assert_same(before, _capture(model, optimizer))


def test_non_finite_loss_stops_sweep() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _capture(model, optimizer)
    calls = 0

    def nan_loss(outputs: Any, targets: Any) -> Any:
        nonlocal calls
        calls += 1
        loss = mse(outputs, targets)
        return loss * math.nan if calls == 4 else loss

    with pytest.warns(RuntimeWarning, match="too early for suggestions"):
        result = lr_find(model, optimizer, nan_loss, _regression_batches())
    assert result.stop_reason == "non_finite"
    assert len(result.lrs) == 4
    assert math.isnan(result.raw_losses[-1])
    assert result.suggestions == {}
    _assert_same(before, _capture(model, optimizer))


def test_non_finite_warning_advice() -> None:
    """A loss that is NaN from the start is no reason to raise divergence_factor."""
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def nan_loss(outputs: Any, targets: Any) -> Any:
        return mse(outputs, targets) * math.nan

    with pytest.warns(RuntimeWarning) as records:
        lr_find(model, optimizer, nan_loss, _regression_batches())
    (record,) = records
    message = str(record.message)
    assert "the loss was nan at lr 1e-07" in message
    assert "check the model, the batches and loss_fn" in message
    assert "divergence_factor" not in message


def test_batches_cycle_when_they_run_out() -> None:
    batches = _regression_batches(3)
    order: list[int] = []
    targets_ids = [id(targets) for _, targets in batches]

    def recording_loss(outputs: Any, targets: Any) -> Any:
        order.append(targets_ids.index(id(targets)))
        return mse(outputs, targets)

    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    lr_find(model, optimizer, recording_loss, batches, end_lr=1e-3, num_steps=10)
    assert order == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def test_one_shot_iterator_that_runs_out_raises() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _capture(model, optimizer)
    with pytest.raises(ValueError, match="batches ran out after 3 batches"):
        lr_find(model, optimizer, mse, iter(_regression_batches(3)), num_steps=10)
    _assert_same(before, _capture(model, optimizer))


@pytest.mark.parametrize("kind", ["dict", "tensor"])
def test_batch_that_unpacks_wrongly_raises(kind: str) -> None:
    """A dict unpacks to its keys and a 2-row tensor to its rows: neither is a pair."""
    inputs, targets = _regression_batches(1)[0]
    batch = {"inputs": inputs, "targets": targets} if kind == "dict" else inputs[:2]
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _capture(model, optimizer)
    message = "each batch must be a pair"
    with pytest.raises(TypeError, match=f"{message} \\(inputs, targets\\), got"):
        lr_find(model, optimizer, mse, [batch], num_steps=10)
    _assert_same(before, _capture(model, optimizer))


def test_empty_batches_raise() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="batches is empty"):
        lr_find(model, optimizer, mse, [])


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"start_lr": 0.0}, ValueError, "start_lr must be > 0, got 0.0"),
        ({"start_lr": -1e-3}, ValueError, "start_lr must be > 0, got -0.001"),
        ({"end_lr": 1e-8}, ValueError, "end_lr must be > start_lr=1e-07, got 1e-08"),
        ({"end_lr": math.inf}, ValueError, "end_lr must be finite, got inf"),
        ({"num_steps": 3}, ValueError, "num_steps must be >= 8, got 3"),
        ({"num_steps": 10.0}, TypeError, "num_steps must be an integer, got 10.0"),
        ({"smoothing": 1.0}, ValueError, r"smoothing must be in \[0, 1\), got 1.0"),
        (
            {"divergence_factor": 1.0},
            ValueError,
            "divergence_factor must be > 1 or None, got 1.0",
        ),
    ],
    ids=[
        "zero-start",
        "negative-start",
        "end-below-start",
        "infinite-end",
        "few-steps",
        "float-steps",
        "smoothing-one",
        "factor-one",
    ],
)
def test_bad_arguments_raise_before_any_change(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = 0

    def counting_loss(outputs: Any, targets: Any) -> Any:
        nonlocal calls
        calls += 1
        return mse(outputs, targets)

    before = _capture(model, optimizer)
    with pytest.raises(error, match=message):
        lr_find(model, optimizer, counting_loss, _regression_batches(), **arguments)
    assert calls == 0
    _assert_same(before, _capture(model, optimizer))


def test_bad_group_lr_scale_raises() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(
        [{"params": model.parameters(), "lr_scale": -0.5}], lr=0.1
    )
    with pytest.raises(ValueError, match=r"\['lr_scale'\] must be >= 0, got -0.5"):
        lr_find(model, optimizer, mse, _regression_batches())
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_group_without_lr_raises() -> None:
    """A custom optimizer may lack an lr key; the sweep has nothing to set."""

    class NoLr(torch.optim.Optimizer):
        def __init__(self, params: Any) -> None:
            super().__init__(params, {"step_size": 0.1})

    model = _linear()
    optimizer = NoLr(model.parameters())
    before = _capture(model, optimizer)
    with pytest.raises(ValueError, match=r"param_groups\[0\] has no 'lr' key"):
        lr_find(model, optimizer, mse, _regression_batches())
    _assert_same(before, _capture(model, optimizer))


def test_wrong_objects_raise_type_error() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        lr_find(object(), optimizer, mse, _regression_batches())
    with pytest.raises(TypeError, match=r"optimizer must be a torch\.optim\.Optimizer"):
        lr_find(model, object(), mse, _regression_batches())
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        lr_find(model, optimizer, 3, _regression_batches())


def test_digits_suggestion_trains_well() -> None:
    """On softmax regression over sklearn's digits, the suggested lr learns.

    The suggestion must sit below the lr where the sweep diverged, and three
    epochs of SGD at it must lower the loss far more than at ``start_lr``.
    """
    datasets = require("sklearn.datasets")
    features, labels = datasets.load_digits(return_X_y=True)
    inputs = torch.tensor(features / 16.0, dtype=torch.float32)
    targets = torch.tensor(labels)
    order = torch.randperm(len(targets), generator=torch.Generator().manual_seed(0))
    batches = [(inputs[chunk], targets[chunk]) for chunk in torch.split(order, 64)]
    cross_entropy = torch.nn.functional.cross_entropy

    def train_loss(lr: float) -> float:
        torch.manual_seed(0)
        model = torch.nn.Linear(64, 10)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(3):
            for batch_inputs, batch_targets in batches:
                optimizer.zero_grad()
                cross_entropy(model(batch_inputs), batch_targets).backward()
                optimizer.step()
        return float(cross_entropy(model(inputs), targets).detach())

    torch.manual_seed(0)
    model = torch.nn.Linear(64, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = lr_find(model, optimizer, cross_entropy, batches, end_lr=1e3)

    assert result.stop_reason == "diverged"
    diverged_at = result.lrs[-1]
    for name in ("valley", "minimum", "steep"):
        assert 1e-3 < result.suggestions[name] < diverged_at, name
    untrained = train_loss(1e-7)
    assert train_loss(result.suggestions["valley"]) < 0.8 * untrained
    assert train_loss(result.suggestions["minimum"]) < 0.5 * untrained


@pytest.mark.parametrize(
    ("losses", "expected"),
    [
        ([30.0 - k for k in range(30)], 14),
        ([float(k) for k in range(10)], 0),
        ([3.0, 1.0, 2.0, 0.5, 4.0], 1),
        ([5.0, 4.0, 6.0, 3.0, 2.0, 1.0, 0.5, 7.0, 8.0], 3),
    ],
    ids=["falling", "rising", "dip", "long-valley"],
)
def test_valley_index_by_hand(losses: list[float], expected: int) -> None:
    assert _valley_index(np.array(losses)) == expected


def test_suggest_trims_and_applies_rules() -> None:
    num_steps = 20
    lrs = [10.0 ** (k - 10) for k in range(num_steps)]
    # Indices 0-1 and the last 5 are trimmed. The kept losses fall fastest
    # between kept 2 and 3 (lrs[4] to lrs[5]) and are lowest at kept 8 (lrs[10]).
    kept_losses = [9.0, 8.5, 8.0, 5.0, 4.5, 4.0, 3.5, 3.0, 2.9, 3.5, 4.0, 5.0, 6.0]
    losses = [0.0, 0.0, *kept_losses, 0.0, 0.0, 0.0, 0.0, 0.0]
    suggestions = _suggest(lrs, losses, num_steps)
    assert suggestions["minimum"] == lrs[10] / 10
    assert suggestions["steep"] == lrs[4]
    # Kept losses 9.0 ... 2.9 fall for 9 points, so the valley ends at kept 8
    # and starts at -1: the pick is -1 + 3 + 1 = kept 3, which is lrs[5].
    assert suggestions["valley"] == lrs[5]


def test_suggest_cuts_at_first_non_finite() -> None:
    lrs = [10.0 ** (k - 10) for k in range(20)]
    losses = [5.0, 4.0, 3.0, 2.0, 1.0, math.nan] + [1.0] * 14
    suggestions = _suggest(lrs, losses, 20)
    assert suggestions["minimum"] == lrs[4] / 10


def test_plot_draws_curve_and_suggestions(tmp_path: Any) -> None:
    require("matplotlib")
    result = LRFindResult(
        lrs=(1e-4, 1e-3, 1e-2, 1e-1),
        losses=(2.0, 1.5, 1.0, math.nan),
        raw_losses=(2.0, 1.0, 0.5, math.nan),
        suggestions={"valley": 1e-3, "minimum": 1e-3},
        stop_reason="non_finite",
    )
    figure = result.plot()
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"
    curve, *markers = axes.get_lines()
    assert list(curve.get_xdata()) == [1e-4, 1e-3, 1e-2]
    assert len(markers) == 2
    path = tmp_path / "lr_find.png"
    figure.savefig(path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_tensor_lr_updated_and_restored_in_place() -> None:
    model = _linear()
    lr = torch.tensor(0.01)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=False)
    seen: list[float] = []

    def recording_loss(outputs: Any, targets: Any) -> Any:
        group = optimizer.param_groups[0]
        assert group["lr"] is lr, "the sweep replaced the lr tensor"
        seen.append(float(group["lr"]))
        return mse(outputs, targets)

    result = lr_find(
        model, optimizer, recording_loss, _regression_batches(), num_steps=10
    )
    assert seen == [float(torch.tensor(value)) for value in result.lrs]
    assert optimizer.param_groups[0]["lr"] is lr
    assert float(lr) == float(torch.tensor(0.01))


def test_keys_added_during_sweep_are_removed() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def tampering_loss(outputs: Any, targets: Any) -> Any:
        optimizer.param_groups[0]["added_by_loss"] = True
        return mse(outputs, targets)

    lr_find(model, optimizer, tampering_loss, _regression_batches(), num_steps=10)
    assert "added_by_loss" not in optimizer.param_groups[0]


def test_shuffling_loader_leaves_rng_unchanged() -> None:
    """A DataLoader draws its shuffle seed from torch's generator in iter()."""
    inputs, targets = _regression_batches(1)[0]
    dataset = torch.utils.data.TensorDataset(inputs, targets)
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True)
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.manual_seed(3)
    before = torch.get_rng_state()

    lr_find(model, optimizer, mse, loader, end_lr=1e-2, num_steps=10)

    assert torch.equal(torch.get_rng_state(), before)


def test_non_iterable_batches_raise() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="batches must be an iterable"):
        lr_find(model, optimizer, mse, 42)
    assert optimizer.param_groups[0]["lr"] == 0.1
