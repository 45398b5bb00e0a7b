"""Collect a torch model's parameters with what decides their param group."""

from __future__ import annotations

import re
from dataclasses import dataclass

from torch import nn

# _NormBase is the torch base of every BatchNorm, SyncBatchNorm and InstanceNorm
# class, lazy ones included.
_NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.RMSNorm,
    nn.LocalResponseNorm,
)
# Norm classes outside torch (BertLayerNorm, LlamaRMSNorm, T5LayerNorm) are
# recognised by their class name.
_NORM_CLASS_NAME = re.compile(r"Norm(\d[dD])?$")
_EMBEDDING_TYPES: tuple[type[nn.Module], ...] = (nn.Embedding, nn.EmbeddingBag)


@dataclass(slots=True)
class ParamRecord:
    """One parameter tensor of the model, with what decides its group."""

    name: str
    param: nn.Parameter
    trainable: bool
    norm: bool
    embedding: bool


def is_norm_module(module: nn.Module) -> bool:
    """Return whether ``module`` is a normalization layer."""
    if isinstance(module, _NORM_TYPES):
        return True
    return _NORM_CLASS_NAME.search(type(module).__name__) is not None


def collect_parameters(model: nn.Module) -> list[ParamRecord]:
    """List every parameter tensor once, in ``model.named_parameters()`` order.

    A tensor owned by several modules is a norm (or embedding) parameter when
    any of its owners is a norm (or embedding) layer.
    """
    records: list[ParamRecord] = []
    position: dict[int, int] = {}
    norm_by_type: dict[type[nn.Module], bool] = {}
    for module_name, module in model.named_modules():
        module_type = type(module)
        norm = norm_by_type.get(module_type)
        if norm is None:
            norm = norm_by_type[module_type] = is_norm_module(module)
        embedding = isinstance(module, _EMBEDDING_TYPES)
        prefix = f"{module_name}." if module_name else ""
        # named_parameters(recurse=False) reads _parameters too, but builds a
        # chain of generators per module, which dominates on large models.
        for local_name, param in module._parameters.items():
            if param is None:
                continue
            seen = position.get(id(param))
            if seen is not None:
                records[seen].norm |= norm
                records[seen].embedding |= embedding
                continue
            position[id(param)] = len(records)
            records.append(
                ParamRecord(
                    prefix + local_name, param, param.requires_grad, norm, embedding
                )
            )
    return records
