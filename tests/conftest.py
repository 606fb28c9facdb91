import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # for tests/fake_device.py and friends

_gradcheck_errors = {}
_notebook_seconds = {}


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def record_gradcheck():
    """Record an op's relative error; the largest per op is printed as a table at the end."""

    def record(op, error):
        _gradcheck_errors[op] = max(error, _gradcheck_errors.get(op, 0.0))
        return error

    return record


@pytest.fixture
def record_notebook_seconds():
    """Record how long a notebook took to execute; printed as a table at the end (a figure to
    read, not a timed assertion: CI machines vary)."""

    def record(name, seconds):
        _notebook_seconds[name] = seconds

    return record


def pytest_terminal_summary(terminalreporter):
    if _notebook_seconds:
        terminalreporter.section("notebooks: seconds to execute top to bottom (budget: 120 s on 2 CPU cores)")
        for name in sorted(_notebook_seconds):
            terminalreporter.write_line(f"{name:<30}  {_notebook_seconds[name]:6.1f}")
    if not _gradcheck_errors:
        return
    terminalreporter.section("gradient checks: largest relative error (float64, central differences)")
    width = max(len(op) for op in _gradcheck_errors)
    for op in sorted(_gradcheck_errors):
        terminalreporter.write_line(f"{op:<{width}}  {_gradcheck_errors[op]:.2e}")
