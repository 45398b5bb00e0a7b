"""Tests for param_groups: layer splits, lr scales, weight-decay siblings."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Any

import pytest

from tests._optional import require

require("torch")

import torch  # noqa: E402
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from lrkit.adapters.torch import (  # noqa: E402
    ParamScheduler,
    freeze_to,
    param_groups,
    unfreeze,
)
from lrkit.schedules import cosine, one_cycle  # noqa: E402
from tests._torch_models import (  # noqa: E402
    PartlyFrozen,
    SmallCNN,
    TiedTransformer,
    TinyBert,
    module_trees,
    same_snapshot,
    snapshot,
)


def layer_summary(groups: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(layer, name) of each layer, in order, from the decay-free names."""
    seen: dict[int, str] = {}
    for group in groups:
        base = re.sub(r"\.(no_decay|norm)$", "", group["name"])
        seen.setdefault(group["layer"], base)
    return sorted(seen.items())


def layer_scales(groups: list[dict[str, Any]]) -> list[float]:
    """The lr scale of each layer, checking that siblings agree."""
    scales: dict[int, float] = {}
    for group in groups:
        first = scales.setdefault(group["layer"], group["lr_scale"])
        assert group["lr_scale"] == first, f"siblings differ in {group['name']}"
    return [scales[layer] for layer in sorted(scales)]


def group_of(groups: list[dict[str, Any]], param: torch.Tensor) -> dict[str, Any]:
    """The one group that holds ``param``."""
    holders = [g for g in groups if any(p is param for p in g["params"])]
    assert len(holders) == 1, f"param is in {len(holders)} groups"
    return holders[0]


def assert_partition(
    model: nn.Module, groups: list[dict[str, Any]], include_frozen: bool = False
) -> None:
    """Each expected parameter is in exactly one group, and nothing else is."""
    counts = Counter(id(p) for g in groups for p in g["params"])
    expected = {
        id(p): name
        for name, p in model.named_parameters()
        if include_frozen or p.requires_grad
    }
    repeated = [expected.get(key, key) for key, count in counts.items() if count > 1]
    assert repeated == [], f"in several groups: {repeated}"
    missing = [name for key, name in expected.items() if key not in counts]
    assert missing == [], f"in no group: {missing}"
    extra = set(counts) - set(expected)
    assert extra == set(), f"{len(extra)} unexpected tensors in the groups"


def test_default_split_by_top_level_children() -> None:
    model = SmallCNN()
    groups = param_groups(model)
    assert layer_summary(groups) == [(0, "stem"), (1, "body"), (2, "head")]
    assert_partition(model, groups)
    assert layer_scales(groups) == [1.0, 1.0, 1.0]


def test_cnn_weight_decay_siblings() -> None:
    model = SmallCNN()
    groups = param_groups(model, weight_decay=0.05)
    conv = group_of(groups, model.stem[0].weight)
    assert conv["name"] == "stem"
    assert conv["weight_decay"] == 0.05
    assert conv["weight_decay_scale"] == 1.0
    assert conv["norm"] is False
    bias = group_of(groups, model.stem[0].bias)
    assert bias["name"] == "stem.no_decay"
    assert bias["weight_decay"] == 0.0
    assert bias["weight_decay_scale"] == 0.0
    for param in (model.stem[1].weight, model.stem[1].bias):
        norm = group_of(groups, param)
        assert norm["name"] == "stem.norm"
        assert norm["norm"] is True
        assert norm["weight_decay"] == 0.0
        assert norm["weight_decay_scale"] == 0.0
        assert norm["layer"] == conv["layer"]


def test_weight_decay_omitted_keeps_optimizer_default() -> None:
    model = SmallCNN()
    groups = param_groups(model)
    optimizer = torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.3)
    by_name = {g["name"]: g for g in optimizer.param_groups}
    assert by_name["head"]["weight_decay"] == 0.3
    assert by_name["head.no_decay"]["weight_decay"] == 0.0
    assert by_name["stem.norm"]["weight_decay"] == 0.0


