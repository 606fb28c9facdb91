import numpy as np
import pytest

from asge_np.errors import ShapeError
from asge_np.goodness import make_projection, spatial_goodness_naive
from asge_np.gradcheck import eval_numerical_gradient, rel_error
from asge_np.layers import asge_local_loss
from asge_np.ops import conv2d_naive

# (B, C_in, H, W, C, k, P, N)
SHAPES = [(3, 2, 8, 8, 4, 3, 4, 5), (2, 3, 7, 5, 3, 3, 2, 4), (4, 1, 6, 6, 2, 5, 3, 3), (2, 2, 5, 5, 3, 1, 1, 10)]


def make(shape, seed):
    B, C_in, H, W, C, k, P, N = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, C_in, H, W))
    w = rng.standard_normal((C, C_in, k, k)) * 0.5
    b = rng.standard_normal(C) * 0.1
    R, r = make_projection(C * P * P, N, rng, dtype=np.float64)
    labels = rng.integers(0, N, B)
    return x, w, b, R, r, labels, P


def reference_loss(x, w, b, R, r, labels, P):
    """The layer composed from the naive references, with log-softmax written out."""
    y = np.maximum(conv2d_naive(x, w, b, stride=1, pad=w.shape[2] // 2), 0)
    a = spatial_goodness_naive(y, P) @ R + r
    log_p = a - np.log(np.exp(a - a.max(1, keepdims=True)).sum(1, keepdims=True)) - a.max(1, keepdims=True)
    return -log_p[np.arange(len(labels)), labels].mean()


@pytest.mark.parametrize("shape", SHAPES)
def test_local_loss_matches_naive_composition(shape):
    x, w, b, R, r, labels, P = make(shape, seed=0)
    loss, _, _ = asge_local_loss(x, w, b, R, r, labels, P)
    assert np.isclose(loss, reference_loss(x, w, b, R, r, labels, P), rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_local_gradient_end_to_end(shape, record_gradcheck):
    x, w, b, R, r, labels, P = make(shape, seed=1)
    loss, dw, db = asge_local_loss(x, w, b, R, r, labels, P)
    f = lambda: asge_local_loss(x, w, b, R, r, labels, P)[0]  # noqa: E731
    assert record_gradcheck("ASGE layer dw (end to end)", rel_error(dw, eval_numerical_gradient(f, w))) < 1e-6
    assert record_gradcheck("ASGE layer db (end to end)", rel_error(db, eval_numerical_gradient(f, b))) < 1e-6


def test_gradient_does_not_depend_on_input_gradient_path():
    """The layer returns only dw and db: its input is a constant for its update."""
    x, w, b, R, r, labels, P = make(SHAPES[0], seed=2)
    out = asge_local_loss(x, w, b, R, r, labels, P)
    assert len(out) == 3 and out[1].shape == w.shape and out[2].shape == b.shape


def test_even_kernel_is_refused():
    x, w, b, R, r, labels, P = make(SHAPES[0], seed=3)
    with pytest.raises(ShapeError, match="odd kernel"):
        asge_local_loss(x, np.zeros((4, 2, 2, 2)), b, R, r, labels, P)
