"""Small real torch models and module-tree strategies for the splitter tests.

These live apart from ``tests/strategies.py`` because that module must import
without torch.
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st
from torch import nn


class SmallCNN(nn.Module):
    """A CNN with batch norm: stem, body, head as top-level children."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.body = nn.Sequential(
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(16, 4)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(images)))


class TiedTransformer(nn.Module):
    """A language model on nn.TransformerEncoder with tied input/output embeddings.

    ``position`` is registered on the model itself, before any child.
    """

    def __init__(self, vocab: int = 50, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        self.position = nn.Parameter(torch.zeros(1, 8, width))
        self.embedding = nn.Embedding(vocab, width)
        block = nn.TransformerEncoderLayer(
            width, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(
            block, depth, norm=nn.LayerNorm(width), enable_nested_tensor=False
        )
        self.output = nn.Linear(width, vocab)
        self.output.weight = self.embedding.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden = self.embedding(tokens) + self.position[:, : tokens.shape[1]]
        return self.output(self.encoder(hidden))


class PartlyFrozen(nn.Module):
    """A model whose ``embed`` child is frozen and whose first linear is frozen."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 6)
        self.body = nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6), nn.Linear(6, 6))
        self.head = nn.Linear(6, 3)
        self.embed.weight.requires_grad_(False)
        self.body[0].weight.requires_grad_(False)
        self.body[0].bias.requires_grad_(False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.embed(tokens))).mean(dim=1)


class _SelfAttention(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)


class _AttentionOutput(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(width, width)
        self.LayerNorm = nn.LayerNorm(width)


class _Attention(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.self = _SelfAttention(width)
        self.output = _AttentionOutput(width)


class _Intermediate(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(width, 2 * width)


class _Output(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(2 * width, width)
        self.LayerNorm = nn.LayerNorm(width)


class _BertLayer(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.attention = _Attention(width)
        self.intermediate = _Intermediate(width)
        self.output = _Output(width)


class _Embeddings(nn.Module):
    def __init__(self, vocab: int, width: int) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, width)
        self.position_embeddings = nn.Embedding(16, width)
        self.LayerNorm = nn.LayerNorm(width)


class _Encoder(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_BertLayer(width) for _ in range(depth))


class TinyBert(nn.Module):
    """A BERT-shaped module tree: embeddings, encoder.layer.N, pooler, classifier.

    Parameter names follow Hugging Face's BERT; nothing is downloaded.
    """

    def __init__(self, vocab: int = 30, width: int = 8, depth: int = 4) -> None:
        super().__init__()
        self.embeddings = _Embeddings(vocab, width)
        self.encoder = _Encoder(width, depth)
        self.pooler = nn.Sequential(nn.Linear(width, width), nn.Tanh())
        self.classifier = nn.Linear(width, 2)


WIDTH = 4


@st.composite
def module_trees(draw: st.DrawFn, max_depth: int = 3) -> nn.Module:
    """A nested nn.Sequential of Linear, LayerNorm and Embedding leaves.

    Some parameters are frozen. Some leaves tie their weight to an earlier
    Linear or Embedding weight (all are WIDTH x WIDTH), and some reuse a whole
    earlier Linear module.
    """
    linears: list[nn.Linear] = []
    weights: list[nn.Parameter] = []

    def leaf() -> nn.Module:
        kind = draw(st.sampled_from(["linear", "norm", "embedding", "tied", "shared"]))
        if kind == "shared" and linears:
            return linears[draw(st.integers(0, len(linears) - 1))]
        if kind == "tied" and weights:
            tied = nn.Linear(WIDTH, WIDTH)
            tied.weight = weights[draw(st.integers(0, len(weights) - 1))]
            return tied
        if kind == "norm":
            return nn.LayerNorm(WIDTH)
        if kind == "embedding":
            embedding = nn.Embedding(WIDTH, WIDTH)
            weights.append(embedding.weight)
            return embedding
        linear = nn.Linear(WIDTH, WIDTH)
        linears.append(linear)
        weights.append(linear.weight)
        return linear

    def tree(depth: int) -> nn.Module:
        size = draw(st.integers(1, 4))
        children: list[nn.Module] = []
        for _ in range(size):
            nested = depth < max_depth and draw(st.booleans())
            children.append(tree(depth + 1) if nested else leaf())
        return nn.Sequential(*children)

    model = tree(0)
    for param in model.parameters():
        if draw(st.integers(0, 4)) == 0:
            param.requires_grad_(False)
    return model


def snapshot(model: nn.Module) -> dict[str, Any]:
    """Everything that building param groups must leave unchanged."""
    return {
        "names": [name for name, _ in model.named_parameters()],
        "ids": [id(param) for param in model.parameters()],
        "requires_grad": [param.requires_grad for param in model.parameters()],
        "values": [param.detach().clone() for param in model.parameters()],
        "training": [module.training for module in model.modules()],
    }


def same_snapshot(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Return whether two snapshots are equal, tensors compared exactly."""
    plain = ("names", "ids", "requires_grad", "training")
    if any(before[key] != after[key] for key in plain):
        return False
    pairs = zip(before["values"], after["values"], strict=True)
    return all(torch.equal(first, second) for first, second in pairs)
