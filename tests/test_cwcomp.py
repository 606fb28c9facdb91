"""Channel-wise goodness (CwComp baseline): loops, numerical gradients, the channel constraint."""

import numpy as np
import pytest

from asge_np.cwcomp import (
    channelwise_goodness_backward,
    channelwise_goodness_forward,
    channelwise_goodness_naive,
    check_channel_groups,
    cwcomp_local_loss,
)
from asge_np.errors import UserError
from asge_np.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

# (B, C, H, W, N): one channel per class, several per class, odd sizes, N = 1
SHAPES = [(2, 4, 5, 5, 4), (3, 6, 4, 7, 3), (2, 8, 3, 3, 2), (1, 5, 6, 4, 1), (2, 20, 2, 2, 10)]


def test_goodness_by_hand():
    # two classes, one channel each: class 0 sees 1, 2, 3, 4 and class 1 sees 0, 0, 0, 2
    y = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 2.0]]]])
    g, _ = channelwise_goodness_forward(y, 2)
    assert np.allclose(g, [[(1 + 4 + 9 + 16) / 4, 4 / 4]])


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_naive_loops(shape, rng):
    B, C, H, W, N = shape
    y = rng.standard_normal((B, C, H, W))
    g, _ = channelwise_goodness_forward(y, N)
    assert g.shape == (B, N)
    assert rel_error(g, channelwise_goodness_naive(y, N)) < 1e-12
    g_cl, _ = channelwise_goodness_forward(np.ascontiguousarray(y.transpose(0, 2, 3, 1)), N, channels_last=True)
    assert np.allclose(g_cl, g)


@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_numerical_gradient(shape, rng, record_gradcheck):
    B, C, H, W, N = shape
    y = rng.standard_normal((B, C, H, W))
    dg = rng.standard_normal((B, N))
    _, cache = channelwise_goodness_forward(y, N)
    dy = channelwise_goodness_backward(dg, cache)
    dy_num = eval_numerical_gradient_array(lambda: channelwise_goodness_forward(y, N)[0], y, dg)
    assert dy.shape == y.shape
    assert record_gradcheck("cwcomp goodness", rel_error(dy, dy_num)) < 1e-6
    # channels-last gives the same gradient, transposed
    y_cl = np.ascontiguousarray(y.transpose(0, 2, 3, 1))
    _, cache_cl = channelwise_goodness_forward(y_cl, N, channels_last=True)
    assert np.allclose(channelwise_goodness_backward(dg, cache_cl), dy.transpose(0, 2, 3, 1))


def test_backward_can_fail():
    # the check above is not vacuous: a gradient off by the factor 2 is caught
    rng = np.random.default_rng(0)
    y = rng.standard_normal((2, 4, 3, 3))
    dg = rng.standard_normal((2, 2))
    _, cache = channelwise_goodness_forward(y, 2)
    wrong = channelwise_goodness_backward(dg, cache) / 2
    dy_num = eval_numerical_gradient_array(lambda: channelwise_goodness_forward(y, 2)[0], y, dg)
    assert rel_error(wrong, dy_num) > 1e-2


def test_local_loss_gradients(rng, record_gradcheck):
    B, C_in, C, H, N = 3, 2, 6, 5, 3
    x = rng.standard_normal((B, C_in, H, H))
    w = rng.standard_normal((C, C_in, 3, 3)) * 0.3
    b = rng.standard_normal(C) * 0.1
    labels = rng.integers(0, N, B)
    loss, dw, db = cwcomp_local_loss(x, w, b, labels, N)
    assert np.ndim(loss) == 0 and dw.shape == w.shape and db.shape == b.shape
    f = lambda: cwcomp_local_loss(x, w, b, labels, N)[0]  # noqa: E731
    assert record_gradcheck("cwcomp layer dW", rel_error(dw, eval_numerical_gradient(f, w))) < 1e-6
    assert record_gradcheck("cwcomp layer db", rel_error(db, eval_numerical_gradient(f, b))) < 1e-6


@pytest.mark.parametrize("channels, classes", [(64, 100), (10, 3), (2, 4), (0, 1)])
def test_channel_count_must_be_a_multiple_of_classes(channels, classes):
    with pytest.raises(UserError, match="multiple of the class count"):
        check_channel_groups(channels, classes)
    if channels:
        with pytest.raises(UserError):
            channelwise_goodness_forward(np.ones((1, channels, 2, 2)), classes)


def test_float32_stays_float32():
    y = np.ones((2, 4, 3, 3), dtype=np.float32)
    g, cache = channelwise_goodness_forward(y, 2)
    assert g.dtype == np.float32
    assert channelwise_goodness_backward(np.ones((2, 2), np.float32), cache).dtype == np.float32
