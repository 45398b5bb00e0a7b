"""The recipe table behind the ``lrkit`` command, read from the builders themselves.

A recipe is a public builder in ``lrkit.schedules.__all__`` (a lowercase
callable) whose parameters are plain values: numbers, bools, strings, or lists
of numbers. Its name is the builder's name in kebab case, and its options are
the builder's parameter names in kebab case, parsed by their annotations and
documented by the builder's ``Args:`` section. Builders that take schedules
(``join``, ``warmup``, ``scale``, ...) are combinators, not recipes.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import lrkit.schedules
from lrkit.schedules import Schedule

Parser = Callable[[str], Any]

_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
_NONE = "none"


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer value: {text!r}") from None


def _parse_bool(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise argparse.ArgumentTypeError(
        f"invalid bool value: {text!r} (use true or false)"
    )


def _parse_str(text: str) -> str:
    return text


_SCALARS: dict[str, tuple[Parser, str]] = {
    "float": (_parse_float, "FLOAT"),
    "int": (_parse_int, "INT"),
    "bool": (_parse_bool, "BOOL"),
    "str": (_parse_str, "TEXT"),
}

_SEQUENCE = re.compile(r"^(Sequence|list|tuple)\[(\w+)(, \.\.\.|(, \w+)*)\]$")


def _list_parser(element: Parser, as_tuple: bool) -> Parser:
    def parse(text: str) -> Any:
        items = [element(item.strip()) for item in text.split(",")]
        return tuple(items) if as_tuple else items

    return parse


def _optional_parser(inner: Parser) -> Parser:
    def parse(text: str) -> Any:
        return None if text.lower() == _NONE else inner(text)

    return parse


def parser_for(annotation: str) -> tuple[Parser, str] | None:
    """Return a parser and a metavar for an annotation string, or None.

    Handles ``float``, ``int``, ``bool``, ``str``, a list, sequence or tuple
    of one of those (written comma-separated), and any of them ``| None``
    (written ``none``). Returns None for anything else.
    """
    parts = [part.strip() for part in annotation.split("|")]
    optional = "None" in parts
    parts = [part for part in parts if part != "None"]
    if len(parts) != 1:
        return None
    base = parts[0]

    if base in _SCALARS:
        parse, metavar = _SCALARS[base]
    else:
        match = _SEQUENCE.match(base)
        if match is None or match.group(2) not in _SCALARS:
            return None
        element, element_metavar = _SCALARS[match.group(2)]
        parse = _list_parser(element, as_tuple=match.group(1) == "tuple")
        metavar = f"{element_metavar},..."
    if optional:
        return _optional_parser(parse), f"{metavar}|none"
    return parse, metavar


def _kebab(name: str) -> str:
    return name.replace("_", "-")


_SECTION = re.compile(r"^(Args|Arguments|Returns|Raises|Example|Examples|Note)s?:$")


def argument_help(docstring: str) -> dict[str, str]:
    """Return each parameter's text from a Google-style ``Args:`` section."""
    texts: dict[str, str] = {}
    inside = False
    current = None
    for line in docstring.splitlines():
        stripped = line.strip()
        if _SECTION.match(stripped):
            inside = stripped == "Args:"
            current = None
            continue
        if not inside or not stripped:
            continue
        entry = re.match(r"^    (\w+): (.*)$", line)
        if entry is not None:
            current = entry.group(1)
            texts[current] = entry.group(2)
        elif current is not None and line.startswith("        "):
            texts[current] += " " + stripped
    return texts


@dataclass(frozen=True)
class Option:
    """One builder parameter offered as a command-line option."""

    name: str
    flag: str
    parse: Parser
    metavar: str
    required: bool
    default: Any
    help: str


@dataclass(frozen=True)
class Recipe:
    """A builder offered as a recipe, with its options in signature order."""

    name: str
    builder: Callable[..., Any]
    summary: str
    options: tuple[Option, ...]

    def build(self, arguments: Mapping[str, Any]) -> dict[str, Schedule]:
        """Call the builder and return its schedules by hyperparameter.

        A builder returning one schedule gives ``{"lr": schedule}``.

        Raises:
            ValueError, TypeError: from the builder, for a bad argument.
        """
        result = self.builder(**arguments)
        if isinstance(result, Schedule):
            return {"lr": result}
        return dict(result)


def _option(parameter: inspect.Parameter, texts: dict[str, str]) -> Option | None:
    annotation = parameter.annotation
    if not isinstance(annotation, str):
        annotation = getattr(annotation, "__name__", str(annotation))
    found = parser_for(annotation)
    if found is None:
        return None
    parse, metavar = found
    required = parameter.default is inspect.Parameter.empty
    return Option(
        name=parameter.name,
        flag="--" + _kebab(parameter.name),
        parse=parse,
        metavar=metavar,
        required=required,
        default=None if required else parameter.default,
        help=texts.get(parameter.name, ""),
    )


def _recipe(name: str, builder: Callable[..., Any]) -> Recipe | None:
    """Return the recipe for a builder, or None when it is not one.

    A builder is not a recipe when it takes a schedule, or when a required
    parameter has a type that ``parser_for`` cannot parse.
    """
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):
        return None
    docstring = inspect.getdoc(builder) or ""
    texts = argument_help(docstring)
    options = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if "Schedule" in str(parameter.annotation):
            return None
        option = _option(parameter, texts)
        if option is None and parameter.default is inspect.Parameter.empty:
            return None
        if option is not None:
            options.append(option)
    summary = docstring.splitlines()[0] if docstring else ""
    return Recipe(_kebab(name), builder, summary, tuple(options))


def recipes() -> dict[str, Recipe]:
    """Return every recipe by kebab-case name, in ``__all__`` order.

    Parameters of a type the command cannot parse keep their defaults; a
    builder with such a required parameter is left out.
    """
    table: dict[str, Recipe] = {}
    for name in lrkit.schedules.__all__:
        builder = getattr(lrkit.schedules, name)
        if not name[0].islower() or not callable(builder):
            continue
        recipe = _recipe(name, builder)
        if recipe is not None:
            table[recipe.name] = recipe
    return table
