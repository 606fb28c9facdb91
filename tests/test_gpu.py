"""CuPy parity: the same code on the GPU gives the NumPy results (skipped without CuPy + GPU)."""

import numpy as np
import pytest

import asge_np
from asge_np import backend
from asge_np.goodness import spatial_goodness_backward, spatial_goodness_forward
from asge_np.layers import asge_local_loss
from asge_np.models import BETWEEN_LAYERS
from asge_np.ops import conv2d_backward, conv2d_forward

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not backend.cupy_available(), reason="needs CuPy and a visible GPU"),
]


@pytest.fixture
def cp():
    return backend.require_gpu()


@pytest.mark.parametrize("stride, pad", [(1, 1), (2, 0), (2, 2)])
def test_conv_parity(cp, stride, pad):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 4, 9, 7)), rng.standard_normal((5, 4, 3, 3)), rng.standard_normal(5)
    out, cache = conv2d_forward(x, w, b, stride, pad)
    out_g, cache_g = conv2d_forward(cp.asarray(x), cp.asarray(w), cp.asarray(b), stride, pad)
    assert isinstance(out_g, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(out_g), out, rtol=1e-10, atol=1e-10)
    dout = rng.standard_normal(out.shape)
    for host, dev in zip(conv2d_backward(dout, cache), conv2d_backward(cp.asarray(dout), cache_g)):
        np.testing.assert_allclose(cp.asnumpy(dev), host, rtol=1e-10, atol=1e-10)


def test_goodness_parity(cp):
    rng = np.random.default_rng(1)
    y = rng.standard_normal((2, 3, 7, 9))
    g, cache = spatial_goodness_forward(y, 3)
    g_g, cache_g = spatial_goodness_forward(cp.asarray(y), 3)
    np.testing.assert_allclose(cp.asnumpy(g_g), g, rtol=1e-10)
    dg = rng.standard_normal(g.shape)
    np.testing.assert_allclose(cp.asnumpy(spatial_goodness_backward(cp.asarray(dg), cache_g)),
                               spatial_goodness_backward(dg, cache), rtol=1e-10, atol=1e-12)


def test_local_loss_parity(cp):
    rng = np.random.default_rng(2)
    args = [rng.standard_normal((4, 2, 8, 8)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3),
            rng.standard_normal((12, 5)), rng.standard_normal(5), rng.integers(0, 5, 4)]
    host = asge_local_loss(*args, 2)
    dev = asge_local_loss(*[cp.asarray(a) for a in args], 2)
    for h, d in zip(host, dev):
        np.testing.assert_allclose(cp.asnumpy(d), h, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("between", BETWEEN_LAYERS)
def test_training_step_parity(cp, between):
    """Same seed: identical start on both backends, and float64 steps that agree closely."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 1, 32, 32))
    y = rng.integers(0, 10, 16)
    cpu = asge_np.build_model("vgg8", 1, 10, width=0.125, seed=5, dtype=np.float64, between=between)
    gpu = asge_np.build_model("vgg8", 1, 10, width=0.125, seed=5, dtype=np.float64, gpu=True, between=between)
    for name, value in gpu.state_dict().items():
        np.testing.assert_array_equal(value, cpu.state_dict()[name], err_msg=name)
    for _ in range(3):
        out_c, out_g = cpu.train_step(x, y), gpu.train_step(cp.asarray(x), cp.asarray(y))
    np.testing.assert_allclose(cp.asnumpy(out_g["layer_loss"]), out_c["layer_loss"], rtol=1e-8)
    np.testing.assert_allclose(float(out_g["ensemble_loss"]), float(out_c["ensemble_loss"]), rtol=1e-8)
    np.testing.assert_array_equal(cp.asnumpy(gpu.predict(x, "ensemble")), cpu.predict(x, "ensemble"))
