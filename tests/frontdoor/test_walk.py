"""The walk of ``f`` from a public builder: it enters the front door once and never climbs
back into it from the layers below, except through ``f`` itself (the bound function the
front door hands down, which JAX calls while tracing)."""

from __future__ import annotations

import sys

import jax.numpy as jnp
import numpy as np

import asdex_pipe

LOWER = ("asdex_pipe.detection", "asdex_pipe.coloring", "asdex_pipe.differentiation")
FRONT = "asdex_pipe.frontdoor"
#: Closures the front door hands down as "the function" (f bound to flat inputs, its
#: flattened outputs): the layers below call them, as they call the user's f.
HANDED_DOWN = {"g", "g_one", "f_aug", "f_flat", "unflatten", "scalar", "body", "finish"}


def _f(params, data):
    w = params["w"]
    return jnp.sum(data["a"] * w[1:] * w[:-1]) + jnp.sum(params["b"] ** 2)


def _walk(run):
    """(caller module, callee module, callee name) of every asdex_pipe call in ``run``."""
    calls = []

    def profile(frame, event, arg):
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith("asdex_pipe"):
            return
        back = frame.f_back
        caller = back.f_globals.get("__name__", "") if back is not None else ""
        calls.append((caller, callee, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


def test_hessian_enters_the_front_door_once_and_never_climbs_back():
    params = {"w": np.ones(6), "b": np.ones(2)}
    data = {"a": np.arange(5.0)}
    out = {}

    def run():
        fn = asdex_pipe.hessian(_f, args=(params, data), argnums=0, format="dense")
        out["h"] = fn(params, data)

    calls = _walk(run)
    entries = [c for c in calls if c[0] == __name__ and c[1].startswith(FRONT)]
    # The test calls two public functions (the builder and the function it returns); JAX
    # calls back into the front door only with what it handed down (f, tree callbacks).
    assert [name for _, _, name in entries] == ["hessian", "__call__"], entries
    climbs = [
        c
        for c in calls
        if c[0].startswith(LOWER) and c[1].startswith(FRONT) and c[2] not in HANDED_DOWN
    ]
    assert climbs == [], climbs
    # Nothing below imports the front door, and the lower layers were really walked.
    assert {c[1].split(".")[1] for c in calls} >= {"frontdoor", "detection", "coloring"}
    assert out["h"]["w"]["w"].shape == (6, 6)
