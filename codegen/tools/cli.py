"""Command line: ``symjvp`` or ``python -m codegen``.

With no verb it builds generated/ from specs/; ``--check`` reports drift.
The verbs new, show, list and docs help write and inspect specs.
"""

import argparse
import difflib
import sys
import time
from pathlib import Path

from codegen.analysis.budget import SECONDS
from codegen.analysis.model import Activation
from codegen.build import cache
from codegen.build.pipeline import build, module_path, spec_paths
from codegen.build.write import changes, edited_files, replace_generated
from codegen.spec.load import SpecError, load_spec
from codegen.tools.describe import catalogue, show
from codegen.tools.docs import PAGE, page_text, write_docs
from codegen.tools.scaffold import new_spec, parse_param, spec_text

EPILOG = """\
examples:
  symjvp                       regenerate generated/ from specs/ (python -m codegen)
  symjvp --check               exit 1 and list the files a build would change
  symjvp --force               rebuild, discarding hand edits to generated files
  symjvp new bent --expression "x + (sqrt(x**2 + 1) - 1)/2"
  symjvp show silu             formulas, derivatives, stable forms and code
  symjvp list                  every activation, its parameters and jax.nn match
  symjvp docs                  write docs/activations.md and its plots

Each verb has its own --help.
"""

_VERBS = {
    "build": (
        "regenerate generated/ from specs/ (the default)",
        "  symjvp build\n  symjvp build --check\n  symjvp build --no-cache",
    ),
    "new": (
        "write a commented specs/NAME.toml to start from",
        '  symjvp new bent --expression "x + (sqrt(x**2 + 1) - 1)/2"\n'
        '  symjvp new scaled_elu --expression "Piecewise((x, x > 0), (a*expm1(x), True))" '
        "--param a=1.5\n\nParameters are the names other than x; declare each with --param.",
    ),
    "show": ("print an activation's formulas, derivatives and code", "  symjvp show silu"),
    "list": ("list the activations, their parameters and jax.nn matches", "  symjvp list"),
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
    _build_options(parser, Path.cwd())
    verbs = parser.add_subparsers(dest="verb", title="verbs", metavar="VERB")
    subparsers = {}
    for name, (summary, examples) in _VERBS.items():
        subparsers[name] = verbs.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"examples:\n{examples}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    _build_options(subparsers["build"], argparse.SUPPRESS)
    new = subparsers["new"]
    new.add_argument("name", help="the activation's name, a Python identifier")
    new.add_argument("--expression", required=True, help="the formula in x, in SymPy syntax")
    new.add_argument(
        "--param", action="append", default=[], metavar="NAME=DEFAULT", help="a parameter"
    )
    new.add_argument("--summary", help="the docstring's first line")
    new.add_argument("--jax-nn", default="", help="the jax.nn function it matches, if any")
    subparsers["show"].add_argument("name", help="an activation's name or alias")
    for name in ("new", "show", "list", "docs"):
        subparsers[name].add_argument(
            "--root", type=Path, default=argparse.SUPPRESS, help="project root (default: .)"
        )
    return parser


def _build_options(parser: argparse.ArgumentParser, root_default) -> None:
    suppress = root_default is argparse.SUPPRESS
    flag = argparse.SUPPRESS if suppress else False
    parser.add_argument(
        "--check", action="store_true", default=flag, help="write nothing; exit 1 if stale"
    )
    parser.add_argument(
        "--no-cache", action="store_true", default=flag, help="derive every spec again"
    )
    parser.add_argument(
        "--force", action="store_true", default=flag, help="overwrite files edited by hand"
    )
    parser.add_argument(
        "--debug", action="store_true", default=flag, help="show the traceback of a failure"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=argparse.SUPPRESS if suppress else SECONDS,
        metavar="SECONDS",
        help=f"most time to analyse one spec (default {SECONDS:g})",
    )
    parser.add_argument("--root", type=Path, default=root_default, help="project root")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root.resolve()
    verb = {"build": _build, "new": _new, "show": _show, "list": _list, "docs": _docs}
    try:
        return verb[args.verb or "build"](args, root)
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.verb in (None, "build"):
            print("generated/ was not touched.", file=sys.stderr)
        return 2


def run() -> None:
    """The ``symjvp`` console script."""
    sys.exit(main())


def _build(args, root: Path) -> int:
    start = time.perf_counter()
    count, files, page = _outputs(root, args)
    stale = changes(root, files)
    docs = [PAGE] if page is not None and (root / PAGE).read_text(encoding="utf-8") != page else []
    edited = edited_files(root, stale)
    if args.check:
        for path in stale:
            print(f"would change: {path}{' (edited by hand)' if path in edited else ''}")
        for path in docs:
            print(f"would change: {path} (run `symjvp docs`)")
        print("generated/ is current." if not stale + docs else "Out of date; run symjvp.")
        return 1 if stale or docs else 0
    if edited and not args.force:
        for path in edited:
            print(
                f"error: {path} was edited by hand, and a build would replace it.", file=sys.stderr
            )
        print(
            "Make the change in the spec or the generator, or rerun with --force to discard"
            " it. Nothing was written.",
            file=sys.stderr,
        )
        return 2
    if stale:
        replace_generated(root, files)
    seconds = time.perf_counter() - start
    summary = f"{count} activations, {len(files)} files, {len(stale)} changed"
    print(f"{summary} in {seconds:.1f} s.")
    if docs:  # a build writes nothing outside generated/
        print(f"{PAGE} is out of date: run `symjvp docs`.")
    return 0


def _outputs(root: Path, args) -> tuple[int, dict[str, str], str | None]:
    """How many activations, every generated file, and docs/activations.md's
    text if the project keeps one.  Unchanged specs, generator and accuracy
    report give the last build's outputs, from the cache: no SymPy at all."""
    specs = [load_spec(p, root) for p in spec_paths(root)]
    accuracy = root / "docs" / "accuracy.md"
    keeps_page = (root / PAGE).exists()
    report = accuracy.read_text(encoding="utf-8") if keeps_page and accuracy.exists() else ""
    name = cache.key(*specs, keeps_page, report)
    found = None if args.no_cache else cache.load(name)
    if found is not None:
        return len(specs), *found
    done = []

    def progress(activation) -> None:
        done.append(activation)
        print(f"  [{len(done)}/{len(specs)}] {_signature(activation)}", flush=True)
        if activation.spec.domain_inferred:
            low, high = activation.spec.domain
            print(f"        real only on [{low:g}, {high:g}]: sampled there; a domain line sets it")

    activations, files = build(
        root, progress=progress, cached=not args.no_cache, seconds=args.budget, debug=args.debug
    )
    page = page_text(root, activations) if keeps_page else None
    cache.store({name: (files, page)})
    return len(activations), files, page


def _new(args, root: Path) -> int:
    try:
        params = [parse_param(p) for p in args.param]
        summary = args.summary or f"The {args.name} activation function."
        text = spec_text(args.name, args.expression, params, summary, args.jax_nn)
        path = new_spec(root, args.name, text)
    except (ValueError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 2
    print(f"wrote {path.relative_to(root)}; run `symjvp` to generate it.")
    return 0


def _show(args, root: Path) -> int:
    activations, files = build(root)
    found = {a.spec.name: a for a in activations}
    found.update({alias: a for a in activations for alias in a.spec.aliases})
    if args.name not in found:
        close = difflib.get_close_matches(args.name, found, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; `symjvp list` lists them."
        print(f"error: no activation named {args.name!r}{hint}", file=sys.stderr)
        return 2
    activation = found[args.name]
    path = module_path(activation)
    print(show(activation, path, files[path]))
    return 0


def _list(args, root: Path) -> int:
    import jax.nn

    activations, _ = build(root)
    print(catalogue(activations, set(dir(jax.nn))))
    return 0


def _docs(args, root: Path) -> int:
    activations, _ = build(root)
    written = write_docs(root, activations)
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    if len(written) == 1:
        print("No plots: matplotlib is not installed (pip install -e '.[plot]').")
    return 0


def _signature(activation: Activation) -> str:
    spec = activation.spec
    args = ["x", *(f"{p.name}={p.default!r}" for p in spec.params)]
    if spec.axis:
        overrides = [f"{name}=None" for _, name in spec.axis.overrides]
        args = [spec.axis.input, f"axis={spec.axis.default!r}", *overrides, *args[1:]]
    if spec.switch:
        args.append(f"{spec.switch.name}={spec.switch.default!r}")
    aliases = f"  (alias {', '.join(spec.aliases)})" if spec.aliases else ""
    return f"{spec.name}({', '.join(args)}){aliases}"
