"""Build torch optimizer param groups by layer, with per-layer lr scales."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from torch import nn

from lrkit.adapters import _torch_split as split
from lrkit.adapters._torch_params import ParamRecord, collect_parameters
from lrkit.adapters._torch_scales import scale_rule, sequence
from lrkit.schedules import _validate as check

Group = dict[str, Any]

_UNMATCHED_SHOWN = 20


def param_groups(
    model: nn.Module,
    *,
    num_groups: int | None = None,
    prefixes: Sequence[str | Sequence[str]] | None = None,
    patterns: Sequence[str | re.Pattern[str]] | None = None,
    splitter: Callable[[nn.Module], Iterable[Any]] | None = None,
    blocks: str | None = None,
    lr: float | slice | None = None,
    layer_decay: float | None = None,
    lr_scales: Sequence[float] | None = None,
    weight_decay: float | None = None,
    decay_embeddings: bool = True,
    no_decay_patterns: Sequence[str | re.Pattern[str]] = (),
    include_frozen: bool = False,
    catch_all: bool = False,
) -> list[Group]:
    r"""Split a model into layer groups and return param groups for an optimizer.

    A layer group (a "layer") is a run of the model's parameters that shares
    one lr scale and is frozen as a unit. Layers are numbered from 0 at the
    input side. By default each top-level child of the model is a layer; at
    most one of these options chooses another split:

    - ``num_groups``: that many runs of roughly equal parameter count, in
      registration order, never splitting one module's own parameters;
    - ``prefixes``: one entry per layer, each a module or parameter name
      prefix or a list of them. Prefixes match whole dotted components, and
      the first entry that matches wins;
    - ``patterns``: one regex per layer, ``re.search``-ed in parameter names;
      the first that matches wins. A regex with a group gives one layer per
      captured value (timm's style: ``r"^stages\.(\d+)\."`` numbers each
      stage), in numeric order when the captures are numbers;
    - ``splitter``: ``splitter(model)`` returns the layers, each a module, a
      parameter or an iterable of them (fastai's splitter style);
    - ``blocks``: timm's layer ids for layer decay. The stem (parameters
      registered before the first block) is layer 0, block ``i`` of the stack
      is layer ``i + 1``, the rest is the head. ``blocks`` names the
      ModuleList or Sequential that holds the blocks (``"layers"`` in
      ``nn.TransformerEncoder``, ``"encoder.layer"`` in BERT-like models), or
      is ``"auto"`` for the container with the most children of one class.
      Only one stack is numbered, so models with several (ResNet stages, an
      encoder and a decoder) need ``patterns`` with one regex per stack.

    Inside each layer, parameters go to up to three sibling groups: weights
    (``weight_decay``, ``"weight_decay_scale"`` 1), then parameters exempt
    from decay (1-D ones, biases, embeddings when ``decay_embeddings`` is
    False, names matching ``no_decay_patterns``), then normalization-layer
    parameters (``"norm": True``), both with weight decay 0 and
    ``"weight_decay_scale"`` 0. Siblings share their layer's ``"layer"`` and
    ``"lr_scale"``; spreads, layer decay and freezing count layers only.

    Per-layer lr scale, with ``L`` layers and ``i`` from 0:

    - default: 1 everywhere;
    - ``lr=slice(lo, hi)`` (fastai's discriminative lrs): layer ``i`` trains
      at ``lr_i = lo * (hi / lo) ** (i / (L - 1))``, and the last at exactly
      ``hi``; ``lr=slice(hi)`` gives ``hi / 10`` to every layer but the last.
      Each group stores ``"lr": lr_i`` and ``"lr_scale": lr_i / hi``, so a
      plain optimizer trains at ``lr_i`` and a ``ParamScheduler``, which sets
      each group's lr to the scheduled lr times ``"lr_scale"``, gives the
      head the scheduled lr and keeps the ratios;
    - ``layer_decay=d`` (timm's layer-wise decay): ``d ** (L - 1 - i)``;
    - ``lr_scales``: one scale per layer.

    A float ``lr`` adds ``"lr": lr * lr_scale`` to each group.

    Every parameter that requires grad lands in exactly one group. A parameter
    shared by several modules belongs to the layer of its first name in
    ``model.named_parameters()`` (for tied input and output embeddings, the
    input embedding's layer), and every rule matches that name only.
    Parameters registered on the model itself (a ViT class token or position
    embedding) have no child to follow: the default split puts them in layer
    0, and a 2-D one there is decayed unless ``no_decay_patterns`` names it.
    Parameters with ``requires_grad=False`` are left out unless
    ``include_frozen`` is set; then a layer holding only frozen parameters
    joins the next layer that trains (the last, at the head end), so frozen
    parameters never add a level of layer decay. Building the groups never
    changes the model.

    Args:
        model: the model to split.
        num_groups: number of layers of similar parameter count (>= 1).
        prefixes: name prefixes, one entry (a string or list of strings) per
            layer.
        patterns: regexes (strings or compiled), one per layer.
        splitter: function from the model to its layers.
        blocks: name of the block stack, or ``"auto"``.
        lr: base learning rate, or a ``slice`` of lrs spread over layers.
        layer_decay: per-layer lr decay factor, in (0, 1].
        lr_scales: one lr scale (> 0) per layer.
        weight_decay: weight decay of the decayed groups (>= 0); None leaves
            the optimizer's default in those groups.
        decay_embeddings: False puts embedding weights in the no-decay group.
        no_decay_patterns: regexes; parameter names they ``search`` go to the
            no-decay group.
        include_frozen: include parameters with ``requires_grad=False``.
        catch_all: put parameters that no prefix, pattern or splitter layer
            claims into one more layer at the end, named ``"unmatched"``,
            instead of raising.

    Returns:
        Param groups in layer order, each a dict with ``"params"``,
        ``"name"``, ``"layer"``, ``"lr_scale"``, ``"weight_decay_scale"`` and
        ``"norm"``, plus ``"lr"`` when ``lr`` is given. Exempt and norm groups
        have ``"weight_decay"`` 0, and weight groups have it when
        ``weight_decay`` is given. A weight group is named after its layer
        (the child, prefix, pattern or block name, ``"stem"`` or ``"head"``),
        and its siblings add ``".no_decay"`` or ``".norm"``. A layer made of
        several merged layers joins their names with ``"+"``.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an argument is invalid, several split options are given,
            a rule matches no parameter, some parameters match no rule (the
            message lists them), ``lr_scales`` has the wrong length, or no
            parameter requires grad.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(
        ...     torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
        ... )
        >>> groups = param_groups(model, lr=slice(1e-4, 1e-2))
        >>> for group in groups:
        ...     print(group["name"], group["layer"], group["lr_scale"], group["lr"])
        0 0 0.01 0.0001
        0.no_decay 0 0.01 0.0001
        2 1 1.0 0.01
        2.no_decay 1 1.0 0.01
        >>> optimizer = torch.optim.AdamW(groups)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_split_options(num_groups, prefixes, patterns, splitter, blocks)
    prefix_groups = _prefix_groups(prefixes)
    compiled = _compile_patterns("patterns", patterns)
    spread = scale_rule(lr, layer_decay, lr_scales)
    decay = (
        None
        if weight_decay is None
        else check.non_negative("weight_decay", weight_decay)
    )
    check.boolean("decay_embeddings", decay_embeddings)
    exempt = _compile_patterns("no_decay_patterns", no_decay_patterns) or []
    check.boolean("include_frozen", include_frozen)
    check.boolean("catch_all", catch_all)

    records = collect_parameters(model)
    included = [include_frozen or record.trainable for record in records]
    if num_groups is not None:
        layer_names, assignment = split.split_by_count(records, included, num_groups)
    elif prefix_groups is not None:
        layer_names, assignment = split.split_by_prefixes(records, prefix_groups)
    elif compiled is not None:
        layer_names, assignment = split.split_by_patterns(records, compiled)
    elif splitter is not None:
        layer_names, assignment = split.split_by_function(model, records, splitter)
    elif blocks is not None:
        container = (
            split.find_block_stack(model, records) if blocks == "auto" else blocks
        )
        layer_names, assignment = split.split_by_blocks(model, records, container)
    else:
        layer_names, assignment = split.split_by_children(model, records)

    layers = _layers(records, included, layer_names, assignment, catch_all)
    scales = spread(len(layers))
    groups: list[Group] = []
    for layer, (name, members) in enumerate(layers):
        kinds = _sort_by_kind(records, members, decay_embeddings, exempt)
        for kind, params in zip(_KINDS, kinds, strict=True):
            if params:
                groups.append(_group(name, kind, layer, params, scales[layer], decay))
    return groups


_KINDS = ("decay", "no_decay", "norm")


def _group(
    layer_name: str,
    kind: str,
    layer: int,
    params: list[nn.Parameter],
    scale: tuple[float, float | None],
    weight_decay: float | None,
) -> Group:
    lr_scale, lr = scale
    group: Group = {
        "params": params,
        "name": layer_name if kind == "decay" else f"{layer_name}.{kind}",
        "layer": layer,
        "lr_scale": lr_scale,
        "weight_decay_scale": 1.0 if kind == "decay" else 0.0,
        "norm": kind == "norm",
    }
    if lr is not None:
        group["lr"] = lr
    if kind != "decay":
        group["weight_decay"] = 0.0
    elif weight_decay is not None:
        group["weight_decay"] = weight_decay
    return group


def _sort_by_kind(
    records: Sequence[ParamRecord],
    members: Sequence[int],
    decay_embeddings: bool,
    exempt: Sequence[re.Pattern[str]],
) -> tuple[list[nn.Parameter], list[nn.Parameter], list[nn.Parameter]]:
    decayed: list[nn.Parameter] = []
    undecayed: list[nn.Parameter] = []
    norm: list[nn.Parameter] = []
    for index in members:
        record = records[index]
        if record.norm:
            norm.append(record.param)
        elif (
            record.param.ndim <= 1
            or record.name.rpartition(".")[2] == "bias"
            or (record.embedding and not decay_embeddings)
            or (exempt and any(pattern.search(record.name) for pattern in exempt))
        ):
            undecayed.append(record.param)
        else:
            decayed.append(record.param)
    return decayed, undecayed, norm


def _layers(
    records: Sequence[ParamRecord],
    included: Sequence[bool],
    names: Sequence[str],
    assignment: Sequence[int | None],
    catch_all: bool,
) -> list[tuple[str, list[int]]]:
    """Group included records by layer, then drop empty layers and merge frozen.

    A layer whose included parameters are all frozen joins the next layer that
    has a trainable one, or the last such layer when none follows.
    """
    members: list[list[int]] = [[] for _ in names]
    unmatched: list[int] = []
    for index, layer in enumerate(assignment):
        if not included[index]:
            continue
        if layer is None:
            unmatched.append(index)
        else:
            members[layer].append(index)
    named = list(zip(names, members, strict=True))
    if unmatched:
        if not catch_all:
            raise ValueError(_unmatched_message(records, unmatched))
        named.append(("unmatched", unmatched))

    layers: list[tuple[str, list[int]]] = []
    waiting_names: list[str] = []
    waiting: list[int] = []
    for name, indices in named:
        if not indices:
            continue
        waiting_names.append(name)
        waiting.extend(indices)
        if any(records[index].trainable for index in indices):
            merged = sorted(waiting) if len(waiting_names) > 1 else waiting
            layers.append(("+".join(waiting_names), merged))
            waiting_names, waiting = [], []
    if not layers:
        raise ValueError(
            "model has no parameter with requires_grad=True; build the groups "
            "before freezing layers, and freeze them with freeze_to"
        )
    if waiting:
        last_name, last = layers[-1]
        layers[-1] = ("+".join([last_name, *waiting_names]), sorted(last + waiting))
    return layers


def _unmatched_message(records: Sequence[ParamRecord], unmatched: list[int]) -> str:
    shown = ", ".join(records[index].name for index in unmatched[:_UNMATCHED_SHOWN])
    more = len(unmatched) - _UNMATCHED_SHOWN
    if more > 0:
        shown += f", and {more} more"
    return (
        f"{len(unmatched)} parameters match no layer rule: {shown}; add a rule "
        f"for them or pass catch_all=True"
    )


def _check_split_options(
    num_groups: Any, prefixes: Any, patterns: Any, splitter: Any, blocks: Any
) -> None:
    given = {
        "num_groups": num_groups,
        "prefixes": prefixes,
        "patterns": patterns,
        "splitter": splitter,
        "blocks": blocks,
    }
    chosen = [name for name, value in given.items() if value is not None]
    if len(chosen) > 1:
        raise ValueError(
            f"pass at most one of num_groups, prefixes, patterns, splitter and "
            f"blocks, got {', '.join(chosen)}"
        )
    if num_groups is not None:
        check.integer("num_groups", num_groups, minimum=1)
    if splitter is not None and not callable(splitter):
        raise TypeError(
            f"splitter must be callable, got {splitter!r} ({type(splitter).__name__})"
        )
    if blocks is not None and not isinstance(blocks, str):
        raise TypeError(
            f"blocks must be a module name or 'auto', got {blocks!r} "
            f"({type(blocks).__name__})"
        )


def _prefix_groups(prefixes: Any) -> list[tuple[str, ...]] | None:
    if prefixes is None:
        return None
    entries = sequence("prefixes", prefixes)
    if not entries:
        raise ValueError("prefixes must name at least one layer, got []")
    groups: list[tuple[str, ...]] = []
    for layer, entry in enumerate(entries):
        group = (
            [entry] if isinstance(entry, str) else sequence(f"prefixes[{layer}]", entry)
        )
        for prefix in group:
            if not isinstance(prefix, str) or not prefix:
                raise ValueError(
                    f"prefixes[{layer}] must hold non-empty name prefixes, "
                    f"got {prefix!r}"
                )
        if not group:
            raise ValueError(f"prefixes[{layer}] must not be empty, got {entry!r}")
        groups.append(tuple(group))
    return groups


def _compile_patterns(parameter: str, patterns: Any) -> list[re.Pattern[str]] | None:
    if patterns is None:
        return None
    entries = sequence(parameter, patterns)
    if parameter == "patterns" and not entries:
        raise ValueError("patterns must name at least one layer, got []")
    compiled: list[re.Pattern[str]] = []
    for position, entry in enumerate(entries):
        if isinstance(entry, re.Pattern):
            compiled.append(entry)
            continue
        if not isinstance(entry, str):
            raise TypeError(
                f"{parameter}[{position}] must be a regex string or re.Pattern, "
                f"got {entry!r} ({type(entry).__name__})"
            )
        try:
            compiled.append(re.compile(entry))
        except re.error as error:
            raise ValueError(
                f"{parameter}[{position}] is not a valid regex ({error}), got {entry!r}"
            ) from error
    return compiled
