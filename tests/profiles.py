"""Hypothesis profiles for the test suite, chosen with ``HYPOTHESIS_PROFILE``.

- ``ci`` (the default): a quarter of each property test's nominal example count (at least
  :data:`MIN_EXAMPLES`), so the default run stays fast on a 2-core machine.
- ``full``: each property test's nominal count (what the tests ran before profiles).
- ``thorough``: four times the nominal count, for nightly or ``pytest -m slow`` runs::

      HYPOTHESIS_PROFILE=thorough pytest -m "slow or not slow"

Only the number of random examples changes with the profile, never the sizes the
strategies draw from: explicit large cases (``@example``, the large-size tests) run under
every profile. Tests that set ``max_examples`` themselves pass their nominal count through
:func:`examples` so that it follows the profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

#: Scale of each profile's example counts, relative to a test's nominal count.
SCALES = {"ci": 0.25, "full": 1.0, "thorough": 4.0}
#: The fewest random examples a property test runs under any profile.
MIN_EXAMPLES = 10
#: Hypothesis's own default count (tests that do not set one), nominally.
NOMINAL_DEFAULT = 100

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in SCALES:
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r}; choose one of: {', '.join(SCALES)}")


def examples(nominal: int, minimum: int = MIN_EXAMPLES) -> int:
    """The example count for a test whose nominal count is ``nominal``, under the active
    profile, and at least ``minimum``."""
    return max(minimum, round(nominal * SCALES[PROFILE]))


for _name in SCALES:
    _scale = SCALES[_name]
    settings.register_profile(
        _name, max_examples=max(MIN_EXAMPLES, round(NOMINAL_DEFAULT * _scale)), deadline=None
    )
settings.load_profile(PROFILE)
