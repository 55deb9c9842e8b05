"""Detected zoo patterns against the committed snapshot, with fallbacks turned into errors.

Under every supported JAX: no zoo case may fall back to a conservative pattern
(``UnknownPrimitiveWarning`` is an error here), and every case's pattern must equal the
snapshot's, so the patterns are identical across JAX versions and cannot change without a
``DETECTOR_VERSION`` bump (see ``tests/detection/snapshot.py``). The patterns come from
the one detection pass per case shared with ``test_zoo.py``
(:func:`~tests.detection.snapshot.detect_once`, which turns fallbacks into errors itself).
"""

from __future__ import annotations

import pytest

from asdex_pipe.detection import DETECTOR_VERSION
from tests.detection.snapshot import UPDATE_COMMAND, entry, load
from tests.zoo import ZOO

STORED = load()
CASES = STORED.get("cases", {})


def test_snapshot_was_made_with_this_detector_version_and_covers_the_zoo():
    assert STORED.get("detector_version") == DETECTOR_VERSION, (
        f"zoo_snapshot.json was made with DETECTOR_VERSION {STORED.get('detector_version')!r}, "
        f"the detector is {DETECTOR_VERSION!r}: regenerate it with `{UPDATE_COMMAND}`"
    )
    names = {c.name for c in ZOO}
    assert set(CASES) == names, (
        f"zoo cases missing from the snapshot: {sorted(names - set(CASES))}, stale entries: "
        f"{sorted(set(CASES) - names)}; regenerate it with `{UPDATE_COMMAND}`"
    )


@pytest.mark.filterwarnings("error::asdex_pipe.detection.UnknownPrimitiveWarning")
@pytest.mark.parametrize("c", ZOO, ids=lambda c: c.name)
def test_zoo_pattern_matches_snapshot_without_fallback(c):
    if c.name not in CASES:
        pytest.fail(f"{c.name} has no snapshot entry; regenerate it with `{UPDATE_COMMAND}`")
    got = entry(c)
    assert got == CASES[c.name], (
        f"the detected pattern of {c.name} changed ({CASES[c.name]} -> {got}) while "
        f"DETECTOR_VERSION is still {DETECTOR_VERSION!r}: bump DETECTOR_VERSION in "
        f"asdex_pipe/detection/detect.py, then regenerate with `{UPDATE_COMMAND}`"
    )
