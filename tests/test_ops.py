import numpy as np
import pytest

from asge_np.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from asge_np.ops import (
    accuracy,
    avgpool2x2_backward,
    avgpool2x2_forward,
    dropout_backward,
    dropout_forward,
    dropout_mask,
    global_avg_pool_backward,
    global_avg_pool_forward,
    layer_norm_backward,
    layer_norm_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    rms_norm_backward,
    rms_norm_forward,
    rmspool2x2_backward,
    rmspool2x2_forward,
    softmax,
    softmax_cross_entropy,
)


def check_backward(forward, backward, x, rng, record, name):
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    err = rel_error(dx, eval_numerical_gradient_array(lambda: forward(x)[0], x, dout))
    assert record(name, err) < 1e-6


def test_relu(rng, record_gradcheck):
    z = rng.standard_normal((3, 4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep central differences off the kink
    y, _ = relu_forward(z)
    assert np.array_equal(y, np.maximum(z, 0))
    check_backward(relu_forward, relu_backward, z, rng, record_gradcheck, "relu")


def naive_pool2x2(x, channels_last, reduce):
    """Reference 2x2 pooling by a loop over output pixels; ``reduce`` maps a (B, C, 2, 2) window
    to (B, C).  Returns x's layout."""
    nchw = x.transpose(0, 3, 1, 2) if channels_last else x
    B, C, H, W = nchw.shape
    ref = np.zeros((B, C, H // 2, W // 2))
    for i in range(H // 2):
        for j in range(W // 2):
            ref[:, :, i, j] = reduce(nchw[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2])
    return ref.transpose(0, 2, 3, 1) if channels_last else ref


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (2, 2, 5, 7), (1, 3, 2, 3)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_avgpool(shape, channels_last, rng, record_gradcheck):
    x = rng.standard_normal(shape)
    out, _ = avgpool2x2_forward(x, channels_last)
    assert np.allclose(out, naive_pool2x2(x, channels_last, lambda window: window.mean(axis=(2, 3))))
    check_backward(lambda a: avgpool2x2_forward(a, channels_last), avgpool2x2_backward, x, rng, record_gradcheck, "avgpool 2x2")


@pytest.mark.parametrize("channels_last", [False, True])
def test_global_avg_pool(channels_last, rng, record_gradcheck):
    x = rng.standard_normal((3, 5, 4, 6))
    out, _ = global_avg_pool_forward(x, channels_last)
    ref = x.mean(axis=(1, 2)) if channels_last else x.mean(axis=(2, 3))
    assert np.allclose(out, ref)
    check_backward(lambda a: global_avg_pool_forward(a, channels_last), global_avg_pool_backward, x, rng,
                   record_gradcheck, "global avg pool")


def test_rms_norm(rng, record_gradcheck):
    x = rng.standard_normal((4, 3, 5, 2)) * rng.uniform(0.1, 10, size=(4, 1, 1, 1))
    out, _ = rms_norm_forward(x)
    for b in range(4):  # every sample ends with unit root mean square
        assert abs(np.sqrt(np.mean(out[b] ** 2)) - 1) < 1e-12
    check_backward(rms_norm_forward, rms_norm_backward, x, rng, record_gradcheck, "rms norm")
    zero, _ = rms_norm_forward(np.zeros((2, 3), np.float32))
    assert np.all(zero == 0)


def test_dropout(rng, record_gradcheck):
    keep = dropout_mask((200, 300), 0.1, np.random.default_rng(0))
    assert keep.dtype == bool and abs(keep.mean() - 0.9) < 0.005
    x = rng.standard_normal((200, 300))
    out, cache = dropout_forward(x, 0.1, keep)
    assert np.allclose(out, np.where(keep, x / 0.9, 0))
    small_keep = keep[:4, :5]
    check_backward(lambda a: dropout_forward(a, 0.1, small_keep), dropout_backward, x[:4, :5], rng,
                   record_gradcheck, "dropout")
    assert np.array_equal(dropout_mask((5, 5), 0.3, np.random.default_rng(3)),
                          dropout_mask((5, 5), 0.3, np.random.default_rng(3)))


def test_linear(rng, record_gradcheck):
    x, w, b = rng.standard_normal((4, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    out, cache = linear_forward(x, w, b)
    assert np.allclose(out, x @ w + b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = linear_backward(dout, cache)
    for name, arr, grad in (("x", x, dx), ("w", w, dw), ("b", b, db)):
        num = eval_numerical_gradient_array(lambda: linear_forward(x, w, b)[0], arr, dout)
        assert record_gradcheck(f"linear d{name}", rel_error(grad, num)) < 1e-6


def test_softmax_cross_entropy(rng, record_gradcheck):
    logits, labels = rng.standard_normal((5, 7)), rng.integers(0, 7, 5)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.isclose(loss, -np.mean(np.log(p[np.arange(5), labels])))
    num = eval_numerical_gradient(lambda: softmax_cross_entropy(logits, labels)[0], logits)
    assert record_gradcheck("softmax cross-entropy", rel_error(dlogits, num)) < 1e-6


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-5e4, 5e4, 0.0]], dtype=np.float32)
    loss, dlogits = softmax_cross_entropy(logits, np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert np.isclose(loss, 5e4, rtol=1e-6)  # sample 1: 1e5 / 2, sample 0: ≈ 0
    assert np.allclose(softmax(logits).sum(axis=1), 1)
    assert loss.dtype == np.float32 and dlogits.dtype == np.float32


def test_accuracy():
    logits = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]])
    assert np.isclose(accuracy(logits, np.array([1, 0, 0])), 2 / 3)


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (2, 2, 5, 7)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_rmspool(shape, channels_last, rng, record_gradcheck):
    x = rng.standard_normal(shape)
    out, _ = rmspool2x2_forward(x, channels_last)
    assert np.allclose(out, naive_pool2x2(x, channels_last, lambda window: np.sqrt((window ** 2).mean(axis=(2, 3)))))
    check_backward(lambda a: rmspool2x2_forward(a, channels_last), rmspool2x2_backward, x, rng, record_gradcheck,
                   "rms pool 2x2")
    zero = np.zeros((1, 1, 2, 2), np.float32)  # an all-zero window: output 0, gradient 0, no NaN
    out, cache = rmspool2x2_forward(zero)
    dx = rmspool2x2_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32 and np.all(out == 0) and np.all(dx == 0)


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm(axis, rng, record_gradcheck):
    x = rng.standard_normal((3, 4, 5, 6)) * 3 + 1
    out, _ = layer_norm_forward(x, axis=axis)
    moved = np.moveaxis(x, axis, -1)
    ref = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):  # one vector of channels at a time
        v = moved[index]
        ref[index] = (v - v.mean()) / np.sqrt(v.var() + 1e-5)
    assert np.allclose(out, np.moveaxis(ref, -1, axis))
    check_backward(lambda a: layer_norm_forward(a, axis=axis), layer_norm_backward, x, rng, record_gradcheck,
                   "layer norm (channels)")
    out32, _ = layer_norm_forward(x.astype(np.float32), axis=axis)
    assert out32.dtype == np.float32