def test_tied_embedding_once_in_input_layer() -> None:
    model = TiedTransformer()
    groups = param_groups(model)
    assert_partition(model, groups)
    tied = group_of(groups, model.output.weight)
    assert model.output.weight is model.embedding.weight
    assert tied["layer"] == 0


def test_root_parameter_joins_first_layer() -> None:
    model = TiedTransformer()
    groups = param_groups(model)
    assert group_of(groups, model.position)["layer"] == 0
    assert layer_summary(groups) == [(0, "embedding"), (1, "encoder"), (2, "output")]


def test_embeddings_undecayed_by_option() -> None:
    model = TiedTransformer()
    decayed = param_groups(model, weight_decay=0.1)
    undecayed = param_groups(model, weight_decay=0.1, decay_embeddings=False)
    assert group_of(decayed, model.embedding.weight)["weight_decay"] == 0.1
    assert group_of(undecayed, model.embedding.weight)["weight_decay"] == 0.0
    assert group_of(undecayed, model.embedding.weight)["weight_decay_scale"] == 0.0


def test_no_decay_patterns_add_names() -> None:
    model = TiedTransformer()
    groups = param_groups(model, weight_decay=0.1, no_decay_patterns=[r"position$"])
    assert model.position.ndim == 3
    assert group_of(groups, model.position)["weight_decay"] == 0.0
    in_proj = model.encoder.layers[0].self_attn.in_proj_weight
    assert group_of(groups, in_proj)["weight_decay"] == 0.1


def test_transformer_encoder_blocks() -> None:
    model = TiedTransformer(depth=3)
    groups = param_groups(model, blocks="auto")
    assert layer_summary(groups) == [
        (0, "stem"),
        (1, "encoder.layers.0"),
        (2, "encoder.layers.1"),
        (3, "encoder.layers.2"),
        (4, "head"),
    ]
    assert_partition(model, groups)
    assert group_of(groups, model.encoder.norm.weight)["layer"] == 4
    assert group_of(groups, model.output.bias)["layer"] == 4
    assert group_of(groups, model.embedding.weight)["layer"] == 0


def test_bert_blocks_by_name_and_auto() -> None:
    model = TinyBert(depth=4)
    named = param_groups(model, blocks="encoder.layer")
    auto = param_groups(model, blocks="auto")
    assert layer_summary(named) == layer_summary(auto)
    assert layer_summary(named) == [
        (0, "stem"),
        (1, "encoder.layer.0"),
        (2, "encoder.layer.1"),
        (3, "encoder.layer.2"),
        (4, "encoder.layer.3"),
        (5, "head"),
    ]
    assert group_of(named, model.pooler[0].weight)["layer"] == 5
    assert group_of(named, model.classifier.weight)["layer"] == 5
    embedding_norm = group_of(named, model.embeddings.LayerNorm.weight)
    assert embedding_norm["layer"] == 0
    assert embedding_norm["norm"] is True


def test_bert_layer_decay_golden() -> None:
    model = TinyBert(depth=4)
    groups = param_groups(model, blocks="auto", layer_decay=0.5, lr=1e-3)
    assert layer_scales(groups) == [0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0]
    head = group_of(groups, model.classifier.weight)
    assert head["lr"] == 1e-3
    stem = group_of(groups, model.embeddings.word_embeddings.weight)
    assert stem["lr"] == pytest.approx(1e-3 * 0.5**5, rel=1e-12)


@pytest.mark.parametrize("decay", [0.65, 0.75, 0.9])
def test_layer_decay_matches_timm_formula(decay: float) -> None:
    model = TinyBert(depth=6)
    groups = param_groups(model, blocks="auto", layer_decay=decay)
    count = 8
    expected = [decay ** (count - 1 - layer) for layer in range(count)]
    assert layer_scales(groups) == pytest.approx(expected, rel=1e-12)


SPREAD_GOLDENS = [
    pytest.param(slice(1e-4, 1e-2), 3, [1e-4, 1e-3, 1e-2], id="lo-hi-3"),
    pytest.param(slice(1e-3), 3, [1e-4, 1e-4, 1e-3], id="hi-only-3"),
    pytest.param(slice(1e-5, 1e-2), 4, [1e-5, 1e-4, 1e-3, 1e-2], id="lo-hi-4"),
    pytest.param(slice(2e-3, 2e-3), 2, [2e-3, 2e-3], id="flat"),
]


