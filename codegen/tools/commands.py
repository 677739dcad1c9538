"""What each ``symjvp`` verb does; cli.py parses the command line."""

import difflib
import sys
import time

from codegen.analysis.model import Activation, AxisActivation
from codegen.build import cache
from codegen.build.layout import Layout, find_layout
from codegen.build.pipeline import build, build_file, checked_specs, load_specs, module_path
from codegen.build.write import changes, edited_files, replace_generated
from codegen.spec.load import SpecError
from codegen.tools import catalogue, scaffold
from codegen.tools.describe import listing, show
from codegen.tools.docs import PAGE, page_text, write_docs


def run(args) -> int:
    """Run the verb ``args`` names; a bad spec or flag is a message and exit 2."""
    verb = {"build": _build, "new": _new, "show": _show, "list": _list, "docs": _docs}
    try:
        layout = find_layout(args.root, args.specs, args.out)
        return verb[args.verb or "build"](args, layout)
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.verb in (None, "build"):
            print("Nothing was written.", file=sys.stderr)
        return 2


def _build(args, layout: Layout) -> int:
    if not layout.spec_paths():
        print(
            f"error: no spec files in {layout.specs_name}/. Write one with\n"
            '  symjvp new myact --expression "x*sigmoid(x)"\n'
            "or start from one of symjvp's own: symjvp new myswish --from silu"
            " (symjvp list --catalogue lists them).",
            file=sys.stderr,
        )
        return 2
    start = time.perf_counter()
    count, files, page = _outputs(layout, args)
    stale = changes(layout, files)
    docs = [PAGE] if page is not None and (layout.root / PAGE).read_text("utf-8") != page else []
    edited = edited_files(layout, stale)
    if args.check:
        for path in stale:
            print(f"would change: {path}{' (edited by hand)' if path in edited else ''}")
        for path in docs:
            print(f"would change: {path} (run `symjvp docs`)")
        print(f"{layout.out_name}/ is current." if not stale + docs else "Out of date; run symjvp.")
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
        replace_generated(layout, files)
    seconds = time.perf_counter() - start
    print(f"{count} activations, {len(files)} files, {len(stale)} changed in {seconds:.1f} s.")
    print(f"Import them with: import {layout.package}")
    if docs:  # a build writes nothing outside its package
        print(f"{PAGE} is out of date: run `symjvp docs`.")
    return 0


def _outputs(layout: Layout, args) -> tuple[int, dict[str, str], str | None]:
    """How many activations, every generated file, and docs/activations.md's
    text if the project keeps one.  Unchanged specs, generator and accuracy
    report give the last build's outputs, from the cache: no SymPy at all."""
    specs = load_specs(layout, args.residual, args.accuracy)
    accuracy = layout.root / "docs" / "accuracy.md"
    keeps_page = (layout.root / PAGE).exists()
    report = accuracy.read_text(encoding="utf-8") if keeps_page and accuracy.exists() else ""
    name = cache.key(*specs, layout.out_name, keeps_page, report)
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
        layout,
        progress=progress,
        cached=not args.no_cache,
        seconds=args.budget,
        debug=args.debug,
        residual=args.residual,
        accuracy=args.accuracy,
    )
    page = page_text(layout.root, activations) if keeps_page else None
    if not args.no_cache:
        cache.store({name: (files, page)})
    return len(activations), files, page


def _new(args, layout: Layout) -> int:
    try:
        if args.source:
            text = scaffold.text_from(args.source, args.name)
        else:
            if not args.expression:
                raise ValueError("give the formula with --expression, or start --from a spec")
            draft = scaffold.Draft(
                name=args.name,
                expression=args.expression,
                params=[scaffold.parse_param(p) for p in args.param],
                summary=args.summary or "",
                description=args.description,
                jax_nn=args.jax_nn,
                learnable=args.learnable,
                inputs=args.input,
                domain=scaffold.parse_domain(args.domain) if args.domain else None,
                aliases=args.alias,
            )
            scaffold.check_flags(draft)
            text = scaffold.spec_text(draft, layout)
        try:
            path = scaffold.new_spec(layout, args.name, text)
        except SpecError as error:
            if args.source or error.path == layout.relative(layout.specs / f"{args.name}.toml"):
                raise
            raise scaffold.as_flag_error(error) from None
    except (ValueError, FileExistsError) as error:
        print(f"error: {error}\nNothing was written.", file=sys.stderr)
        return 2
    print(f"wrote {layout.relative(path)}; run `symjvp` to generate it.")
    return 0


def _show(args, layout: Layout) -> int:
    """The project's activation ``args.name``, else the catalogue's."""
    activations: list[Activation | AxisActivation] = []
    files: dict[str, str] = {}
    if not args.catalogue and layout.spec_paths():
        activations, files = build(layout)
    found = {n: a for a in activations for n in (a.spec.name, *a.spec.aliases)}
    source = catalogue.spec_file(args.name)
    if args.name not in found and source is not None:  # one of symjvp's: build just that one
        layout = catalogue.layout()
        activation, text = build_file(layout, source)
        found, files = {args.name: activation}, {module_path(activation, layout): text}
    if args.name not in found:
        names = list(found) or [p.stem for p in catalogue.layout().spec_paths()]
        close = difflib.get_close_matches(args.name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; `symjvp list` lists them."
        print(f"error: no activation named {args.name!r}{hint}", file=sys.stderr)
        return 2
    activation = found[args.name]
    path = module_path(activation, layout)
    print(show(activation, path, files[path]))
    return 0


def _list(args, layout: Layout) -> int:
    import jax.nn

    # The specs alone, checked: listing derives nothing, a second for the catalogue.
    own = not args.catalogue and layout.spec_paths()
    specs = checked_specs(layout if own else catalogue.layout())
    if not args.catalogue and not own:
        print(f"No spec files in {layout.specs_name}/; symjvp's own activations:\n")
    print(listing(sorted(specs, key=lambda s: s.name), set(dir(jax.nn))))
    return 0


def _docs(args, layout: Layout) -> int:
    activations, _ = build(layout)
    written, missing = write_docs(layout.root, activations)
    for path in written:
        print(f"wrote {layout.relative(path)}")
    if missing:
        print(f"No plots: {missing} The page links none.")
    return 0


def _signature(activation) -> str:
    spec = activation.spec
    args = [*spec.inputs, *(f"{p.name}={p.default!r}" for p in spec.keywords)]
    if spec.axis:
        overrides = [f"{name}=None" for _, name in spec.axis.overrides]
        args = [spec.axis.input, f"axis={spec.axis.default!r}", *overrides, *args[1:]]
    if spec.switch:
        args.append(f"{spec.switch.name}={spec.switch.default!r}")
    aliases = f"  (alias {', '.join(spec.aliases)})" if spec.aliases else ""
    return f"{spec.name}({', '.join(args)}){aliases}"
