import numpy as np
import pytest

from asge_np.errors import ShapeError
from asge_np.goodness import (
    adaptive_windows,
    grid_size,
    make_projection,
    projection_backward,
    projection_forward,
    spatial_goodness_backward,
    spatial_goodness_forward,
    spatial_goodness_naive,
)
from asge_np.gradcheck import eval_numerical_gradient_array, rel_error

# (B, C, H, W, P): divisible and non-divisible sizes, P = 1 and P = H
SHAPES = [(2, 3, 8, 8, 4), (2, 3, 8, 8, 2), (3, 2, 7, 7, 3), (2, 4, 5, 9, 2), (1, 2, 6, 5, 4),
          (2, 3, 4, 4, 1), (2, 2, 3, 3, 3), (1, 3, 10, 7, 6)]


def random_shapes(n, seed):
    r = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        H, W = int(r.integers(1, 12)), int(r.integers(1, 12))
        out.append((int(r.integers(1, 4)), int(r.integers(1, 5)), H, W, int(r.integers(1, min(H, W) + 1))))
    return out


def test_windows_match_pytorch_adaptive_pooling():
    # start = floor(i·H/P), end = ceil((i+1)·H/P), worked out by hand for H=7, P=3 and H=10, P=4
    assert adaptive_windows(7, 3) == [(0, 3), (2, 5), (4, 7)]
    assert adaptive_windows(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]
    assert adaptive_windows(32, 4) == [(0, 8), (8, 16), (16, 24), (24, 32)]


def test_goodness_by_hand():
    y = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    g, _ = spatial_goodness_forward(y, 2)
    # top-left patch holds 0, 1, 4, 5: mean of squares (0 + 1 + 16 + 25) / 4
    assert g.shape == (1, 4)
    assert np.allclose(g[0], [42 / 4, (4 + 9 + 36 + 49) / 4, (64 + 81 + 144 + 169) / 4, (100 + 121 + 196 + 225) / 4])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", SHAPES + random_shapes(20, seed=3))
def test_forward_matches_naive_loops(shape, reduction, rng):
    B, C, H, W, P = shape
    y = rng.standard_normal((B, C, H, W))
    g, _ = spatial_goodness_forward(y, P, reduction=reduction)
    assert g.shape == (B, C * P * P)
    assert rel_error(g, spatial_goodness_naive(y, P, reduction=reduction)) < 1e-10
    g_cl, _ = spatial_goodness_forward(np.ascontiguousarray(y.transpose(0, 2, 3, 1)), P, channels_last=True, reduction=reduction)
    assert np.allclose(g_cl, g)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", SHAPES + random_shapes(6, seed=5))
def test_backward_matches_numerical_gradient(shape, reduction, rng, record_gradcheck):
    B, C, H, W, P = shape
    for channels_last in (False, True):
        y = rng.standard_normal((B, H, W, C) if channels_last else (B, C, H, W))
        y += np.where(y < 0, -0.05, 0.05)  # dy ∝ y: entries near 0 would compare round-off with round-off
        g, cache = spatial_goodness_forward(y, P, channels_last=channels_last, reduction=reduction)
        dg = rng.standard_normal(g.shape)
        dy = spatial_goodness_backward(dg, cache)
        f = lambda: spatial_goodness_forward(y, P, channels_last=channels_last, reduction=reduction)[0]  # noqa: E731
        # goodness is quadratic in y, so central differences have no truncation error at any h;
        # a larger h only shrinks round-off, which matters where y (and so dy) is near zero
        err = rel_error(dy, eval_numerical_gradient_array(f, y, dg, h=1e-3))
        assert record_gradcheck("spatial goodness dy", err) < 1e-6


def test_projection_and_its_gradient(rng, record_gradcheck):
    R, r = make_projection(12, 5, rng, dtype=np.float64)
    g = rng.standard_normal((3, 12))
    a, cache = projection_forward(g, R, r)
    assert np.allclose(a, g @ R + r)
    da = rng.standard_normal(a.shape)
    dg = projection_backward(da, cache)
    err = rel_error(dg, eval_numerical_gradient_array(lambda: projection_forward(g, R, r)[0], g, da))
    assert record_gradcheck("fixed projection dg", err) < 1e-6


def test_projection_scale_is_one_over_sqrt_classes():
    R, r = make_projection(4000, 100, np.random.default_rng(0))
    assert R.dtype == np.float32
    assert abs(R.std() - 0.1) < 0.002 and abs(R.mean()) < 0.002


def test_grid_sizes_of_vgg8():
    widths = [128, 256, 256, 512, 512, 512, 512]
    assert [grid_size(c, 512) for c in widths] == [4, 2, 2, 1, 1, 1, 1]
    assert [grid_size(c, 512, alpha=2.0) for c in widths] == [16, 4, 4, 1, 1, 1, 1]


@pytest.mark.parametrize("shape, grid, message", [((2, 3, 4), 2, "4-d"), ((2, 3, 4, 4), 5, "finer"),
                                                   ((2, 3, 4, 4), 0, "positive")])
def test_bad_input_gives_clear_errors(shape, grid, message):
    with pytest.raises(ShapeError, match=message):
        spatial_goodness_forward(np.zeros(shape), grid)
