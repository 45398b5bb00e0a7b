"""Shared pytest set-up: one hypothesis profile for the whole suite."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "lrkit",
    deadline=None,
    max_examples=int(os.environ.get("LRKIT_MAX_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.too_slow],
    # CI draws the same examples on every run, so a red build can be rerun
    # and debugged; local runs keep drawing new ones and explore further.
    derandomize=os.environ.get("CI", "").lower() in ("1", "true"),
)
settings.load_profile("lrkit")
