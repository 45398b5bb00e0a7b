"""The ``lrkit`` command: print a schedule as CSV, or plot it to a PNG file.

Usage::

    lrkit table RECIPE [--PARAM VALUE ...] [--length N] [--at STEP,STEP,...]
    lrkit plot RECIPE [--PARAM VALUE ...] [--length N] --out FILE.png

RECIPE is a schedule builder's name in kebab case (``one-cycle``,
``torch-one-cycle``, ``cosine``, ...) and the options are its parameters in
kebab case (``--max-lr 0.1``). Lists are comma-separated (``--momentum
0.95,0.85``), and an optional value can be ``none``. The suffix of ``--out``
picks the image format (``.png``, ``.svg``, ``.pdf``, ...), PNG without one.
Errors exit with status 2 after a usage line and one ``lrkit: error:`` line,
and a failed write of the table exits with status 1 after one error line. The
command imports numpy and, for ``plot`` only, matplotlib; it never imports
torch.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from lrkit._recipes import Recipe, recipes
from lrkit.schedules import Schedule

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_COMMANDS = {
    "table": "print the schedule as CSV: a step column, then one per hyperparameter",
    "plot": "draw the schedule to an image file (PNG, SVG, PDF, ...)",
}

_SHORT_USAGE = "usage: lrkit {table,plot} RECIPE [--PARAM VALUE ...]"


class _UsageError(Exception):
    """A bad command line: reported as a usage line and one error line."""


class _OutputError(Exception):
    """A failed write of the table to stdout, such as on a full disk."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one short usage line and one error."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


_NAME_WIDTH = 24
"""Recipe names up to this width share a line with their summary in --help."""


def _plain(text: str) -> str:
    """Drop reStructuredText code markup from docstring text for the terminal."""
    return text.replace("``", "")


def _recipe_list(table: dict[str, Recipe]) -> str:
    lines = ["recipes:"]
    for name, recipe in table.items():
        summary = _plain(recipe.summary)
        if len(name) <= _NAME_WIDTH:
            lines.append(f"  {name:<{_NAME_WIDTH}}  {summary}")
        else:
            lines.append(f"  {name}")
            lines.append(f"  {'':<{_NAME_WIDTH}}  {summary}")
    return "\n".join(lines)


def _show_default(value: Any) -> str:
    """Write a default the way the option takes it on the command line."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(_show_default(item) for item in value)
    return str(value)


def _main_help(table: dict[str, Recipe]) -> str:
    commands = "\n".join(f"  {name:<6} {text}" for name, text in _COMMANDS.items())
    return (
        f"{_SHORT_USAGE}\n\n"
        "Print or plot an lrkit schedule without training.\n\n"
        f"commands:\n{commands}\n\n"
        f"{_recipe_list(table)}\n\n"
        "Run 'lrkit table RECIPE --help' for a recipe's parameters.\n"
    )


def _steps_list(text: str) -> list[int]:
    try:
        steps = [int(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid step list: {text!r} (expected integers like 0,10,99)"
        ) from None
    negative = [step for step in steps if step < 0]
    if negative:
        raise argparse.ArgumentTypeError(f"steps must be >= 0, got {negative[0]}")
    return steps


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _recipe_parser(command: str, recipe: Recipe) -> _Parser:
    parser = _Parser(
        prog=f"lrkit {command} {recipe.name}",
        description=_plain(recipe.summary),
        argument_default=argparse.SUPPRESS,
        allow_abbrev=False,
    )
    group = parser.add_argument_group(f"{recipe.name} parameters")
    for option in recipe.options:
        text = _plain(option.help or option.name)
        if option.required:
            text += " Required."
        else:
            text += f" Default: {_show_default(option.default)}."
        flag_like: dict[str, Any] = {}
        if option.metavar == "BOOL":
            flag_like = {"nargs": "?", "const": True}
        group.add_argument(
            option.flag,
            dest=option.name,
            type=option.parse,
            metavar=option.metavar,
            required=option.required,
            help=text,
            **flag_like,
        )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--length",
        type=_positive_int,
        metavar="N",
        help="number of steps to show (default: the schedule's length; "
        "required when it has no end)",
    )
    if command == "table":
        output.add_argument(
            "--at",
            type=_steps_list,
            metavar="STEPS",
            help="print only these comma-separated steps, such as 0,10,99",
        )
    else:
        output.add_argument(
            "--out",
            required=True,
            metavar="FILE",
            help="the image file to write; its suffix picks the format (.png, "
            ".svg, .pdf, ...), PNG when it has none",
        )
    return parser


def _length(
    schedules: dict[str, Schedule], length_option: int | None, recipe: str
) -> int:
    if length_option is not None:
        return length_option
    lengths = [s.length for s in schedules.values() if s.length is not None]
    if not lengths:
        raise _UsageError(f"recipe {recipe} has no end; pass --length N")
    return max(lengths)


def _write_table(
    schedules: dict[str, Schedule], steps: Sequence[int], stream: Any
) -> None:
    # Schedules compute on float64 steps, so converting here changes no value
    # and also takes steps beyond int64, as a Python int step does.
    step_array = np.asarray(steps, dtype=np.float64)
    columns = [schedule(step_array) for schedule in schedules.values()]
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["step", *schedules])
    for row, step in enumerate(steps):
        writer.writerow([step, *(repr(float(column[row])) for column in columns)])


_TITLE_WIDTH = 70
"""Characters per line of a plot's title: about what a 7-inch figure fits."""


