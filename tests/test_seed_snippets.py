"""Every snippet of the original asdex sparse-Hessians guide, with asdex_pipe in place of asdex.

Each snippet is kept verbatim as the guide shows it (only ``asdex`` renamed), executed in
a fresh namespace, and its printed output is checked against what the guide prints.
Snippets that use names the guide leaves undefined (``f``, ``x``) get a small prelude.
"""

import contextlib
import io
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

HEADER = "ColoredPattern(100×100, nnz=298, sparsity=97.0%, HVP, 3 colors)"
SUMMARY = "3 HVPs (instead of 100 HVPs)"

G = """
import jax.numpy as jnp
def g(x):
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)
"""

# A 4-variable function whose Hessian pattern is the guide's 4x4 tridiagonal matrix.
PRELUDE_4 = """
import jax.numpy as jnp
def f(x):
    return jnp.sum(x[1:] ** 2 * x[:-1]) + jnp.sum(jnp.sin(x))
x = jnp.asarray([0.3, -1.2, 0.7, 2.0])
"""

PRELUDE_100 = (
    G
    + """
f = g
x = jnp.linspace(-1.0, 1.0, 100)
"""
)


def run(source: str, namespace: dict | None = None) -> tuple[dict, str]:
    """Execute ``source`` (asdex renamed to asdex_pipe); return namespace and stdout."""
    ns = {} if namespace is None else namespace
    code = textwrap.dedent(source).replace("from asdex import", "from asdex_pipe import")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<seed snippet>", "exec"), ns)
    return ns, out.getvalue()


def assert_colored_pattern_display(text: str) -> None:
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == HEADER
    assert lines[1] == SUMMARY
    art = lines[2:]
    assert len(art) == 20, len(art)
    # pattern preview, then the compressed pattern beside it (the guide separates the two
    # brackets by one space; the spacing is display's choice, so only the order is checked)
    top, bottom = art[0], art[-1]
    assert top.startswith("⎡") and top.endswith("⎤") and "⎡" in top[1:] and "⎤" in top[:-1]
    assert bottom.startswith("⎣") and bottom.endswith("⎦") and "⎣" in bottom[1:]
    assert sum("→" in line for line in art) == 1
    # tridiagonal: the first row of the preview starts with the diagonal band
    assert art[0][1] != "⠀"


def test_precomputing_the_colored_pattern():
    ns, out = run(
        """
        import jax.numpy as jnp
        from asdex import hessian_coloring, hessian_from_coloring
        def g(x):
            return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)
        coloring = hessian_coloring(g, input_shape=100)
        print(coloring)
        hess_fn = hessian_from_coloring(g, coloring)
        """
    )
    assert_colored_pattern_display(out)
    h = ns["hess_fn"](jnp.linspace(-1.0, 1.0, 100))
    assert h.shape == (100, 100) and h.nse == 298


def test_symmetric_coloring_rosenbrock():
    _, out = run(
        """
        import jax.numpy as jnp
        from asdex import hessian_coloring
        def rosenbrock(x):
            return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)
        coloring = hessian_coloring(rosenbrock, input_shape=100)
        print(coloring)
        """
    )
    assert_colored_pattern_display(out)


def test_saving_and_loading(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns, _ = run(
        G
        + """
from asdex import hessian_coloring
coloring = hessian_coloring(g, input_shape=100)
coloring.save("colored.npz")
"""
    )
    ns2, _ = run(
        """
        from asdex import ColoredPattern, hessian_from_coloring
        coloring = ColoredPattern.load("colored.npz")
        hess_fn = hessian_from_coloring(g, coloring)
        """,
        {"g": ns["g"]},
    )
    assert ns2["coloring"] == ns["coloring"]
    import jax

    x = jnp.linspace(-1.0, 1.0, 100)
    np.testing.assert_allclose(
        np.asarray(ns2["hess_fn"](x).todense()),
        np.asarray(jax.jit(jax.hessian(ns["g"]))(x)),
        rtol=1e-12,
        atol=1e-9,
    )


def test_separate_detection_and_coloring():
    ns, _ = run(
        G
        + """
from asdex import hessian_sparsity, hessian_coloring_from_sparsity
sparsity = hessian_sparsity(g, input_shape=100)
coloring = hessian_coloring_from_sparsity(sparsity)
print(coloring)
"""
    )
    assert ns["sparsity"].nnz == 298
    assert ns["coloring"].num_colors == 3


@pytest.mark.parametrize("how", ["dense", "coo"])
def test_manually_provided_pattern(how):
    build = {
        "dense": """
import numpy as np
from asdex import SparsityPattern
dense = np.array([[1, 1, 0, 0],
                  [1, 1, 1, 0],
                  [0, 1, 1, 1],
                  [0, 0, 1, 1]])
sparsity = SparsityPattern.from_dense(dense)
""",
        "coo": """
from asdex import SparsityPattern
sparsity = SparsityPattern.from_coo(
    rows=[0, 0, 1, 1, 1, 2, 2, 2, 3, 3],
    cols=[0, 1, 0, 1, 2, 1, 2, 3, 2, 3],
    shape=(4, 4),
)
""",
    }[how]
    ns, _ = run(
        PRELUDE_4
        + build
        + """
from asdex import hessian_coloring_from_sparsity, hessian_from_coloring
coloring = hessian_coloring_from_sparsity(sparsity)
hess_fn = hessian_from_coloring(f, coloring)
H = hess_fn(x)
"""
    )
    import jax

    np.testing.assert_allclose(
        np.asarray(ns["H"].todense()),
        np.asarray(jax.jit(jax.hessian(ns["f"]))(ns["x"])),
        rtol=1e-12,
    )


def test_choosing_an_hvp_mode():
    ns, _ = run(
        PRELUDE_100
        + """
from asdex import hessian
hess_fn_for = hessian(f, input_shape=100, mode="fwd_over_rev") # default
hess_fn_rof = hessian(f, input_shape=100, mode="rev_over_fwd")
hess_fn_ror = hessian(f, input_shape=100, mode="rev_over_rev")
"""
    )
    x = ns["x"]
    ref = np.asarray(ns["hess_fn_for"](x).todense())
    for name in ("hess_fn_rof", "hess_fn_ror"):
        np.testing.assert_allclose(np.asarray(ns[name](x).todense()), ref, rtol=1e-12)


def test_verifying_results():
    _, out = run(
        PRELUDE_100
        + """
from asdex import check_hessian_correctness, hessian_coloring
coloring = hessian_coloring(g, input_shape=x.shape)
check_hessian_correctness(g, x, coloring)
check_hessian_correctness(g, x, coloring, rtol=1e-6, atol=1e-6, num_probes=10, seed=42)
check_hessian_correctness(g, x, coloring, method="dense")
"""
    )
    assert out == ""  # silent on success
    ns, _ = run("from asdex import VerificationError")
    assert issubclass(ns["VerificationError"], Exception)
