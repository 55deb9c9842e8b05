"""The zoo's detected patterns, digested, with the DETECTOR_VERSION that produced them.

``tests/detection/zoo_snapshot.json`` holds one digest per zoo case (the sha256 of the
pattern's shape and its sorted COO indices). ``test_snapshot.py`` recomputes them: a
pattern that changes while ``DETECTOR_VERSION`` stays the same fails the test, so every
change of a detected pattern comes with a version bump (artifact keys depend on it). The
same file is checked under every supported JAX, which makes it the test that the zoo's
patterns are identical across JAX versions.

After a deliberate change, bump ``DETECTOR_VERSION`` in ``asdex_pipe/detection/api.py``
and regenerate with::

    python -m tests.detection.snapshot --update
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection import DETECTOR_VERSION, UnknownPrimitiveWarning
from asdex_pipe.pattern import SparsityPattern
from tests.zoo import ZOO, ZooCase

SNAPSHOT = Path(__file__).with_name("zoo_snapshot.json")
UPDATE_COMMAND = "python -m tests.detection.snapshot --update"


def digest(pattern: SparsityPattern) -> str:
    """sha256 hex digest of ``pattern``'s shape and its row-major sorted (row, col) pairs.

    Args:
        pattern: an (m, n) sparsity pattern.
    """
    rows = np.asarray(pattern.rows, dtype=np.int64)
    cols = np.asarray(pattern.cols, dtype=np.int64)
    order = np.lexsort((cols, rows))
    h = hashlib.sha256(f"{pattern.shape[0]}x{pattern.shape[1]}:".encode())
    h.update(rows[order].astype("<i8").tobytes())
    h.update(cols[order].astype("<i8").tobytes())
    return h.hexdigest()


def detect(case: ZooCase) -> SparsityPattern:
    """The case's detected pattern: the Hessian's for scalar cases, else the Jacobian's."""
    return (hessian_sparsity if case.scalar else jacobian_sparsity)(case.f, case.input_shape)


# Case name -> its detected pattern, or the exception its detection raised.
_DETECTED: dict[str, SparsityPattern | Exception] = {}


def detect_once(case: ZooCase) -> SparsityPattern:
    """:func:`detect`, run once per process for each case, with ``UnknownPrimitiveWarning``
    as an error (a conservative fallback is never a pattern to check or record).

    ``test_zoo.py`` (detected ⊇ numerical) and ``test_snapshot.py`` (detected == snapshot)
    share this one detection pass; a case whose detection failed (a fallback included)
    raises the same exception for every caller.
    """
    if case.name not in _DETECTED:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownPrimitiveWarning)
            try:
                _DETECTED[case.name] = detect(case)
            except Exception as exc:  # re-raised below, and for every later caller
                _DETECTED[case.name] = exc
    got = _DETECTED[case.name]
    if isinstance(got, Exception):
        raise got
    return got


def entry(case: ZooCase) -> dict[str, object]:
    """The snapshot entry of one case: shape, nnz (for readable diffs) and digest."""
    p = detect_once(case)
    return {"shape": list(p.shape), "nnz": int(p.nnz), "digest": digest(p)}


def load() -> dict[str, object]:
    """The committed snapshot ({} when the file does not exist yet)."""
    if not SNAPSHOT.exists():
        return {}
    return json.loads(SNAPSHOT.read_text())


def update() -> None:
    """Recompute every case and write the snapshot with the current DETECTOR_VERSION.

    Raises:
        SystemExit: when a case already in the snapshot changed its pattern while
            DETECTOR_VERSION stayed the same (bump it first), or when a case falls back
            to a conservative pattern (a missing rule, not a pattern to record).
    """
    import jax

    try:
        cases = {c.name: entry(c) for c in ZOO}  # fallbacks are errors there
    except UnknownPrimitiveWarning as w:
        raise SystemExit(f"not writing a snapshot of a fallback: {w}") from None
    old = load()
    if old.get("detector_version") == DETECTOR_VERSION:
        stored = old.get("cases", {})
        changed = sorted(k for k, v in cases.items() if k in stored and stored[k] != v)
        if changed:
            raise SystemExit(
                f"patterns changed for {changed} but DETECTOR_VERSION is still "
                f"{DETECTOR_VERSION!r}: bump it in asdex_pipe/detection/api.py, then rerun"
            )
    header = {
        "detector_version": DETECTOR_VERSION,
        "made_with_jax": jax.__version__,
        "regenerate": UPDATE_COMMAND,
    }
    # One case per line: a pattern change shows up as a one-line diff in review.
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(cases.items())]
    head = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in header.items())
    SNAPSHOT.write_text("{\n" + head + ',\n "cases": {\n' + ",\n".join(lines) + "\n }\n}\n")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--update`` rewrites the snapshot; without it, report the differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite zoo_snapshot.json")
    args = parser.parse_args(argv)
    if args.update:
        update()
        print(f"wrote {SNAPSHOT} for DETECTOR_VERSION {DETECTOR_VERSION}")
        return 0
    stored = load().get("cases", {})
    changed = [c.name for c in ZOO if stored.get(c.name) != entry(c)]
    print("\n".join(changed) if changed else "no differences")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
