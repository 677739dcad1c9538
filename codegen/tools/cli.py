"""Command line: ``symjvp`` or ``python -m codegen``.

With no verb it builds the project's package from its specs; ``--check``
reports drift.  The verbs new, show, list and docs help write and inspect
specs.  Only argparse is imported until a verb runs, so ``--help`` is quick.
"""

import argparse
import os
import sys
from pathlib import Path

from codegen.analysis.budget import SECONDS  # a small module: no SymPy yet

EPILOG = """\
examples:
  symjvp                       regenerate the package (generated/) from the specs (specs/)
  symjvp --check               exit 1 and list the files a build would change
  symjvp --specs acts --out src/mypkg/activations
  symjvp new bent --expression "x + (sqrt(x**2 + 1) - 1)/2"
  symjvp new myswish --from silu
  symjvp show silu             formulas, derivatives, stable forms and code
  symjvp list --catalogue      every activation symjvp ships, its parameters and jax.nn match
  symjvp docs                  write docs/activations.md and its plots

The folders default to [tool.symjvp] specs and out in ./pyproject.toml, else
specs/ and generated/. Each verb has its own --help.
"""

_VERBS = {
    "build": (
        "regenerate the package from the specs (the default)",
        "  symjvp build\n  symjvp build --check\n  symjvp build --no-cache",
    ),
    "new": (
        "write a commented spec file to start from",
        '  symjvp new bent --expression "x + (sqrt(x**2 + 1) - 1)/2"\n'
        '  symjvp new scaled_elu --expression "Piecewise((x, x > 0), (a*expm1(x), True))" '
        "--param a=1.5 --learnable a\n"
        '  symjvp new myswiglu --expression "x*sigmoid(x)*gate" --input gate\n'
        "  symjvp new myswish --from silu\n\n"
        "Parameters are the names other than x; declare each with --param, or\n"
        "with --input if it is an array (a gate).",
    ),
    "show": ("print an activation's formulas, derivatives and code", "  symjvp show silu"),
    "list": (
        "list the activations, their parameters and jax.nn matches",
        "  symjvp list\n  symjvp list --catalogue",
    ),
    "docs": (
        "write docs/activations.md and its plots (matplotlib: the plot extra)",
        "  symjvp docs",
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symjvp",
        description="Generate JAX activation functions with closed-form custom_jvp rules.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _build_options(parser, suppress=False)
    verbs = parser.add_subparsers(dest="verb", title="verbs", metavar="VERB")
    sub = {
        name: verbs.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"examples:\n{examples}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for name, (summary, examples) in _VERBS.items()
    }
    _build_options(sub["build"], suppress=True)
    _new_options(sub["new"])
    sub["show"].add_argument("name", help="an activation's name or alias")
    for name in ("show", "list"):
        sub[name].add_argument(
            "--catalogue", action="store_true", help="symjvp's own activations, not the project's"
        )
    for name in ("new", "show", "list", "docs"):
        _layout_options(sub[name], suppress=True)
    return parser


def _new_options(new: argparse.ArgumentParser) -> None:
    new.add_argument("name", help="the activation's name, a Python identifier")
    new.add_argument("--expression", help="the formula in x, in SymPy syntax")
    new.add_argument("--from", dest="source", metavar="NAME", help="start from a catalogue spec")
    new.add_argument(
        "--param", action="append", default=[], metavar="NAME=DEFAULT", help="a parameter"
    )
    new.add_argument(
        "--learnable", action="append", default=[], metavar="NAME", help="a parameter Flax learns"
    )
    new.add_argument(
        "--input", action="append", default=[], metavar="NAME", help="an array input after x"
    )
    new.add_argument("--domain", metavar="LOW,HIGH", help="where the formula is defined")
    new.add_argument("--alias", action="append", default=[], help="another exported name")
    new.add_argument("--summary", help="the docstring's first line")
    new.add_argument("--description", default="", help="a paragraph for the docstring")
    new.add_argument("--jax-nn", default="", help="the jax.nn function it matches, if any")


def _build_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    flag = argparse.SUPPRESS if suppress else False
    for name, text in [
        ("--check", "write nothing; exit 1 if stale"),
        ("--no-cache", "derive every spec again, and write no cache"),
        ("--force", "overwrite files edited by hand"),
        ("--debug", "show the traceback of a failure"),
    ]:
        parser.add_argument(name, action="store_true", default=flag, help=text)
    parser.add_argument(
        "--residual",
        choices=("auto", "output", "derivative"),
        default=argparse.SUPPRESS if suppress else None,
        help="what backward passes keep, for specs that leave it at auto: y, wherever"
        " dy/dx is a function of it (less memory), or dy/dx (accurate everywhere)",
    )
    parser.add_argument(
        "--accuracy",
        choices=("standard", "strict"),
        default=argparse.SUPPRESS if suppress else None,
        help="strict adds Taylor polynomials about the roots of f and f' to every spec:"
        " accurate there, at the cost of a polynomial per element in the gradient",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=argparse.SUPPRESS if suppress else SECONDS,
        metavar="SECONDS",
        help=f"most time to analyse one spec (default {SECONDS:g})",
    )
    _layout_options(parser, suppress)


def _layout_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--root",
        type=Path,
        default=argparse.SUPPRESS if suppress else Path.cwd(),
        help="project folder, where pyproject.toml is (default: .)",
    )
    parser.add_argument(
        "--specs",
        type=Path,
        default=default,
        metavar="DIR",
        help="the spec files' folder (default: specs)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=default,
        metavar="DIR",
        help="the generated package's folder (default: generated)",
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from codegen.tools import commands

        return commands.run(args)
    except BrokenPipeError:  # symjvp show silu | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run() -> None:
    """The ``symjvp`` console script."""
    sys.exit(main())
