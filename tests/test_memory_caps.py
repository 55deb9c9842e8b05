"""Hard structures under an 8 GB address-space cap, at n = 10^5, in a fresh process.

Each case used to need far more (the complete column-intersection graph of a dense row,
the n² dependencies of a dense Hessian) and raised ``MemoryError`` or ran for minutes;
under the cap any such allocation fails at once. One subprocess runs every case (JAX is
imported once) and reports a JSON line per case; the tests read them.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

resource = pytest.importorskip("resource")  # POSIX only

CAP_BYTES = 8 * 2**30
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    cap = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from asdex_pipe import (
        DensePatternError, check_coloring_bidirectional, check_coloring_symmetric,
        hessian, hessian_coloring_from_sparsity, jacobian,
    )
    from tests.coloring import families as fam

    def report(case, **fields):
        print(json.dumps({"case": case, **fields}), flush=True)

    n = int(sys.argv[2])
    # 1. dense row + dense column Jacobian, closed-form values at every entry
    a = jnp.arange(n, dtype=jnp.float64)
    def c(x):
        return jnp.concatenate([x**2 + 1e-6 * x[0] * a, jnp.sum(x)[None]])
    fn = jacobian(c, n)
    x = jnp.linspace(-1.0, 2.0, n)
    s = fn.coloring.sparsity
    check_coloring_bidirectional(s, fn.coloring.colors)
    r, q = np.asarray(s.rows), np.asarray(s.cols)
    xv = np.asarray(x)
    want = np.where(r == n, 1.0, 0.0)
    want += np.where((r < n) & (r == q), 2.0 * xv[np.minimum(q, n - 1)], 0.0)
    want += np.where((r < n) & (q == 0), 1e-6 * np.arange(n + 1)[r], 0.0)
    err = float(np.max(np.abs(np.asarray(fn(x).data) - want)))
    report("jacobian", mode=fn.coloring.mode, products=fn.coloring.num_colors,
           nnz=s.nnz, max_error=err)
    # 2. hubs: arrowhead and linked double hub, star-colored
    for name, p in (("arrowhead", fam.arrowhead(n)), ("double_hub", fam.double_hub(n, True))):
        cp = hessian_coloring_from_sparsity(p, "star")
        check_coloring_symmetric(p, cp.colors, "star")
        report(name, colors=cp.num_colors)
    # 3. dense Hessian: refused in one sentence
    try:
        hessian(lambda x: jnp.sum(x) ** 2 + jnp.sum(jnp.cos(x)), n)
        report("dense_hessian", refused=False)
    except DensePatternError as exc:
        report("dense_hessian", refused=True, message=str(exc))
    """
)


def _run(n: int) -> dict[str, dict]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(CAP_BYTES), str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {line.pop("case"): line for line in lines}


@pytest.fixture(scope="module")
def capped() -> dict[str, dict]:
    return _run(100_000)


def test_dense_row_and_column_jacobian_in_three_products(capped):
    got = capped["jacobian"]
    assert (got["mode"], got["products"], got["nnz"]) == ("JVP+VJP", 3, 299_999)
    assert got["max_error"] <= 1e-12


def test_hubs_star_colored(capped):
    assert capped["arrowhead"]["colors"] == 2
    assert capped["double_hub"]["colors"] == 3


def test_dense_hessian_refused(capped):
    got = capped["dense_hessian"]
    assert got["refused"]
    assert "is dense or nearly so" in got["message"] and "80 GB" in got["message"]


@pytest.mark.slow
def test_the_same_at_a_million():
    got = _run(1_000_000)
    assert (got["jacobian"]["products"], got["arrowhead"]["colors"]) == (3, 2)
    assert got["double_hub"]["colors"] == 3 and got["dense_hessian"]["refused"]
