"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE (default: "ci" when CI is set, else "dev"), and
the grouping of tests for parallel workers."""
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (pytest-xdist, ``--dist loadgroup``), the tests of one session-trained
    model run on one worker, so no other worker trains it again."""
    for item in items:
        for fixture in ("tiny_run", "cli_run"):
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(fixture))
                break
