"""``python -m asdex_pipe --help``: every config group and key, one line each.

Built from the ``conf/`` YAML files (their comments are the descriptions, their file names
the options) and from the vocabulary and schema (the allowed values), so the help cannot
drift from what the pipeline accepts. Reading YAML comments needs no Hydra and no JAX work.
"""

from __future__ import annotations

from pathlib import Path

_WIDTH = 30  # column of the descriptions
_MAX_TEXT = 150  # one line each: longer comments are cut
#: Descriptions of keys whose YAML line has no comment of its own.
_FALLBACK = {
    "coloring.postprocess": "true | false. Drop colors no product needs after coloring.",
    "objective.input_shape": "input shape, e.g. [1000] or [64,64] (n=1000 for 1-D objectives)",
    "evaluate.dense_max_n": "largest n for the dense jax.hessian timing (skipped above)",
    "evaluate.gtol": "the optimizers' gradient-norm tolerance",
    "evaluate.max_iter": "the optimizers' iteration limit",
}


def _comment_blocks(path: Path, has_header: bool) -> tuple[str, dict[str, str]]:
    """``(file comment, {key: the comment lines just above it})`` of a flat YAML file.

    With ``has_header`` (a group option such as ``objective/rosenbrock.yaml``), the comment
    block at the top describes the option, not its first key.
    """
    header = ""
    keys: dict[str, str] = {}
    pending: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if line.startswith("#"):
            pending.append(line.lstrip("#").strip())
            continue
        if not line.strip():
            continue
        if line[0] in " \t-":  # nested content (hydra:, defaults:)
            pending = []
            continue
        key = line.split(":", 1)[0].strip()
        if has_header and not keys and not header:
            header, pending = " ".join(pending), []
        keys[key] = " ".join(pending)
        pending = []
    return header, keys


def _line(name: str, text: str, allowed: tuple[str, ...] = ()) -> str:
    """One line: the name, then the allowed values (unless the text lists them) and text."""
    if allowed and not all(a in text for a in allowed):
        text = f"{' | '.join(allowed)}. {text}".strip()
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 1].rstrip() + "…"
    return f"  {name:<{_WIDTH}} {text}".rstrip()


def help_text(conf: str | Path | None = None) -> str:
    """The help: usage, the groups with their options, the keys with their allowed values."""
    from asdex_pipe.pipeline.cli import config_dir
    from asdex_pipe.pipeline.schema import DTYPES, OPTIMIZERS, STAGES, VERIFY_METHODS
    from asdex_pipe.vocabulary import ALGORITHMS, HVP_MODES, ORDERS

    root = Path(conf or config_dir())
    allowed = {
        "mode": HVP_MODES,
        "stages": STAGES,
        "dtype": DTYPES,
        "coloring.order": ORDERS,
        "verify.method": VERIFY_METHODS,
        "evaluate.optimizer": OPTIMIZERS,
    }
    out = [
        "python -m asdex_pipe [group=option ...] [key=value ...]   run the pipeline",
        "python -m asdex_pipe -m key=a,b ...                       sweep (Hydra multirun)",
        "python -m asdex_pipe.artifacts list|find|rm|du|clean     see into the store",
        "",
        "Stages run in the order " + " -> ".join(STAGES) + "; stages=[...] picks a subset.",
    ]
    _, top = _comment_blocks(root / "config.yaml", has_header=False)
    groups = sorted(p for p in root.iterdir() if p.is_dir())
    for group in groups:
        options = sorted(group.glob("*.yaml"))
        choices = len(options) > 1
        out += [
            "",
            f"{group.name}=OPTION, one of:" if choices else f"{group.name}.* keys:",
        ]
        if choices:
            for option in options:
                header, _ = _comment_blocks(option, has_header=True)
                out.append(_line(option.stem, header))
        if group.name == "coloring":
            out.append(_line("", f"(algorithms: {', '.join(ALGORITHMS)})"))
        # The keys of the group's default (or only) file, e.g. verify.method.
        default = group / "default.yaml"
        if not default.exists():
            default = options[0] if options else None
        if default is None:
            continue
        _, keys = _comment_blocks(default, has_header=choices)
        if group.name == "coloring":
            keys.pop("algorithm", None)
        for key, text in keys.items():
            if group.name == "objective" and key != "input_shape":
                continue
            dotted = f"{group.name}.{key}"
            text = text or _FALLBACK.get(dotted, "")
            out.append(_line(dotted, text, allowed.get(dotted, ())))
        if group.name == "objective":
            out += [
                _line("objective.fn", "module:function, your own objective (scalar-valued)"),
                _line("objective.inputs", "module:make_inputs returning sample (args, kwargs)"),
                _line("objective.argnums / has_aux", "which arguments to differentiate; aux"),
            ]
    out += ["", "top-level keys:"]
    for key, text in top.items():
        if key in ("defaults", "hydra"):
            continue
        out.append(_line(key, text, allowed.get(key, ())))
    out += [
        "",
        "Hydra's own options (hydra.run.dir=..., hydra/launcher=...): --hydra-help",
    ]
    return "\n".join(out)
