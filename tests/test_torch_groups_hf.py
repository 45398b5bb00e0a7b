"""param_groups on real Hugging Face BERT models, built locally from a config."""

from __future__ import annotations

from typing import Any

import pytest

from tests._optional import require

require("torch")
transformers = require("transformers")

from torch import nn  # noqa: E402

from lrkit.adapters.torch import freeze_to, param_groups  # noqa: E402


def tiny_config() -> Any:
    return transformers.BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )


@pytest.fixture(scope="module")
def classifier() -> nn.Module:
    return transformers.BertForSequenceClassification(tiny_config())


@pytest.fixture(scope="module")
def masked_lm() -> nn.Module:
    return transformers.BertForMaskedLM(tiny_config())


def layer_of_names(groups: list[dict[str, Any]], model: nn.Module) -> dict[str, int]:
    """Map every parameter name (tied ones under each name) to its group's layer."""
    layer_by_id = {id(p): g["layer"] for g in groups for p in g["params"]}
    return {
        name: layer_by_id[id(param)]
        for name, param in model.named_parameters(remove_duplicate=False)
    }


def test_bert_layer_ids_follow_timm_convention(classifier: nn.Module) -> None:
    groups = param_groups(classifier, blocks="auto", layer_decay=0.8)
    layers = layer_of_names(groups, classifier)
    for name, layer in layers.items():
        if name.startswith("bert.embeddings."):
            expected = 0
        elif name.startswith("bert.encoder.layer."):
            expected = int(name.split(".")[3]) + 1
        else:
            expected = 4
        assert layer == expected, name
    scales = {g["layer"]: g["lr_scale"] for g in groups}
    assert scales == pytest.approx({i: 0.8 ** (4 - i) for i in range(5)}, rel=1e-12)


def test_decay_groups_match_hf_trainer(classifier: nn.Module) -> None:
    groups = param_groups(classifier, weight_decay=0.01)
    ours = {
        id(p) for g in groups if g["weight_decay_scale"] == 1.0 for p in g["params"]
    }
    by_name = dict(classifier.named_parameters(remove_duplicate=False))
    # get_decay_parameter_names uses no Trainer state, so no Trainer is built.
    hf_names = transformers.Trainer.get_decay_parameter_names(None, classifier)
    assert ours == {id(by_name[name]) for name in hf_names}


def test_tied_decoder_in_embedding_layer(masked_lm: nn.Module) -> None:
    decoder = masked_lm.cls.predictions.decoder
    embedding = masked_lm.bert.embeddings.word_embeddings
    assert decoder.weight is embedding.weight
    groups = param_groups(masked_lm, blocks="auto")
    held = [p for g in groups for p in g["params"]]
    assert sum(p is embedding.weight for p in held) == 1
    layers = layer_of_names(groups, masked_lm)
    assert layers["cls.predictions.decoder.weight"] == 0
    assert layers["cls.predictions.transform.dense.weight"] == 4


def test_freeze_bert_keeps_layer_norms(classifier: nn.Module) -> None:
    groups = param_groups(classifier, blocks="auto")
    freeze_to(groups, -1)
    try:
        for name, param in classifier.named_parameters():
            in_head = not name.startswith(("bert.embeddings.", "bert.encoder."))
            expected = in_head or "LayerNorm" in name
            assert param.requires_grad == expected, name
    finally:
        classifier.requires_grad_(True)
