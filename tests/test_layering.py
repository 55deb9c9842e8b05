"""Import direction between the package's parts: no module imports one above it in the flow.

The flow is  pattern → detection → coloring → differentiation → frontdoor → verify →
optimize → estimate → objectives, with the store beside it (store → pattern, never the
reverse) and the pipeline on top. Detection, coloring and differentiation work on flat
vectors and import nothing of the front door; ``optimize`` reaches differentiation only
through the front door's builders (no compressed-products or plan module of its own). The test reads
every module's source (imports inside functions included) rather than importing it, so an
import hidden in a function body counts as much as one at the top.

The one allowed upward edge: ``SparsityPattern.save/.load`` and ``ColoredPattern.save/.load``
keep the seed's API by delegating, with a function-level import, to
``asdex_pipe.store.records``, which owns the file format.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "asdex_pipe"

#: Modules everything may use: no package imports of their own beyond each other.
BASE = {
    "_version",
    "sorting",
    "display",
    "timing",
    "vocabulary",
    "fingerprint",
    "indices",
    "kernels",
}
LIBRARY = {
    "pattern",
    "detection",
    "coloring",
    "differentiation",
    "frontdoor",
    "verify",
    "optimize",
    "estimate",
}
#: Part -> the parts it may import (besides itself). A part not listed here fails the test:
#: place it in the flow before using it.
ALLOWED = {
    **{name: BASE for name in BASE},
    "pattern": {"display", "sorting", "indices"},
    "store": BASE | {"pattern"},
    "detection": BASE | {"pattern"},
    "coloring": BASE | {"pattern", "detection"},
    "differentiation": BASE | {"pattern", "detection", "coloring"},
    # The front door: every public entry point; it turns arguments into flat vectors.
    "frontdoor": BASE | {"pattern", "detection", "coloring", "differentiation"},
    "verify": BASE | LIBRARY - {"verify", "optimize", "estimate"},
    # Optimizers build derivatives through the front door (see the test below); a problem
    # may open an artifact store from its root.
    "optimize": BASE | LIBRARY - {"optimize", "estimate"} | {"store"},
    "estimate": BASE | LIBRARY - {"estimate"},
    "objectives": BASE | LIBRARY,
    "artifacts": BASE | {"pattern", "store"},
    "pipeline": None,  # the top: wires everything together
    "__init__": None,
    "__main__": None,
}
#: The documented delegation: (module, enclosing function, imported module).
DELEGATIONS = {
    ("asdex_pipe.pattern", "save", "asdex_pipe.store.records"),
    ("asdex_pipe.pattern", "load", "asdex_pipe.store.records"),
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(imported asdex_pipe module, enclosing function or None, line) for every import."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out: list[tuple[str, str | None, int]] = []

    def visit(node: ast.AST, func: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else func
            if isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                if child.module == "asdex_pipe":
                    out.extend((f"asdex_pipe.{a.name}", func, child.lineno) for a in child.names)
                elif child.module.startswith("asdex_pipe."):
                    # `from asdex_pipe.store import records` imports a module, not a name.
                    for a in child.names:
                        name = f"{child.module}.{a.name}"
                        out.append((name if _is_module(name) else child.module, func, child.lineno))
            elif isinstance(child, ast.Import):
                out.extend((a.name, func, child.lineno) for a in child.names if _ours(a.name))
            visit(child, inner)

    visit(tree, None)
    return out


def _ours(name: str) -> bool:
    return name == "asdex_pipe" or name.startswith("asdex_pipe.")


def _is_module(dotted: str) -> bool:
    rel = PACKAGE.joinpath(*dotted.split(".")[1:])
    return rel.with_suffix(".py").is_file() or (rel / "__init__.py").is_file()


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1] if len(parts) > 2 else [parts[0], "__init__"]
        out.append((".".join(parts), path))
    return out


def test_every_part_is_placed_in_the_flow():
    parts = {_part(m) for m, _ in _modules()}
    assert parts - set(ALLOWED) == set(), "place new modules in ALLOWED (tests/test_layering.py)"


def test_no_module_imports_one_above_it():
    bad = []
    for module, path in _modules():
        src = _part(module)
        allowed = ALLOWED.get(src)
        if allowed is None and src in ALLOWED:
            continue
        for target, func, line in _imports(path):
            dst = _part(target)
            if dst == src or dst in (allowed or set()):
                continue
            if (module, func, target) in DELEGATIONS:
                continue
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {src} imports {target}")
    assert bad == [], "\n".join(bad)


def test_the_core_reaches_the_store_only_through_the_documented_delegation():
    pattern = PACKAGE / "pattern.py"
    to_store = [(t, f) for t, f, _ in _imports(pattern) if _part(t) == "store"]
    # Both classes delegate save and load, and nothing else in pattern.py touches the store.
    assert sorted(to_store) == sorted(
        [("asdex_pipe.store.records", "save")] * 2 + [("asdex_pipe.store.records", "load")] * 2
    )


def test_the_checker_sees_function_level_imports(tmp_path):
    # The rule would be toothless if imports inside functions went unseen.
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from asdex_pipe.store import formats\n    return formats\n")
    assert _imports(src) == [("asdex_pipe.store.formats", "f", 2)]


#: The evaluation engine's modules: only the front door builds programs from them.
ENGINE = {"compress", "decompress", "substitution", "plans", "program", "formats", "blocks"}


def test_only_the_front_door_builds_compressed_programs():
    # One evaluation path: optimizers, verification and the rest use the front door's
    # builders (hessian_from_coloring, jacobian, ...), never the products or plans.
    bad = []
    for module, path in _modules():
        if _part(module) in ("differentiation", "frontdoor"):
            continue
        for target, _, line in _imports(path):
            parts = target.split(".")
            if parts[1:2] == ["differentiation"] and set(parts[2:3]) & ENGINE:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}")
    assert bad == [], "\n".join(bad)


def test_rules_reach_the_interpreter_only_through_the_context():
    # Rules recurse through ctx.eval_jaxpr and take conservative / is_float_aval from the
    # registry; importing the interpreter would tie every rule to its internals.
    rules = PACKAGE / "detection" / "rules"
    bad = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}"
        for path in sorted(rules.rglob("*.py"))
        for target, _, line in _imports(path)
        if target == "asdex_pipe.detection.interpreter"
    ]
    assert bad == [], "\n".join(bad)


def test_pipeline_schema_does_not_import_the_context():
    # The context imports the schema (JobSpec); what both need lives in pipeline/objective.py.
    schema = PACKAGE / "pipeline" / "schema.py"
    assert "asdex_pipe.pipeline.context" not in {t for t, _, _ in _imports(schema)}
