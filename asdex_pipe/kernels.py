"""Numba kernels compiled on first use: importing asdex_pipe does not import numba.

``import numba`` and decorating the kernels cost about 0.25 s of every process start on a
2-core machine, paid even by programs that never color (a stored coloring, an IPOPT
problem rebuilt from a store). :func:`kernel` stands in for ``numba.njit``: it records
the Python function and returns a :class:`Kernel`. The first call of any kernel imports
numba and turns every recorded function into a numba dispatcher at once (kernels call
each other, and numba resolves a callee through the caller module's globals when it
compiles the caller), then rebinds the names in asdex_pipe's modules to the dispatchers,
so later lookups skip this wrapper. ``cache=True`` keeps numba's on-disk cache, which is
keyed by the function's file and name, exactly as with a plain ``@njit``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

_KERNELS: list[Kernel] = []
_LOCK = threading.Lock()
_READY = False


class Kernel:
    """A numba kernel compiled on its first call (see the module docstring).

    Attributes:
        py_func: the plain Python function (as numba's ``Dispatcher.py_func``).
        options: the ``numba.njit`` options.
    """

    def __init__(self, func: Callable, options: dict[str, Any]):
        self.py_func = func
        self.options = options
        self.dispatcher: Any = None
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__module__ = func.__module__
        self.__doc__ = func.__doc__

    def __call__(self, *args: Any) -> Any:
        if self.dispatcher is None:
            compile_all()
        return self.dispatcher(*args)

    def __repr__(self) -> str:
        state = "compiled" if self.dispatcher is not None else "not compiled yet"
        return f"<numba kernel {self.__module__}.{self.__qualname__} ({state})>"


def kernel(**options: Any) -> Callable[[Callable], Kernel]:
    """Decorator: ``@kernel(cache=True)`` is ``@numba.njit(cache=True)``, compiled lazily.

    Args:
        **options: passed to ``numba.njit`` when the kernels are first used.

    Returns:
        A decorator turning a function into a :class:`Kernel`.
    """

    def wrap(func: Callable) -> Kernel:
        k = Kernel(func, options)
        with _LOCK:
            _KERNELS.append(k)
            ready = _READY
        if ready:  # a module imported after the first use: compile it now
            _dispatch(k)
        return k

    return wrap


def _dispatch(k: Kernel) -> None:
    import numba

    k.dispatcher = numba.njit(**k.options)(k.py_func)
    module = sys.modules.get(k.__module__)
    if module is not None and getattr(module, k.__name__, None) is k:
        setattr(module, k.__name__, k.dispatcher)


def compile_all() -> None:
    """Import numba, make every recorded kernel a dispatcher and rebind the names that
    refer to a :class:`Kernel` in asdex_pipe's loaded modules. Idempotent, thread-safe.
    (Each dispatcher still compiles per signature on its first call, as with ``njit``.)"""
    global _READY
    with _LOCK:
        if _READY:
            return
        for k in _KERNELS:
            _dispatch(k)
        # A module that did `from m import f` holds the Kernel itself; numba must see the
        # dispatcher there when it compiles a caller that uses f.
        for name, module in list(sys.modules.items()):
            if name == "asdex_pipe" or name.startswith("asdex_pipe."):
                for attr, value in list(vars(module).items()):
                    if isinstance(value, Kernel):
                        setattr(module, attr, value.dispatcher)
        _READY = True
