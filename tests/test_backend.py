"""The core never converts arrays to NumPy behind the caller's back.

Every op, the whole layer and a full training step run on ``DeviceArray`` (tests/fake_device.py),
an array type that raises on any NumPy function call and on mixing with host arrays, as CuPy
does.  If any core code called ``np.`` on device data, these tests would fail.
"""

import numpy as np
import pytest

from asge_np import backend
from asge_np.errors import UserError
from asge_np.goodness import spatial_goodness_backward, spatial_goodness_forward
from asge_np.layers import asge_local_loss
from asge_np.models import BETWEEN_LAYERS, VGG_LAYOUTS, ASGENetwork
from asge_np import ops
from fake_device import DeviceArray, ImplicitConversionError, fake_xp, to_device


def test_fake_device_really_refuses_numpy():
    d = to_device(np.ones((2, 3)))
    with pytest.raises(ImplicitConversionError):
        np.sum(d)
    with pytest.raises(ImplicitConversionError):
        d + np.ones((2, 3))
    with pytest.raises(ImplicitConversionError):
        fake_xp.matmul(d, np.ones((3, 2)))
    assert backend.get_array_module(d) is fake_xp
    assert backend.get_array_module(np.ones(2)) is np


def all_device(*arrays):
    return all(isinstance(a, DeviceArray) for a in arrays)


def test_ops_stay_on_the_device(rng):
    x = to_device(rng.standard_normal((2, 3, 6, 6)))
    w, b = to_device(rng.standard_normal((4, 3, 3, 3))), to_device(rng.standard_normal(4))
    for channels_last in (False, True):
        xin = to_device(np.ascontiguousarray(x.to_host().transpose(0, 2, 3, 1))) if channels_last else x
        out, cache = ops.conv2d_forward(xin, w, b, stride=2, pad=1, channels_last=channels_last)
        assert all_device(out, *ops.conv2d_backward(out, cache))
        y, c = ops.relu_forward(out)
        assert all_device(y, ops.relu_backward(y, c))
        g, c = spatial_goodness_forward(y, 2, channels_last=channels_last)
        assert all_device(g, spatial_goodness_backward(g, c))
        p, c = ops.avgpool2x2_forward(y, channels_last)
        assert all_device(p, ops.avgpool2x2_backward(p, c))
        p, c = ops.rmspool2x2_forward(y, channels_last)
        assert all_device(p, ops.rmspool2x2_backward(p, c))
        n, c = ops.layer_norm_forward(y, axis=-1 if channels_last else 1)
        assert all_device(n, ops.layer_norm_backward(n, c))
        p, c = ops.global_avg_pool_forward(y, channels_last)
        assert all_device(p, ops.global_avg_pool_backward(p, c))
    n, c = ops.rms_norm_forward(x)
    assert all_device(n, ops.rms_norm_backward(n, c))
    keep = to_device(ops.dropout_mask(x.shape, 0.2, np.random.default_rng(0)))
    d, c = ops.dropout_forward(x, 0.2, keep)
    assert all_device(d, ops.dropout_backward(d, c))
    logits, labels = to_device(rng.standard_normal((4, 3))), to_device(np.array([0, 2, 1, 1]))
    loss, dlogits = ops.softmax_cross_entropy(logits, labels)
    assert all_device(dlogits)
    out, c = ops.linear_forward(logits, to_device(rng.standard_normal((3, 2))), to_device(np.zeros(2)))
    assert all_device(out, *ops.linear_backward(out, c))


def test_layer_and_training_step_stay_on_the_device(rng):
    x = to_device(rng.standard_normal((3, 2, 8, 8)))
    w, b = to_device(rng.standard_normal((4, 2, 3, 3))), to_device(np.zeros(4))
    R, r = to_device(rng.standard_normal((16, 5))), to_device(np.zeros(5))
    loss, dw, db = asge_local_loss(x, w, b, R, r, to_device(np.array([0, 1, 4])), 2)
    assert all_device(dw, db)

    images = to_device(rng.standard_normal((4, 1, 16, 16)).astype(np.float32))
    labels = to_device(np.array([0, 1, 2, 3]))
    for between in BETWEEN_LAYERS:
        model = ASGENetwork(VGG_LAYOUTS["vgg8"], 1, 4, xp=fake_xp, width=0.0625, seed=0, between=between)
        out = model.train_step(images, labels)
        assert all_device(out["layer_loss"], out["layer_acc"])
        assert all_device(model.layers[0].w.value, model.ensemble_heads[0].w.value)
        predictions = model.predict_all(images)
        assert all_device(predictions["layers"], predictions["head"], predictions["ensemble"])
    state = model.state_dict()  # the explicit edge: device -> host
    assert type(state["layers.0.w"]) is np.ndarray


def test_gpu_without_cupy_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    with pytest.raises(UserError, match="pip install cupy") as info:
        backend.array_module(gpu=True)
    assert "\n" not in str(info.value)


def test_host_rng_is_seeded():
    assert backend.host_rng(5).random() == backend.host_rng(5).random()