@pytest.mark.parametrize(("lr", "layers", "expected"), SPREAD_GOLDENS)
def test_spread_goldens(lr: slice, layers: int, expected: list[float]) -> None:
    model = nn.Sequential(*(nn.Linear(3, 3) for _ in range(layers)))
    groups = param_groups(model, lr=lr)
    lrs = {g["layer"]: g["lr"] for g in groups}
    assert [lrs[layer] for layer in range(layers)] == pytest.approx(expected, rel=1e-12)
    assert lrs[0] == expected[0]
    assert lrs[layers - 1] == expected[-1]
    scales = layer_scales(groups)
    assert scales[-1] == 1.0
    assert scales == pytest.approx([v / expected[-1] for v in expected], rel=1e-12)


def test_spread_matches_fastai_formula() -> None:
    model = TinyBert(depth=5)
    low, high = 3e-6, 7e-3
    groups = param_groups(model, blocks="auto", lr=slice(low, high))
    count = 7
    expected = [low * (high / low) ** (i / (count - 1)) for i in range(count)]
    lrs = {g["layer"]: g["lr"] for g in groups}
    for layer in range(count):
        assert lrs[layer] == pytest.approx(expected[layer], rel=1e-12), layer


def test_spread_single_layer_gets_high() -> None:
    model = nn.Sequential(nn.Linear(2, 2))
    assert {g["lr"] for g in param_groups(model, lr=slice(1e-5, 1e-3))} == {1e-3}
    assert {g["lr"] for g in param_groups(model, lr=slice(1e-3))} == {1e-3}


def test_explicit_lr_scales() -> None:
    model = SmallCNN()
    groups = param_groups(model, lr_scales=[0.1, 0.5, 1.0], lr=0.02)
    assert layer_scales(groups) == [0.1, 0.5, 1.0]
    assert group_of(groups, model.stem[1].weight)["lr"] == pytest.approx(0.002)


def test_prefixes_in_order() -> None:
    model = TinyBert(depth=3)
    groups = param_groups(
        model,
        prefixes=[
            "embeddings",
            ["encoder.layer.0", "encoder.layer.1"],
            "encoder",
            ["pooler", "classifier"],
        ],
    )
    assert layer_summary(groups) == [
        (0, "embeddings"),
        (1, "encoder.layer.0+encoder.layer.1"),
        (2, "encoder"),
        (3, "pooler+classifier"),
    ]
    assert group_of(groups, model.encoder.layer[2].output.dense.weight)["layer"] == 2
    assert_partition(model, groups)


def test_prefix_matches_whole_components() -> None:
    model = nn.ModuleDict({"layer": nn.ModuleList(nn.Linear(2, 2) for _ in range(11))})
    groups = param_groups(model, prefixes=["layer.1", "layer"])
    first = [g for g in groups if g["layer"] == 0]
    held = {id(p) for g in first for p in g["params"]}
    assert held == {id(p) for p in model["layer"][1].parameters()}
    assert group_of(groups, model["layer"][10].weight)["layer"] == 1


def test_unmatched_parameters_listed() -> None:
    model = TinyBert(depth=2)
    with pytest.raises(ValueError, match="catch_all") as error:
        param_groups(model, prefixes=["embeddings", "encoder"])
    message = str(error.value)
    assert "pooler.0.weight" in message
    assert "classifier.bias" in message
    assert "4 parameters match no layer rule" in message


def test_catch_all_adds_last_layer() -> None:
    model = TinyBert(depth=2)
    groups = param_groups(model, prefixes=["embeddings", "encoder"], catch_all=True)
    assert layer_summary(groups)[-1] == (2, "unmatched")
    assert group_of(groups, model.classifier.weight)["layer"] == 2
    assert_partition(model, groups)


