"""Affine layer out = x @ w + b, used by the trained heads (and, with fixed R and r, by the
goodness projection)."""

from ..errors import ShapeError


def linear_forward(x, w, b):
    """x: (B, D), w: (D, N), b: (N,)  ->  out: (B, N)."""
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ShapeError(f"linear layer: cannot multiply input {tuple(x.shape)} by weights {tuple(w.shape)}")
    return x @ w + b, (x, w)


def linear_backward(dout, cache):
    """dx = dout @ wᵀ (B, D), dw = xᵀ @ dout (D, N), db = Σ_b dout (N,)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
