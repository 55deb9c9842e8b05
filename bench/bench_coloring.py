"""Coloring: colors and time, ours (star, acyclic; several orders) against the peer's star.

    python -m bench.bench_coloring [--quick]

Patterns: Rosenbrock-type tridiagonal (n = 10^6), 2-D 5-point and 9-point stencils on a
1000×1000 grid, a 3-D 7-point stencil on 100^3, and random symmetric patterns. Times are
one warm call each (numba kernels are compiled and cached on disk before timing).

A second table covers hard structures (ours only): hubs (an arrowhead and two linked hubs
with 10^6 leaves, star and acyclic) and a Jacobian with a dense row and a dense column
(n = 10^5) in every Jacobian mode, where only the bidirectional coloring saves products.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from asdex_pipe import SparsityPattern
from asdex_pipe.coloring import color_symmetric, jacobian_coloring_from_sparsity
from bench.harness import fmt_ratio, fmt_seconds, machine_line, markdown_table, peer_available
from bench.harness import time_once as _time_once
from tests.coloring import families as fam


def _patterns(quick: bool):
    s = 10 if quick else 1
    return [
        ("tridiagonal n=10^6", fam.banded(10**6 // s, 1)),
        ("2-D 5-point 1000²", fam.five_point(1000 // (3 if quick else 1))),
        ("2-D 9-point 1000²", fam.nine_point(1000 // (3 if quick else 1))),
        ("3-D 7-point 100³", fam.seven_point(100 // (2 if quick else 1))),
        ("random sym n=10^5, ~6/row", fam.random_symmetric(10**5 // s, 3, seed=0)),
        ("random sym n=10^4, ~20/row", fam.random_symmetric(10**4 // s, 10, seed=1)),
    ]


def _peer_star(pattern):
    import asdex

    p = asdex.SparsityPattern.from_coo(pattern.rows, pattern.cols, pattern.shape)
    t, cp = _time_once(asdex.hessian_coloring_from_sparsity, p)
    return t, cp.num_colors


def _ours(pattern, algorithm, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t, colors = _time_once(color_symmetric, pattern, algorithm, order)
    return t, int(colors.max()) + 1


def main() -> None:
    """Print the coloring table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller patterns")
    args = parser.parse_args()
    _ours(fam.banded(10, 1), "star", "smallest_last")  # load the cached numba kernels
    _ours(fam.banded(10, 1), "acyclic", "smallest_last")
    peer = peer_available()
    rows = []
    totals = {"star": 0, "acyclic": 0, "peer": 0}
    for name, pattern in _patterns(args.quick):
        t_star, k_star = _ours(pattern, "star", "largest_first")
        t_acy, k_acy = _ours(pattern, "acyclic", "largest_first")
        _, k_star_sl = _ours(pattern, "star", "smallest_last")
        _, k_acy_sl = _ours(pattern, "acyclic", "smallest_last")
        t_peer, k_peer = _peer_star(pattern) if peer else (None, None)
        totals["star"] += k_star
        totals["acyclic"] += k_acy
        totals["peer"] += k_peer or 0
        rows.append(
            [
                name,
                pattern.nnz,
                k_peer if peer else "—",
                k_star,
                k_acy,
                f"{k_star_sl} / {k_acy_sl}",
                fmt_seconds(t_peer),
                fmt_seconds(t_star),
                fmt_seconds(t_acy),
                fmt_ratio(t_star, t_peer),
                f"{t_acy / t_star:.2f}",
            ]
        )
    print(f"Coloring, {machine_line()}\n")
    print(
        markdown_table(
            [
                "pattern",
                "nnz",
                "peer star colors",
                "our star",
                "our acyclic",
                "smallest_last star / acyclic",
                "peer star time",
                "our star time",
                "our acyclic time",
                "star speed-up vs peer",
                "acyclic / star time",
            ],
            rows,
        )
    )
    print(
        f"\nTotal colors over the suite: peer star {totals['peer']}, our star "
        f"{totals['star']}, our acyclic {totals['acyclic']} (default order largest_first)."
    )
    print(f"\nHard structures (ours only):\n\n{hard_structures(args.quick)}")


def dense_row_and_column(n: int) -> SparsityPattern:
    """(n + 1, n): a diagonal, a full first column and a full last row (the Jacobian of
    ``[x**2 + x[0]·a; sum(x)]``)."""
    i = np.arange(n)
    rows = np.concatenate([i, i, np.full(n, n)])
    cols = np.concatenate([i, np.zeros(n, np.int64), i])
    return SparsityPattern.from_coo(rows, cols, (n + 1, n))


def hard_structures(quick: bool) -> str:
    """The hard-structures table (markdown)."""
    s = 10 if quick else 1
    rows = []
    for name, pattern in (
        ("arrowhead n=10^6", fam.arrowhead(10**6 // s)),
        ("two linked hubs n=10^6", fam.double_hub(10**6 // s, linked=True)),
    ):
        for algorithm in ("star", "acyclic"):
            t, k = _ours(pattern, algorithm, "largest_first")
            rows.append([name, pattern.nnz, f"Hessian, {algorithm}", k, fmt_seconds(t)])
    pattern = dense_row_and_column(10**5 // s)
    for mode in ("fwd", "rev", "bidirectional", "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            t, cp = _time_once(jacobian_coloring_from_sparsity, pattern, mode)
        label = f"Jacobian, mode={mode} ({cp.mode})"
        rows.append(
            ["dense row + column n=10^5", pattern.nnz, label, cp.num_colors, fmt_seconds(t)]
        )
    return markdown_table(["pattern", "nnz", "coloring", "products", "time"], rows)


if __name__ == "__main__":
    main()