def test_patterns_first_match_wins() -> None:
    model = TinyBert(depth=2)
    groups = param_groups(
        model, patterns=[r"^embeddings\.", r"layer\.0\.", r"^encoder", r"."]
    )
    assert layer_summary(groups) == [
        (0, "^embeddings\\."),
        (1, "layer\\.0\\."),
        (2, "^encoder"),
        (3, "."),
    ]
    assert group_of(groups, model.encoder.layer[1].output.LayerNorm.bias)["layer"] == 2


def test_function_splitter_fastai_style() -> None:
    model = SmallCNN()

    def splitter(net: nn.Module) -> list[Any]:
        assert isinstance(net, SmallCNN)
        return [net.stem, [*net.body.parameters()], [net.head, net.stem[0].weight]]

    groups = param_groups(model, splitter=splitter)
    assert layer_summary(groups) == [(0, "stem"), (1, "layer1"), (2, "layer2")]
    assert group_of(groups, model.stem[0].weight)["layer"] == 0
    assert_partition(model, groups)


def test_function_splitter_foreign_parameter() -> None:
    model = SmallCNN()
    stranger = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="not a parameter of the model"):
        param_groups(model, splitter=lambda net: [net.stem, net.body, stranger])


def test_function_splitter_missing_parameter() -> None:
    model = SmallCNN()
    with pytest.raises(ValueError, match=r"head\.weight, head\.bias"):
        param_groups(model, splitter=lambda net: [net.stem, net.body])


def test_num_groups_equal_sizes() -> None:
    model = nn.Sequential(*(nn.Linear(10, 10) for _ in range(8)))
    groups = param_groups(model, num_groups=4)
    sizes = Counter()
    for group in groups:
        sizes[group["layer"]] += sum(p.numel() for p in group["params"])
    assert sizes == {0: 220, 1: 220, 2: 220, 3: 220}
    assert layer_summary(groups)[1] == (1, "2..3")


def test_num_groups_uneven_modules() -> None:
    model = nn.Sequential(nn.Linear(100, 100), nn.Linear(2, 2), nn.Linear(2, 2))
    groups = param_groups(model, num_groups=3)
    assert layer_summary(groups) == [(0, "0"), (1, "1"), (2, "2")]


def test_frozen_left_out_by_default() -> None:
    model = PartlyFrozen()
    groups = param_groups(model)
    assert_partition(model, groups)
    assert layer_summary(groups) == [(0, "body"), (1, "head")]
    held = {id(p) for g in groups for p in g["params"]}
    assert id(model.body[0].weight) not in held
    assert id(model.embed.weight) not in held


def test_frozen_included_by_option() -> None:
    model = PartlyFrozen()
    groups = param_groups(model, include_frozen=True)
    assert_partition(model, groups, include_frozen=True)
    assert layer_summary(groups) == [(0, "embed+body"), (1, "head")]
    assert group_of(groups, model.embed.weight)["layer"] == 0


def test_frozen_layers_never_a_decay_level() -> None:
    model = PartlyFrozen()
    excluded = param_groups(model, layer_decay=0.5)
    included = param_groups(model, layer_decay=0.5, include_frozen=True)
    assert layer_scales(excluded) == [0.5, 1.0]
    assert layer_scales(included) == [0.5, 1.0]


def test_frozen_head_joins_previous_layer() -> None:
    model = PartlyFrozen()
    model.head.requires_grad_(False)
    groups = param_groups(model, include_frozen=True)
    assert layer_summary(groups) == [(0, "embed+body+head")]


def test_nothing_trainable_raises() -> None:
    model = SmallCNN().requires_grad_(False)
    with pytest.raises(ValueError, match="no parameter with requires_grad=True"):
        param_groups(model)
    with pytest.raises(ValueError, match="no parameter with requires_grad=True"):
        param_groups(model, include_frozen=True)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"blocks": "auto", "layer_decay": 0.7, "weight_decay": 0.1},
        {"num_groups": 3, "lr": slice(1e-4, 1e-2)},
        {"prefixes": ["embedding", "encoder"], "catch_all": True},
        {"include_frozen": True, "decay_embeddings": False},
    ],
    ids=["default", "blocks", "num-groups", "prefixes", "frozen"],
)
def test_building_never_changes_model(options: dict[str, Any]) -> None:
    model = TiedTransformer()
    model.encoder.layers[0].requires_grad_(False)
    model.eval()
    before = snapshot(model)
    param_groups(model, **options)
    assert same_snapshot(before, snapshot(model))


