"""Suite-wide settings: Hypothesis profiles (``ci`` is chosen when CI is set)."""

import os

from hypothesis import HealthCheck, settings

# Neither profile times anything: a deadline or the too_slow health check is a timed assertion,
# and it fails on a loaded host (CI's 2 shared cores) with nothing wrong. Speed is the
# benchmarks' business.
_untimed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", _untimed, max_examples=50)
settings.register_profile("ci", _untimed, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
