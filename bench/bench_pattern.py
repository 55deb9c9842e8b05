"""Large patterns: build, save and load a 10^7-nonzero SparsityPattern, against the peer.

    python -m bench.bench_pattern [--nnz 10000000]

The pattern is a random one with ``nnz`` distinct entries in an n × n matrix, n = nnz / 10,
given to ``from_coo`` unsorted. Peak memory is Python's traced allocations during each step
(numpy buffers included), divided by nnz: it stays a small constant number of bytes per
nonzero (O(nnz)), far from anything dense.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from asdex_pipe import SparsityPattern
from bench.harness import fmt_ratio, fmt_seconds, machine_line, markdown_table, peer_available


def _measure(step: Callable[[], Any]) -> tuple[Any, float, int]:
    tracemalloc.start()
    t0 = time.perf_counter()
    out = step()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak


def _coords(nnz: int) -> tuple[np.ndarray, np.ndarray, int]:
    n = max(nnz // 10, 1)
    rng = np.random.default_rng(0)
    flat = rng.choice(n * n, size=nnz, replace=False) if n * n < 2**31 else None
    if flat is None:
        flat = np.unique(rng.integers(0, n * n, size=int(nnz * 1.01)))[:nnz]
        rng.shuffle(flat)
    rows, cols = np.divmod(flat, n)
    return rows.astype(np.int64), cols.astype(np.int64), n


def main(argv: list[str] | None = None) -> None:
    """Time build / save / load of one large pattern (ours and, if installed, the peer's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nnz", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    rows, cols, n = _coords(args.nnz)
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        p, t_build, m_build = _measure(lambda: SparsityPattern.from_coo(rows, cols, (n, n)))
        assert p.nnz == args.nnz
        peer_build = None
        if peer_available():
            import asdex

            r32, c32 = rows.astype(np.int32), cols.astype(np.int32)
            t0 = time.perf_counter()
            asdex.SparsityPattern.from_coo(r32, c32, (n, n))
            peer_build = time.perf_counter() - t0
        table.append(["from_coo (unsorted input)", t_build, m_build, peer_build])
        for suffix in (".zarr", ".npz"):
            path = Path(tmp) / f"big{suffix}"
            _, t_save, m_save = _measure(lambda path=path: p.save(path))
            q, t_load, m_load = _measure(lambda path=path: SparsityPattern.load(path))
            assert q == p
            table.append([f"save {suffix}", t_save, m_save, None])
            table.append([f"load {suffix} (validated)", t_load, m_load, None])
    print(f"SparsityPattern with nnz = {args.nnz:,}, shape ({n:,}, {n:,}); {machine_line()}\n")
    print(
        markdown_table(
            ["step", "ours", "peak bytes / nnz", "peer", "peer / ours"],
            [
                [
                    step,
                    fmt_seconds(ours),
                    f"{peak / args.nnz:.1f}",
                    "—" if peer is None else fmt_seconds(peer),
                    "—" if peer is None else fmt_ratio(ours, peer),
                ]
                for step, ours, peak, peer in table
            ],
        )
    )


if __name__ == "__main__":
    main()
