import numpy as np
import pytest

from asge_np.errors import ShapeError
from asge_np.gradcheck import eval_numerical_gradient_array, rel_error
from asge_np.ops import conv2d_backward, conv2d_forward, conv2d_naive

# (B, C, H, W, F, kh, kw, stride, pad): odd sizes, stride 2, pad 0, non-square kernels
SHAPES = [
    (2, 3, 5, 5, 4, 3, 3, 1, 1),
    (1, 2, 7, 6, 3, 3, 3, 2, 1),
    (3, 1, 6, 5, 2, 3, 3, 1, 0),
    (2, 4, 9, 7, 3, 5, 3, 2, 0),
    (2, 3, 8, 8, 5, 1, 1, 1, 0),
    (1, 2, 5, 9, 2, 3, 5, 3, 2),
    (2, 2, 4, 4, 3, 4, 4, 1, 1),
]


def random_shapes(n, seed):
    r = np.random.default_rng(seed)
    shapes = []
    for _ in range(n):
        kh, kw = int(r.integers(1, 5)), int(r.integers(1, 5))
        stride, pad = int(r.integers(1, 4)), int(r.integers(0, 3))
        H, W = int(r.integers(kh, kh + 7)), int(r.integers(kw, kw + 7))
        shapes.append((int(r.integers(1, 4)), int(r.integers(1, 5)), H, W, int(r.integers(1, 5)), kh, kw, stride, pad))
    return shapes


def make(shape, rng, dtype=np.float64):
    B, C, H, W, F, kh, kw, stride, pad = shape
    x = rng.standard_normal((B, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, kh, kw)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b, stride, pad


@pytest.mark.parametrize("shape", SHAPES + random_shapes(25, seed=7))
def test_forward_matches_naive_loops(shape, rng):
    x, w, b, stride, pad = make(shape, rng)
    out, _ = conv2d_forward(x, w, b, stride=stride, pad=pad)
    assert rel_error(out, conv2d_naive(x, w, b, stride=stride, pad=pad)) < 1e-10


@pytest.mark.parametrize("shape", SHAPES)
def test_channels_last_is_the_same_convolution(shape, rng):
    x, w, b, stride, pad = make(shape, rng)
    out, _ = conv2d_forward(x, w, b, stride=stride, pad=pad)
    out_cl, cache = conv2d_forward(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), w, b, stride, pad, channels_last=True)
    assert np.allclose(out_cl.transpose(0, 3, 1, 2), out)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, conv2d_forward(x, w, b, stride, pad)[1])
    dx_cl, dw_cl, db_cl = conv2d_backward(np.ascontiguousarray(dout.transpose(0, 2, 3, 1)), cache)
    assert np.allclose(dx_cl.transpose(0, 3, 1, 2), dx) and np.allclose(dw_cl, dw) and np.allclose(db_cl, db)


@pytest.mark.parametrize("shape", SHAPES + random_shapes(8, seed=11))
def test_backward_matches_numerical_gradient(shape, rng, record_gradcheck):
    x, w, b, stride, pad = make(shape, rng)
    out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    f = lambda: conv2d_forward(x, w, b, stride=stride, pad=pad)[0]  # noqa: E731
    assert record_gradcheck("conv2d dx", rel_error(dx, eval_numerical_gradient_array(f, x, dout))) < 1e-6
    assert record_gradcheck("conv2d dw", rel_error(dw, eval_numerical_gradient_array(f, w, dout))) < 1e-6
    assert record_gradcheck("conv2d db", rel_error(db, eval_numerical_gradient_array(f, b, dout))) < 1e-6


def test_float32_stays_float32(rng):
    x, w, b, stride, pad = make(SHAPES[0], rng, np.float32)
    out, cache = conv2d_forward(x, w, b)
    dx, dw, db = conv2d_backward(out, cache)
    assert {a.dtype for a in (out, dx, dw, db)} == {np.dtype(np.float32)}


def test_no_bias(rng):
    x, w, _, stride, pad = make(SHAPES[1], rng)
    out, cache = conv2d_forward(x, w, None, stride=stride, pad=pad)
    assert rel_error(out, conv2d_naive(x, w, None, stride=stride, pad=pad)) < 1e-10
    assert conv2d_backward(out, cache)[2] is None


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, message",
    [
        ((2, 3, 5), (4, 3, 3, 3), {}, "4-d input"),
        ((2, 3, 5, 5), (4, 2, 3, 3), {}, "input channels"),
        ((2, 3, 2, 2), (4, 3, 5, 5), {"pad": 0}, "does not fit"),
        ((2, 3, 5, 5), (4, 3, 3, 3), {"stride": 0}, "stride"),
        ((2, 3, 5, 5), (4, 3, 3, 3), {"pad": -1}, "padding"),
    ],
)
def test_bad_shapes_give_clear_errors(x_shape, w_shape, kwargs, message):
    with pytest.raises(ShapeError, match=message) as info:
        conv2d_forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(w_shape[0]), **kwargs)
    assert "\n" not in str(info.value)