def test_optimizer_trains_unfrozen_only() -> None:
    torch.manual_seed(0)
    model = PartlyFrozen()
    groups = param_groups(model, lr=slice(1e-3, 1e-2), weight_decay=0.01)
    optimizer = torch.optim.AdamW(groups)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    tokens = torch.randint(0, 10, (4, 5))
    model(tokens).sum().backward()
    optimizer.step()
    for name, param in model.named_parameters():
        changed = not torch.equal(before[name], param.detach())
        assert changed == param.requires_grad, name


def test_optimizer_keeps_group_keys() -> None:
    model = SmallCNN()
    groups = param_groups(model, lr=slice(1e-3), weight_decay=0.01)
    optimizer = torch.optim.SGD(groups, momentum=0.9)
    assert len(optimizer.param_groups) == len(groups)
    for built, kept in zip(groups, optimizer.param_groups, strict=True):
        for key in ("name", "layer", "lr_scale", "weight_decay_scale", "norm"):
            assert kept[key] == built[key], key


INVALID = [
    pytest.param({"num_groups": 0}, ValueError, "num_groups must be >= 1, got 0"),
    pytest.param({"num_groups": 2.0}, TypeError, "num_groups must be an integer"),
    pytest.param({"num_groups": 99}, ValueError, "got 99"),
    pytest.param({"num_groups": 2, "blocks": "auto"}, ValueError, "num_groups, blocks"),
    pytest.param({"prefixes": "stem"}, TypeError, "prefixes must be a list"),
    pytest.param({"prefixes": []}, ValueError, "prefixes must name at least one"),
    pytest.param({"prefixes": ["stem", ""]}, ValueError, "prefixes[1]"),
    pytest.param({"prefixes": ["stem", "bdy"]}, ValueError, "'bdy'"),
    pytest.param({"patterns": ["("]}, ValueError, "patterns[0] is not a valid"),
    pytest.param({"patterns": [3]}, TypeError, "patterns[0] must be a regex"),
    pytest.param({"patterns": ["stem", "xyz"]}, ValueError, "'xyz'"),
    pytest.param({"splitter": 3}, TypeError, "splitter must be callable, got 3"),
    pytest.param({"splitter": lambda m: 3}, TypeError, "got int"),
    pytest.param({"splitter": lambda m: [3]}, TypeError, "layer 0 as int"),
    pytest.param({"blocks": 1}, TypeError, "blocks must be a module name"),
    pytest.param({"blocks": "nope"}, ValueError, "got 'nope', which is nothing"),
    pytest.param({"blocks": "head"}, ValueError, "which is Linear"),
    pytest.param({"lr": 0.0}, ValueError, "lr must be > 0, got 0.0"),
    pytest.param({"lr": "1e-3"}, TypeError, "lr must be a real number"),
    pytest.param({"lr": slice(1e-4, 1e-2, 2)}, ValueError, "slice(lo, hi)"),
    pytest.param({"lr": slice(-1.0, 1e-2)}, ValueError, "lr.start must be > 0"),
    pytest.param({"lr": slice(1e-2, None)}, TypeError, "lr.stop must be a real"),
    pytest.param(
        {"lr": slice(1e-3), "layer_decay": 0.5}, ValueError, "layer_decay=0.5"
    ),
    pytest.param({"layer_decay": 0.0}, ValueError, "layer_decay must be in (0, 1]"),
    pytest.param({"layer_decay": 1.5}, ValueError, "got 1.5"),
    pytest.param({"layer_decay": 0.5, "lr_scales": [1, 1, 1]}, ValueError, "not both"),
    pytest.param({"lr_scales": [1.0, 1.0]}, ValueError, "(3), got 2 values"),
    pytest.param({"lr_scales": [1.0, -1.0, 1.0]}, ValueError, "lr_scales[1]"),
    pytest.param({"weight_decay": -0.1}, ValueError, "weight_decay must be >= 0"),
    pytest.param({"decay_embeddings": 1}, TypeError, "decay_embeddings must be"),
    pytest.param({"no_decay_patterns": "bias"}, TypeError, "no_decay_patterns"),
    pytest.param({"include_frozen": None}, TypeError, "include_frozen must be"),
    pytest.param({"catch_all": "yes"}, TypeError, "catch_all must be a bool"),
]


