"""Differential fuzzer: generated programs, detection against plain JAX's nonzeros and values.

Every program drawn by :func:`tests.fuzz.programs.batches` must have detected Jacobian and
Hessian patterns that contain the union of nonzeros of plain JAX's ``jacfwd``/``hessian``
over random float64 points (data arguments redrawn at each), and ``jacobian()`` /
``hessian()`` values equal to plain JAX's (see :func:`~tests.fuzz.programs.check_batch`).
Programs are checked in batches of several (one compilation per batch).

- The default run checks a fixed, seeded set of :data:`DEFAULT_BATCHES` batches of 4-8
  programs: :data:`NOMINAL_BATCHES` scaled by the hypothesis profile (``tests/profiles.py``;
  6 batches, some 32 programs, under the default ``ci`` profile, 24 under ``full``).
- ``pytest -m slow tests/fuzz`` checks :data:`SLOW_BATCHES` batches of 5-8 programs: at
  least 10^4 programs (``ASDEX_FUZZ_BATCHES`` overrides the count).

A failure prints the shrunk batch; paste it into ``test_fuzz_regressions.py`` under a name
that says what went wrong.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, given, reject, seed, settings

from asdex_pipe.detection import UnknownPrimitiveWarning
from tests.fuzz.programs import PlainJaxFailed, batches, check_batch
from tests.profiles import examples

NOMINAL_BATCHES = 24
# Each batch is several programs, so the default run keeps 6 batches (~32 programs) under
# the ``ci`` profile; ``full`` and the slow run check far more.
DEFAULT_BATCHES = examples(NOMINAL_BATCHES, minimum=6)
SLOW_BATCHES = int(os.environ.get("ASDEX_FUZZ_BATCHES", "2000"))

_SETTINGS = {
    "deadline": None,
    "database": None,  # the same programs on every machine, nothing written
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

checked = {"programs": 0, "batches": 0}


def _check(batch) -> None:
    with warnings.catch_warnings():
        # A conservative fallback would not break soundness, but the fuzzer must see none:
        # every primitive it generates has a rule, and a fallback would hide that rule.
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        try:
            check_batch(batch)
        except PlainJaxFailed:
            reject()  # no reference to compare with (see PlainJaxFailed)
    checked["programs"] += len(batch.programs)
    checked["batches"] += 1


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print(f"\ndifferential fuzzer: {checked['programs']} programs in {checked['batches']} batches")


@seed(20261207)
@settings(max_examples=DEFAULT_BATCHES, **_SETTINGS)
@given(batches(min_programs=4))
def test_generated_programs(batch):
    _check(batch)


@pytest.mark.slow
@seed(1)
@settings(max_examples=SLOW_BATCHES, **_SETTINGS)
@given(batches(min_programs=5, max_steps=6))
def test_generated_programs_slow_profile(batch):
    _check(batch)
