"""Numeric gradients and relative error: the tools that prove a hand-derived gradient right.

Shared by the tests, the notebooks and the classroom autograder.  Use float64 inputs: central
differences in float32 cannot resolve a relative error of 1e-6.
"""

import numpy as np


def rel_error(x, y):
    """max |x − y| / max(|x| + |y|, 1e-8), elementwise: ≈1e-7 or smaller means 'the same'."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function ``f()`` with respect to the array ``x`` (changed in place
    and restored), by central differences: (f(x + h) − f(x − h)) / 2h for every entry."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = float(f())
        x[i] = old - h
        minus = float(f())
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, dout, h=1e-5):
    """Gradient of ``sum(f() · dout)`` with respect to ``x``: checks a backward pass that takes
    an upstream gradient ``dout`` of ``f()``'s shape."""
    return eval_numerical_gradient(lambda: np.sum(f() * dout), x, h)
