"""Freeze and unfreeze layer groups in place, with fastai's semantics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from lrkit.schedules import _validate as check


def freeze_to(
    optimizer_or_groups: torch.optim.Optimizer | Sequence[Mapping[str, Any]],
    n: int,
    *,
    train_bn: bool = True,
) -> None:
    """Stop training every layer group before layer ``n``; train the others.

    Works on the groups that ``param_groups`` built (their ``"layer"`` and
    ``"norm"`` keys), given as the list itself or as the optimizer built from
    it. Parameters of layers ``0 .. n - 1`` get ``requires_grad=False`` and
    their ``.grad`` set to None, so that no optimizer applies a stale gradient
    or weight decay to them. Every other parameter in the groups gets
    ``requires_grad=True``. A negative ``n`` counts from the end, as in fastai:
    ``freeze_to(groups, -1)`` trains the last layer only. With ``train_bn``,
    groups marked ``"norm": True`` (normalization layers) keep training in
    frozen layers, as fastai's ``train_bn`` does. Freezing never stops batch
    norm layers from updating their running statistics in train mode.

    The optimizer keeps its groups and its state (moments and step counts), so
    training resumes where it stopped when a layer is unfrozen. fastai clears
    the state instead.

    Parameters that ``param_groups`` left out because they were frozen when
    the groups were built are in no group, so freezing and unfreezing never
    touch them: they stay frozen. Groups built with ``include_frozen=True``
    hold them, and then ``unfreeze`` trains them too.

    Args:
        optimizer_or_groups: a torch optimizer, or a list of param-group dicts,
            each with ``"params"`` and an integer ``"layer"``.
        n: number of layers to freeze, from ``-(L - 1)`` to ``L`` for ``L``
            layers. 0 unfreezes everything, ``L`` freezes every layer.
        train_bn: keep training normalization-layer parameters when their layer
            is frozen.

    Raises:
        TypeError: an argument has the wrong type, or a group has no integer
            ``"layer"``.
        ValueError: ``n`` is out of range. Nothing changes when it raises.

    Example:
        >>> import torch
        >>> from lrkit.adapters.torch import param_groups
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))
        >>> optimizer = torch.optim.SGD(param_groups(model), lr=0.1)
        >>> freeze_to(optimizer, -1)
        >>> [p.requires_grad for p in model.parameters()]
        [False, False, True, True]
    """
    groups = _groups(optimizer_or_groups)
    layers = _layer_count(groups)
    count = check.integer("n", n)
    check.boolean("train_bn", train_bn)
    if not -layers < count <= layers:
        raise ValueError(
            f"n must be in [{1 - layers}, {layers}] for {layers} layer groups "
            f"(a negative n counts from the end and must leave a layer frozen), "
            f"got {count}"
        )

    first_trained = count if count >= 0 else layers + count
    for group in groups:
        frozen = group["layer"] < first_trained
        if frozen and train_bn and group.get("norm", False):
            frozen = False
        for param in group["params"]:
            param.requires_grad_(not frozen)
            if frozen:
                param.grad = None


def freeze(
    optimizer_or_groups: torch.optim.Optimizer | Sequence[Mapping[str, Any]],
    *,
    train_bn: bool = True,
) -> None:
    """Train the last layer group only: ``freeze_to(optimizer_or_groups, -1)``.

    Raises:
        ValueError: there is a single layer group, so nothing would be frozen.
    """
    freeze_to(optimizer_or_groups, -1, train_bn=train_bn)


def unfreeze(
    optimizer_or_groups: torch.optim.Optimizer | Sequence[Mapping[str, Any]],
) -> None:
    """Train every parameter in the groups: ``freeze_to(optimizer_or_groups, 0)``."""
    freeze_to(optimizer_or_groups, 0)


def _groups(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, torch.optim.Optimizer):
        return list(value.param_groups)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TypeError(
            f"optimizer_or_groups must be a torch optimizer or a list of param "
            f"groups, got {type(value).__name__}"
        )
    return list(value)


def _layer_count(groups: Sequence[Mapping[str, Any]]) -> int:
    if not groups:
        raise ValueError("optimizer_or_groups must hold at least one group, got []")
    highest = 0
    for position, group in enumerate(groups):
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(
                f"optimizer_or_groups[{position}] must be a param-group dict with "
                f"'params', got {type(group).__name__}"
            )
        layer = group.get("layer")
        if isinstance(layer, bool) or not isinstance(layer, int) or layer < 0:
            raise TypeError(
                f"optimizer_or_groups[{position}] must have an integer 'layer' "
                f">= 0, as param_groups builds them, got {layer!r}"
            )
        highest = max(highest, layer)
    return highest + 1
