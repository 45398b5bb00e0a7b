"""Split a torch model's parameters into ordered layer groups.

Every split works on the model's parameters in ``model.named_parameters()``
order (module registration order, input side first), and names each parameter
by its first path in that order. A parameter shared by several modules (tied
embeddings) is therefore seen once, under the name of its first owner.

Each split returns the layer names and, for every parameter record, the index
of its layer or None when no rule matched it. Runtime is linear in the number
of parameter tensors, times the number of rules for ``patterns``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from lrkit.adapters._torch_params import ParamRecord

Split = tuple[list[str], list[int | None]]


def split_by_children(model: nn.Module, records: Sequence[ParamRecord]) -> Split:
    """Give each top-level child its own layer, in registration order.

    Parameters registered on the model itself (a class token, say) join the
    first layer. A model without children is one layer named after its class.
    """
    names: list[str] = []
    layer_of_child: dict[str, int] = {}
    assignment: list[int | None] = []
    for record in records:
        child, dot, _ = record.name.partition(".")
        if not dot:
            assignment.append(0)
            continue
        if child not in layer_of_child:
            layer_of_child[child] = len(names)
            names.append(child)
        assignment.append(layer_of_child[child])

    if not names:
        names.append(type(model).__name__)
    return names, assignment


def split_by_count(
    records: Sequence[ParamRecord], included: Sequence[bool], num_groups: int
) -> Split:
    """Cut the included parameters into ``num_groups`` runs of similar size.

    The unit is one module's own parameters, so a weight and its bias stay
    together. A unit goes to the run in which the middle of its elements falls,
    moved just enough that every run gets at least one unit.

    Raises:
        ValueError: fewer modules with included parameters than ``num_groups``.
    """
    units: list[list[int]] = []
    sizes: list[int] = []
    last_owner: str | None = None
    for index, record in enumerate(records):
        if not included[index]:
            continue
        owner = record.name.rpartition(".")[0]
        if owner != last_owner:
            units.append([])
            sizes.append(0)
            last_owner = owner
        units[-1].append(index)
        sizes[-1] += record.param.numel()
    if len(units) < num_groups:
        raise ValueError(
            f"num_groups must be at most the number of modules with parameters "
            f"to split ({len(units)}), got {num_groups}"
        )

    total = max(sum(sizes), 1)
    assignment: list[int | None] = [None] * len(records)
    names: list[list[str]] = [[] for _ in range(num_groups)]
    layer = 0
    elements_before = 0
    for position, (unit, size) in enumerate(zip(units, sizes, strict=True)):
        middle = min(
            int(num_groups * (elements_before + size / 2) / total), num_groups - 1
        )
        earliest = num_groups - (len(units) - position)
        latest = min(layer + 1, position)
        layer = max(min(middle, latest), earliest, layer)
        elements_before += size
        names[layer].append(records[unit[0]].name.rpartition(".")[0])
        for index in unit:
            assignment[index] = layer
    return [_span_name(owners) for owners in names], assignment


def _span_name(owners: list[str]) -> str:
    first = owners[0] or "(model)"
    last = owners[-1] or "(model)"
    return first if first == last else f"{first}..{last}"


def split_by_prefixes(
    records: Sequence[ParamRecord], prefixes: Sequence[tuple[str, ...]]
) -> Split:
    """Put a parameter in the first layer with a prefix of its dotted name.

    A prefix matches whole name components: ``encoder.layer.1`` matches
    ``encoder.layer.1.output.dense.weight`` but not ``encoder.layer.10.*``.
    A prefix may also be a parameter's full name.

    Raises:
        ValueError: a prefix matches no parameter that an earlier prefix left
            unmatched.
    """
    first_layer: dict[str, int] = {}
    for layer, group in enumerate(prefixes):
        for prefix in group:
            first_layer.setdefault(prefix, layer)

    used: set[str] = set()
    assignment: list[int | None] = []
    for record in records:
        best: int | None = None
        best_prefix = ""
        parts = record.name.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            match = first_layer.get(candidate)
            if match is not None and (best is None or match < best):
                best, best_prefix = match, candidate
        if best is not None:
            used.add(best_prefix)
        assignment.append(best)

    for layer, group in enumerate(prefixes):
        for prefix in group:
            if prefix not in used:
                raise ValueError(
                    f"prefixes[{layer}] matches no parameter name that an earlier "
                    f"prefix left unmatched, got {prefix!r}"
                )
    return ["+".join(group) for group in prefixes], assignment


def split_by_patterns(
    records: Sequence[ParamRecord], patterns: Sequence[re.Pattern[str]]
) -> Split:
    r"""Put a parameter in the layer of the first regex that ``search``es its name.

    A pattern without groups is one layer. A pattern with a group is one layer
    per distinct text its first group captures, as in timm's group matchers:
    ``r"^blocks\.(\d+)\."`` gives a layer per block. These layers come in
    numeric order when every capture is a number, else in registration order,
    and are named by the parameter name up to the end of the capture.

    Raises:
        ValueError: a pattern matches no parameter that an earlier pattern left
            unmatched.
    """
    keys: list[tuple[int, str | None] | None] = []
    names_by_key: dict[tuple[int, str | None], str] = {}
    for record in records:
        key: tuple[int, str | None] | None = None
        for rule, pattern in enumerate(patterns):
            found = pattern.search(record.name)
            if found is None:
                continue
            captured = found.group(1) if pattern.groups else None
            key = (rule, captured)
            if key not in names_by_key:
                end = found.end(1) if captured is not None else -1
                names_by_key[key] = record.name[:end] if end >= 0 else pattern.pattern
            break
        keys.append(key)

    layer_of_key: dict[tuple[int, str | None], int] = {}
    for rule, pattern in enumerate(patterns):
        captures = [key[1] for key in names_by_key if key[0] == rule]
        if not captures:
            raise ValueError(
                f"patterns[{rule}] matches no parameter name that an earlier "
                f"pattern left unmatched, got {pattern.pattern!r}"
            )
        for captured in _capture_order(captures):
            layer_of_key[(rule, captured)] = len(layer_of_key)

    names = [names_by_key[key] for key in layer_of_key]
    assignment = [None if key is None else layer_of_key[key] for key in keys]
    return names, assignment


def _capture_order(captures: list[str | None]) -> list[str | None]:
    """Sort captures numerically when all are numbers; None comes first."""
    texts = [text for text in captures if text is not None]
    if all(text.isdecimal() for text in texts):
        texts.sort(key=int)
    return ([None] if None in captures else []) + texts


def split_by_function(
    model: nn.Module,
    records: Sequence[ParamRecord],
    splitter: Callable[[nn.Module], Iterable[Any]],
) -> Split:
    """Use the layers that ``splitter(model)`` returns, as fastai's splitters do.

    Each layer is a module, a parameter, or an iterable of modules and
    parameters. A parameter listed in several layers stays in the first.

    Raises:
        TypeError: the result or one of its items has the wrong type.
        ValueError: a returned parameter is not a parameter of ``model``.
    """
    result = splitter(model)
    if isinstance(result, (nn.Module, torch.Tensor)) or not isinstance(
        result, Iterable
    ):
        raise TypeError(
            f"splitter must return an iterable of layers, got {type(result).__name__}"
        )

    position = {id(record.param): index for index, record in enumerate(records)}
    module_names = {id(module): name for name, module in model.named_modules()}
    names: list[str] = []
    assignment: list[int | None] = [None] * len(records)
    for layer, group in enumerate(result):
        items = _layer_items(layer, group)
        for param in _layer_parameters(layer, items):
            index = position.get(id(param))
            if index is None:
                raise ValueError(
                    f"splitter returned, in layer {layer}, a parameter of shape "
                    f"{tuple(param.shape)} that is not a parameter of the model"
                )
            if assignment[index] is None:
                assignment[index] = layer
        single = items[0] if len(items) == 1 else None
        if isinstance(single, nn.Module) and id(single) in module_names:
            names.append(module_names[id(single)] or "(model)")
        else:
            names.append(f"layer{layer}")
    return names, assignment


def _layer_items(layer: int, group: Any) -> list[Any]:
    if isinstance(group, (nn.Module, torch.Tensor)):
        return [group]
    if not isinstance(group, Iterable):
        raise TypeError(
            f"splitter returned layer {layer} as {type(group).__name__}; expected "
            f"a module, a parameter, or an iterable of them"
        )
    return list(group)


def _layer_parameters(layer: int, items: Iterable[Any]) -> Iterable[torch.Tensor]:
    for item in items:
        if isinstance(item, nn.Module):
            yield from item.parameters()
        elif isinstance(item, torch.Tensor):
            yield item
        else:
            raise TypeError(
                f"splitter returned, in layer {layer}, an item of type "
                f"{type(item).__name__}; expected a module or a parameter"
            )


def find_block_stack(model: nn.Module, records: Sequence[ParamRecord]) -> str:
    """Return the name of the ModuleList or Sequential with the most blocks.

    The blocks of a container are its children of its most common class among
    those that hold parameters, so that a stack of 12 encoder layers wins over
    a Sequential of an embedding, an encoder and a head. Ties go to the first
    container in registration order.

    Raises:
        ValueError: the model has no ModuleList or Sequential with parameters.
    """
    owners: set[str] = set()
    for record in records:
        name = record.name
        while "." in name:
            name = name.rpartition(".")[0]
            owners.add(name)

    best_name: str | None = None
    best_count = 0
    for name, module in model.named_modules():
        if not isinstance(module, (nn.ModuleList, nn.Sequential)):
            continue
        prefix = f"{name}." if name else ""
        classes = Counter(
            type(child)
            for child_name, child in module._modules.items()
            if prefix + child_name in owners
        )
        count = max(classes.values(), default=0)
        if count > best_count:
            best_name, best_count = name, count
    if best_name is None:
        raise ValueError(
            "blocks='auto' found no nn.ModuleList or nn.Sequential of blocks with "
            "parameters in the model; pass the container's name, such as "
            "blocks='encoder.layer'"
        )
    return best_name


def split_by_blocks(
    model: nn.Module, records: Sequence[ParamRecord], container: str
) -> Split:
    """Number layers as timm does: stem 0, each block in order, head last.

    Parameters before the first block parameter (in registration order) form
    the stem; parameters outside the stack after it form the head.

    Raises:
        ValueError: ``container`` names no ModuleList or Sequential of the model.
    """
    stack = dict(model.named_modules()).get(container)
    if not isinstance(stack, (nn.ModuleList, nn.Sequential)):
        found = "nothing" if stack is None else type(stack).__name__
        raise ValueError(
            f"blocks must name an nn.ModuleList or nn.Sequential in the model, "
            f"got {container!r}, which is {found}"
        )

    block_names = [name for name, _ in stack.named_children()]
    block_layer = {name: layer + 1 for layer, name in enumerate(block_names)}
    head = len(block_names) + 1
    prefix = f"{container}." if container else ""
    assignment: list[int | None] = []
    past_stem = False
    for record in records:
        if record.name.startswith(prefix):
            block = record.name[len(prefix) :].partition(".")[0]
            if block in block_layer:
                past_stem = True
                assignment.append(block_layer[block])
                continue
        assignment.append(head if past_stem else 0)

    names = ["stem", *(prefix + name for name in block_names), "head"]
    return names, assignment
