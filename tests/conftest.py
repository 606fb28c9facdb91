import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # for tests/fake_device.py and friends

_gradcheck_errors = {}


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


def pytest_terminal_summary(terminalreporter):
    if not _gradcheck_errors:
        return
    terminalreporter.section("gradient checks: largest relative error (float64, central differences)")
    width = max(len(op) for op in _gradcheck_errors)
    for op in sorted(_gradcheck_errors):
        terminalreporter.write_line(f"{op:<{width}}  {_gradcheck_errors[op]:.2e}")
