"""Numba kernels compiled on first use (:mod:`asdex_pipe.kernels`)."""

import subprocess
import sys
import textwrap

import numpy as np

from asdex_pipe.kernels import Kernel, kernel


def test_importing_asdex_pipe_does_not_import_numba_until_a_kernel_runs():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import asdex_pipe, asdex_pipe.optimize
        import asdex_pipe.coloring.pairs as pairs
        assert "numba" not in sys.modules, "numba imported by import asdex_pipe"
        assert type(pairs.find_slot).__name__ == "Kernel"
        from asdex_pipe import SparsityPattern, color_symmetric
        n = 2000  # a path graph plus hubs: star coloring calls pairs.find_slot from numba
        rows = np.r_[np.arange(n), np.arange(n - 1), np.arange(1, n), np.zeros(n - 1, int)]
        cols = np.r_[np.arange(n), np.arange(1, n), np.arange(n - 1), np.arange(1, n)]
        pattern = SparsityPattern.from_coo(rows, cols, (n, n)).symmetrize()
        colored = color_symmetric(pattern, "star")
        assert "numba" in sys.modules
        assert type(pairs.find_slot).__name__ == "CPUDispatcher", type(pairs.find_slot)
        asdex_pipe.check_coloring_symmetric(pattern, colored, "star")
        print(int(colored.max()) + 1)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) >= 3


def test_a_kernel_defined_after_first_use_compiles_and_runs():
    from asdex_pipe.coloring.greedy import greedy_distance1

    greedy_distance1(np.array([0, 1, 2]), np.array([1, 0]), np.array([0, 1]))  # first use

    @kernel(cache=False)
    def add_one(a):  # pragma: no cover - numba
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = a[i] + 1
        return out

    assert isinstance(add_one, Kernel) and add_one.dispatcher is not None
    np.testing.assert_array_equal(add_one(np.arange(4)), np.arange(1, 5))
    assert "compiled" in repr(add_one)
