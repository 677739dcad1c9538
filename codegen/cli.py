"""Command line: ``python -m codegen`` builds, ``--check`` reports drift."""

import argparse
import sys
import time
from pathlib import Path

from codegen.build import build
from codegen.model import Activation
from codegen.spec import SpecError
from codegen.write import changes, replace_generated

EPILOG = """\
examples:
  python -m codegen            regenerate generated/ from specs/
  python -m codegen --check    exit 1 and list the files a build would change
  python -m codegen --no-cache rebuild every spec, not only the changed ones
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m codegen",
        description="Generate JAX activation functions with closed-form custom_jvp rules.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if generated/ is stale"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="derive every spec again, ignoring the cache"
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (default: .)")
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root.resolve()
    start = time.perf_counter()
    say = (lambda a: None) if args.check else (lambda a: print(f"  {_signature(a)}"))
    try:
        activations, files = build(root, progress=say, cached=not args.no_cache)
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        print("generated/ was not touched.", file=sys.stderr)
        return 2
    stale = changes(root, files)
    if args.check:
        for path in stale:
            print(f"would change: {path}")
        print(
            f"{len(stale)} of the generated files are out of date."
            if stale
            else "generated/ is current."
        )
        return 1 if stale else 0
    if stale:
        replace_generated(root, files)
    seconds = time.perf_counter() - start
    summary = f"{len(activations)} activations, {len(files)} files, {len(stale)} changed"
    print(f"{summary} in {seconds:.1f} s.")
    return 0