@pytest.mark.parametrize(("options", "error", "fragment"), INVALID)
def test_invalid_arguments(
    options: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    model = SmallCNN()
    before = snapshot(model)
    with pytest.raises(error) as raised:
        param_groups(model, **options)
    assert fragment in str(raised.value)
    assert same_snapshot(before, snapshot(model))


def test_model_must_be_module() -> None:
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got list"):
        param_groups([nn.Linear(2, 2)])  # type: ignore[arg-type]


def random_splits(model: nn.Module, data: st.DataObject) -> list[dict[str, Any]]:
    """One set of options per split mode, drawn for this model."""
    owners = list(
        dict.fromkeys(name.split(".")[0] for name, _ in model.named_parameters())
    )
    children = [child for name, child in model.named_children() if name in owners]
    prefixes = data.draw(st.permutations(owners)).copy()
    del prefixes[data.draw(st.integers(1, len(prefixes))) :]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(children)), max_size=3)))
    bounds = [0, *cuts, len(children)]
    layers = [children[start:end] for start, end in itertools.pairwise(bounds)]
    return [
        {},
        {"blocks": "auto"},
        {"num_groups": data.draw(st.integers(1, 4))},
        {"prefixes": prefixes, "catch_all": True},
        {"patterns": [r"^(\d+)\."]},
        {"splitter": lambda _: [layer for layer in layers if layer]},
    ]


@given(module_trees(), st.booleans(), st.data())
def test_partition_invariants(
    model: nn.Module, include_frozen: bool, data: st.DataObject
) -> None:
    trainable = [p for p in model.parameters() if p.requires_grad]
    before = snapshot(model)
    for options in random_splits(model, data):
        try:
            groups = param_groups(model, include_frozen=include_frozen, **options)
        except ValueError as error:
            message = str(error)
            allowed = "num_groups must be at most" in message or (
                not trainable and "no parameter with requires_grad" in message
            )
            assert allowed, f"{options}: {message}"
            continue
        assert_partition(model, groups, include_frozen=include_frozen)
        layers = sorted({g["layer"] for g in groups})
        assert layers == list(range(len(layers))), options
        for layer in layers:
            held = [p for g in groups if g["layer"] == layer for p in g["params"]]
            assert any(p.requires_grad for p in held), f"{options}: layer {layer}"
        layer_scales(groups)
    assert same_snapshot(before, snapshot(model))


def test_param_scheduler_keeps_group_ratios() -> None:
    torch.manual_seed(0)
    model = TiedTransformer(depth=2)
    groups = param_groups(model, blocks="auto", lr=slice(1e-4, 1e-2), weight_decay=0.05)
    optimizer = torch.optim.AdamW(groups)
    total = 30
    curves = one_cycle(1e-2, total)
    decay = cosine(0.05, 0.01, total)
    scheduler = ParamScheduler(
        optimizer, lr=curves["lr"], momentum=curves["momentum"], weight_decay=decay
    )
    tokens = torch.randint(0, 50, (2, 6))
    for step in range(total):
        if step == 10:
            freeze_to(optimizer, 2)
        if step == 20:
            unfreeze(optimizer)
        head_lr = curves["lr"](step)
        for group in optimizer.param_groups:
            where = f"step {step}, group {group['name']}"
            expected_lr = head_lr * group["lr_scale"]
            assert group["lr"] == pytest.approx(expected_lr, rel=1e-12), where
            expected_decay = decay(step) * group["weight_decay_scale"]
            assert group["weight_decay"] == pytest.approx(expected_decay, rel=1e-12)
        optimizer.zero_grad()
        model(tokens).square().mean().backward()
        optimizer.step()
        scheduler.step()


