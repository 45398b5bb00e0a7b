"""Tests for freeze_to, freeze and unfreeze on real optimizers."""

from __future__ import annotations

from typing import Any

import pytest

from tests._optional import require

require("torch")

import torch  # noqa: E402
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from lrkit.adapters.torch import freeze, freeze_to, param_groups, unfreeze  # noqa: E402
from tests._torch_models import (  # noqa: E402
    PartlyFrozen,
    SmallCNN,
    TinyBert,
    module_trees,
)


def trainable_by_layer(groups: list[dict[str, Any]]) -> dict[str, bool]:
    """Whether each group's params train, checking they agree within a group."""
    states: dict[str, bool] = {}
    for group in groups:
        flags = {p.requires_grad for p in group["params"]}
        assert len(flags) == 1, f"mixed requires_grad in {group['name']}"
        states[group["name"]] = flags.pop()
    return states


def cnn_step(model: SmallCNN, optimizer: torch.optim.Optimizer) -> None:
    optimizer.zero_grad()
    model(torch.randn(2, 3, 6, 6)).square().mean().backward()
    optimizer.step()


def test_freeze_trains_head_and_norms() -> None:
    model = SmallCNN()
    optimizer = torch.optim.SGD(param_groups(model), lr=0.1)
    freeze(optimizer)
    assert trainable_by_layer(optimizer.param_groups) == {
        "stem": False,
        "stem.no_decay": False,
        "stem.norm": True,
        "body": False,
        "body.no_decay": False,
        "body.norm": True,
        "head": True,
        "head.no_decay": True,
    }


def test_freeze_without_train_bn() -> None:
    model = SmallCNN()
    groups = param_groups(model)
    freeze_to(groups, 2, train_bn=False)
    states = trainable_by_layer(groups)
    assert [name for name, on in states.items() if on] == ["head", "head.no_decay"]


@pytest.mark.parametrize(
    ("n", "first_trained"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (-1, 2), (-2, 1)],
)
def test_freeze_to_counts_layers(n: int, first_trained: int) -> None:
    model = SmallCNN()
    groups = param_groups(model)
    freeze_to(groups, n, train_bn=False)
    for group in groups:
        expected = group["layer"] >= first_trained
        for param in group["params"]:
            assert param.requires_grad == expected, (n, group["name"])


def test_unfreeze_restores_training() -> None:
    model = SmallCNN()
    groups = param_groups(model)
    freeze_to(groups, 3, train_bn=False)
    unfreeze(groups)
    assert all(p.requires_grad for p in model.parameters())


def test_freeze_clears_stale_grads() -> None:
    model = SmallCNN()
    optimizer = torch.optim.SGD(param_groups(model), lr=0.1)
    model(torch.randn(2, 3, 6, 6)).sum().backward()
    freeze(optimizer, train_bn=False)
    assert model.stem[0].weight.grad is None
    assert model.head.weight.grad is not None


def test_freeze_then_unfreeze_keeps_state() -> None:
    torch.manual_seed(0)
    model = SmallCNN()
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay=0.01), lr=1e-2)
    cnn_step(model, optimizer)
    groups_before = [dict(g) for g in optimizer.param_groups]
    stem_weight = model.stem[0].weight
    step_before = float(optimizer.state[stem_weight]["step"])

    freeze(optimizer)
    frozen_value = stem_weight.detach().clone()
    head_value = model.head.weight.detach().clone()
    cnn_step(model, optimizer)
    assert torch.equal(stem_weight.detach(), frozen_value)
    assert not torch.equal(model.head.weight.detach(), head_value)
    assert float(optimizer.state[stem_weight]["step"]) == step_before

    unfreeze(optimizer)
    cnn_step(model, optimizer)
    assert not torch.equal(stem_weight.detach(), frozen_value)
    assert float(optimizer.state[stem_weight]["step"]) == step_before + 1
    assert float(optimizer.state[model.head.weight]["step"]) == step_before + 2
    assert len(optimizer.param_groups) == len(groups_before)
    for before, after in zip(groups_before, optimizer.param_groups, strict=True):
        assert after["params"] == before["params"]
        assert after["lr"] == before["lr"]