def _plot_figure(
    recipe: str, options: list[str], schedules: dict[str, Schedule], length: int
) -> Figure:
    """Draw the schedules under a title that repeats the recipe and its options."""
    try:
        from lrkit.plot import plot_schedules
    except ImportError as error:
        raise _UsageError(
            f"plot needs matplotlib ({error}); install it with pip install "
            "'lrkit[plot]'"
        ) from None
    figure = plot_schedules(schedules, steps=length)
    title = " ".join([recipe, *options])
    lines = textwrap.wrap(title, _TITLE_WIDTH, break_on_hyphens=False)
    figure.suptitle("\n".join(lines), fontsize="medium")
    return figure


def _write_plot(figure: Figure, out: str) -> None:
    suffix = os.path.splitext(out)[1].lstrip(".").lower()
    try:
        # Without a suffix, matplotlib would use its savefig.format setting.
        figure.savefig(out, format=suffix or "png")
    except (OSError, ValueError) as error:
        raise _UsageError(f"cannot write --out {out!r}: {error}") from None


def _run(argv: list[str]) -> int:
    table = recipes()
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(_main_help(table))
        return 0
    command, *rest = argv
    if command not in _COMMANDS:
        raise _UsageError(f"unknown command {command!r}; choose table or plot")
    if not rest or rest[0] in ("-h", "--help"):
        sys.stdout.write(f"usage: lrkit {command} RECIPE [--PARAM VALUE ...]\n\n")
        sys.stdout.write(f"{_recipe_list(table)}\n")
        return 0
    name, *options = rest
    if name not in table:
        raise _UsageError(f"unknown recipe {name!r}; run 'lrkit --help' for the list")

    recipe = table[name]
    arguments = vars(_recipe_parser(command, recipe).parse_args(options))
    length = arguments.pop("length", None)
    at = arguments.pop("at", None)
    out = arguments.pop("out", None)
    shown_options = _without_out(options)
    try:
        schedules = recipe.build(arguments)
    except (ValueError, TypeError) as error:
        raise _UsageError(_name_flag(recipe, str(error))) from None

    if command == "table":
        steps = at if at is not None else range(_length(schedules, length, name))
        try:
            _write_table(schedules, list(steps), sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise _OutputError(f"cannot write the table: {error}") from None
    else:
        plot_length = _length(schedules, length, name)
        figure = _plot_figure(name, shown_options, schedules, plot_length)
        _write_plot(figure, out)
    return 0


def _name_flag(recipe: Recipe, message: str) -> str:
    """Prefix a builder's error with the option it is about, as argparse does.

    Builder messages start with the parameter's Python name (``max_lr must
    be > 0``); the user typed ``--max-lr``, so name that flag too.
    """
    for option in sorted(recipe.options, key=lambda item: -len(item.name)):
        rest = message[len(option.name) :]
        if message.startswith(option.name) and not rest[:1].isidentifier():
            return f"argument {option.flag}: {message}"
    return message


def _without_out(options: list[str]) -> list[str]:
    """Return the options without ``--out FILE``, which does not change the curve."""
    shown = []
    skip_next = False
    for option in options:
        if skip_next:
            skip_next = False
        elif option == "--out":
            skip_next = True
        elif not option.startswith("--out="):
            shown.append(option)
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lrkit`` command and return its exit status.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 2 for a bad command line or a bad parameter value, 1
        when writing the table to stdout fails.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(arguments)
    except _UsageError as error:
        usage = _SHORT_USAGE
        known = len(arguments) >= 2 and arguments[0] in _COMMANDS
        if known and arguments[1] in recipes():
            usage = f"usage: lrkit {arguments[0]} {arguments[1]} [--PARAM VALUE ...]"
        sys.stderr.write(f"{usage}\nlrkit: error: {error}\n")
        return 2
    except BrokenPipeError:
        # The reader (such as head) closed the pipe early, which is not an
        # error. Point stdout at devnull so that the flush at exit succeeds.
        _discard_stdout()
        return 0
    except _OutputError as error:
        _discard_stdout()
        sys.stderr.write(f"lrkit: error: {error}\n")
        return 1


def _discard_stdout() -> None:
    """Point stdout at devnull, so that the flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