def test_blocks_auto_prefers_same_class_stack() -> None:
    block = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    model = nn.Sequential(
        nn.Embedding(10, 8),
        nn.TransformerEncoder(block, 2, enable_nested_tensor=False),
        nn.Linear(8, 3),
    )
    groups = param_groups(model, blocks="auto")
    assert layer_summary(groups) == [
        (0, "stem"),
        (1, "1.layers.0"),
        (2, "1.layers.1"),
        (3, "head"),
    ]


def test_blocks_root_sequential() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    groups = param_groups(model, blocks="", layer_decay=0.5)
    assert layer_summary(groups) == [(0, "0"), (1, "2")]
    assert layer_scales(groups) == [0.5, 1.0]


class StagedNet(nn.Module):
    """A ResNet-like tree: a stem, twelve stages of two blocks, a head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(3, 3)
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3)) for _ in range(12)
        )
        self.head = nn.Linear(3, 2)


def test_pattern_groups_number_stages() -> None:
    model = StagedNet()
    groups = param_groups(
        model, patterns=[r"^stem\.", r"^stages\.(\d+)\.", r"^head\."], layer_decay=0.5
    )
    expected = [(0, "^stem\\.")]
    expected += [(i + 1, f"stages.{i}") for i in range(12)]
    expected += [(13, "^head\\.")]
    assert layer_summary(groups) == expected
    assert group_of(groups, model.stages[10][1].weight)["layer"] == 11
    assert layer_scales(groups)[0] == 0.5**13
    assert_partition(model, groups)


def test_pattern_groups_match_bert_blocks() -> None:
    model = TinyBert(depth=4)
    by_blocks = param_groups(model, blocks="encoder.layer", layer_decay=0.7)
    by_patterns = param_groups(
        model,
        patterns=[r"^embeddings\.", r"^encoder\.layer\.(\d+)\.", r"."],
        layer_decay=0.7,
    )
    block_ids = [[id(p) for p in g["params"]] for g in by_blocks]
    pattern_ids = [[id(p) for p in g["params"]] for g in by_patterns]
    assert block_ids == pattern_ids
    assert layer_scales(by_blocks) == layer_scales(by_patterns)
    assert layer_summary(by_patterns)[1] == (1, "encoder.layer.0")


def test_pattern_groups_text_captures_in_order() -> None:
    model = nn.ModuleDict({"beta": nn.Linear(2, 2), "alpha": nn.Linear(2, 2)})
    groups = param_groups(model, patterns=[r"^(\w+)\."])
    assert layer_summary(groups) == [(0, "beta"), (1, "alpha")]


@given(module_trees(), st.booleans())
def test_pattern_per_child_equals_default(
    model: nn.Module, include_frozen: bool
) -> None:
    assume(any(p.requires_grad for p in model.parameters()))
    default = param_groups(model, include_frozen=include_frozen)
    by_pattern = param_groups(
        model, patterns=[r"^(\d+)\."], include_frozen=include_frozen
    )
    assert [[id(p) for p in g["params"]] for g in default] == [
        [id(p) for p in g["params"]] for g in by_pattern
    ]
    assert [g["layer"] for g in default] == [g["layer"] for g in by_pattern]
    assert [g["name"] for g in default] == [g["name"] for g in by_pattern]


class _ClassToken(nn.Module):
    """A ViT-like model with a parameter registered on the model itself."""

    def __init__(self) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 4))
        self.body = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)


def _group_of(groups: list[dict[str, Any]], parameter: torch.Tensor) -> dict[str, Any]:
    matches = [g for g in groups if any(p is parameter for p in g["params"])]
    assert len(matches) == 1
    return matches[0]


def test_root_parameter_decayed_by_default() -> None:
    model = _ClassToken()
    group = _group_of(param_groups(model, weight_decay=0.1), model.cls_token)
    assert group["layer"] == 0
    assert group["weight_decay"] == 0.1


def test_root_parameter_exempt_by_pattern() -> None:
    model = _ClassToken()
    groups = param_groups(model, weight_decay=0.1, no_decay_patterns=[r"^cls_token$"])
    group = _group_of(groups, model.cls_token)
    assert group["layer"] == 0
    assert group["weight_decay"] == 0.0
    assert group["weight_decay_scale"] == 0.0