def test_frozen_from_start_stays_frozen() -> None:
    model = PartlyFrozen()
    groups = param_groups(model)
    unfreeze(groups)
    assert model.embed.weight.requires_grad is False
    assert model.body[0].weight.requires_grad is False
    assert model.body[2].weight.requires_grad is True


def test_included_frozen_trains_after_unfreeze() -> None:
    model = PartlyFrozen()
    groups = param_groups(model, include_frozen=True)
    unfreeze(groups)
    assert all(p.requires_grad for p in model.parameters())


def test_freeze_single_layer_raises() -> None:
    model = nn.Sequential(nn.Linear(2, 2))
    groups = param_groups(model)
    with pytest.raises(ValueError, match=r"n must be in \[0, 1\] for 1 layer"):
        freeze(groups)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(("n", "error"), [(4, ValueError), (-3, ValueError)])
def test_freeze_to_out_of_range(n: int, error: type[Exception]) -> None:
    model = SmallCNN()
    groups = param_groups(model)
    freeze_to(groups, 1)
    states = trainable_by_layer(groups)
    with pytest.raises(error, match=rf"n must be in \[-2, 3\] .* got {n}"):
        freeze_to(groups, n)
    assert trainable_by_layer(groups) == states


@pytest.mark.parametrize(
    ("target", "options", "error", "fragment"),
    [
        ("model", {"n": 1}, TypeError, "got SmallCNN"),
        ("groups", {"n": 1.0}, TypeError, "n must be an integer, got 1.0"),
        ("groups", {"n": 1, "train_bn": 0}, TypeError, "train_bn must be a bool"),
        ("plain", {"n": 1}, TypeError, "must have an integer 'layer'"),
        ("empty", {"n": 0}, ValueError, "at least one group"),
    ],
    ids=["model", "float-n", "train-bn", "plain-groups", "empty"],
)
def test_freeze_to_invalid(
    target: str, options: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    model = SmallCNN()
    targets: dict[str, Any] = {
        "model": model,
        "groups": param_groups(model),
        "plain": [{"params": list(model.parameters())}],
        "empty": [],
    }
    with pytest.raises(error) as raised:
        freeze_to(targets[target], **options)
    assert fragment in str(raised.value)
    assert all(p.requires_grad for p in model.parameters())


def test_bert_gradual_unfreezing() -> None:
    model = TinyBert(depth=3)
    optimizer = torch.optim.AdamW(param_groups(model, blocks="auto"), lr=1e-3)
    layers = 5
    for n in range(layers - 1, -1, -1):
        freeze_to(optimizer, n, train_bn=False)
        for group in optimizer.param_groups:
            trains = {p.requires_grad for p in group["params"]}
            assert trains == {group["layer"] >= n}, (n, group["name"])


@given(module_trees(), st.booleans(), st.booleans(), st.data())
def test_freeze_to_property(
    model: nn.Module, include_frozen: bool, train_bn: bool, data: st.DataObject
) -> None:
    assume(any(p.requires_grad for p in model.parameters()))
    groups = param_groups(model, include_frozen=include_frozen)
    grouped = {id(p) for g in groups for p in g["params"]}
    outside = [(p, p.requires_grad) for p in model.parameters() if id(p) not in grouped]
    layers = max(g["layer"] for g in groups) + 1
    n = data.draw(st.integers(1 - layers, layers), label="n")

    freeze_to(groups, n, train_bn=train_bn)
    first_trained = n if n >= 0 else layers + n
    for group in groups:
        expected = group["layer"] >= first_trained or (train_bn and group["norm"])
        for param in group["params"]:
            assert param.requires_grad == expected, group["name"]
    unfreeze(groups)
    assert all(p.requires_grad for g in groups for p in g["params"])
    for param, flag in outside:
        assert param.requires_grad == flag
