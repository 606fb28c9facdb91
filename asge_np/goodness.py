"""Spatial goodness: how strongly each channel fires in each cell of a P×P grid, and the fixed
random projection that turns those goodness values into class logits.

For a post-ReLU map y (one sample, one channel, H×W) cut into a P×P grid of patches::

    G[i, j] = mean over patch (i, j) of y²

When H (or W) is not divisible by P the patches follow PyTorch's adaptive average pooling:
patch row i covers rows floor(i·H/P) … ceil((i+1)·H/P) − 1, so patches may overlap by a row.

Written with a pooling matrix A (P, H), A[i, u] = 1/len(window i) for u in window i, the whole
grid is two matrix products, and the backward pass is the same products transposed::

    G  = A_h · y² · A_wᵀ
    dy = 2·y ⊙ (A_hᵀ · dG · A_w)

The goodness vector of a sample is G flattened in the order channel, patch row, patch column:
length C·P·P.  A fixed random matrix R (C·P·P, N) and offset r (N,) project it to N class
logits, a = g·R + r; R and r are drawn once and never trained.
"""

import functools
import math

import numpy as np

from .backend import get_array_module
from .errors import ShapeError


def adaptive_windows(size, grid):
    """The [start, stop) index ranges PyTorch's adaptive average pooling uses along one axis."""
    return [(math.floor(i * size / grid), math.ceil((i + 1) * size / grid)) for i in range(grid)]


@functools.lru_cache(maxsize=None)
def _host_pool_matrix(size, grid, reduction):
    A = np.zeros((grid, size))
    for i, (start, stop) in enumerate(adaptive_windows(size, grid)):
        A[i, start:stop] = 1.0 / (stop - start) if reduction == "mean" else 1.0
    return A


_device_pool_matrices = {}


def pool_matrix(size, grid, xp, dtype, reduction="mean"):
    """A (grid, size): row i averages (``reduction='mean'``) or sums window i of an axis.

    Built once per (module, dtype, size, grid) and kept, so the device receives it only once.
    """
    key = (xp.__name__, np.dtype(dtype).str, size, grid, reduction)
    A = _device_pool_matrices.get(key)
    if A is None:
        A = xp.asarray(_host_pool_matrix(size, grid, reduction).astype(dtype))
        _device_pool_matrices[key] = A
    return A


#: How a patch's squared activations become its goodness: their mean (the public code) or sum.
REDUCTIONS = ("mean", "sum")


def _check_goodness_args(y, grid, reduction):
    if y.ndim != 4:
        raise ShapeError(f"spatial goodness expects a 4-d feature map, got shape {tuple(y.shape)}")
    if int(grid) != grid or grid < 1:
        raise ShapeError(f"goodness grid must be a positive integer, got {grid}")
    if reduction not in REDUCTIONS:
        raise ShapeError(f"goodness reduction must be 'mean' or 'sum', got {reduction!r}")


def spatial_goodness_forward(y, grid, channels_last=False, reduction="mean"):
    """Patch goodness of a feature map.

    y: (B, C, H, W), or (B, H, W, C) when ``channels_last``; grid: P (patches per side, ≤ H, W)
    returns g: (B, C·P·P) ordered channel, patch row, patch column; and the cache.
    ``reduction='sum'`` sums the squares over a patch instead of averaging them.
    """
    _check_goodness_args(y, grid, reduction)
    xp = get_array_module(y)
    y_cl = y if channels_last else y.transpose(0, 2, 3, 1)
    B, H, W, C = y_cl.shape
    if grid > H or grid > W:
        raise ShapeError(f"goodness grid {grid}x{grid} is finer than the {H}x{W} feature map")
    A_h = pool_matrix(H, grid, xp, y.dtype, reduction)
    A_w = pool_matrix(W, grid, xp, y.dtype, reduction)
    squares = (y_cl * y_cl).reshape(B, H, W * C)
    rows = (A_h @ squares).reshape(B * grid, W, C)  # pool the rows:    (B, P, W·C)
    G = (A_w @ rows).reshape(B, grid, grid, C)  # then the columns:        (B, P, P, C)
    g = G.transpose(0, 3, 1, 2).reshape(B, C * grid * grid)
    return g, (y_cl, grid, A_h, A_w, channels_last)


def spatial_goodness_backward(dg, cache):
    """dg: (B, C·P·P)  ->  dy: the shape and layout of the forward's y.

    dy[b, u, v, c] = 2·y[b, u, v, c] · Σ_{i,j} A_h[i, u]·A_w[j, v]·dG[b, i, j, c]
    """
    y_cl, grid, A_h, A_w, channels_last = cache
    B, H, W, C = y_cl.shape
    # the factor 2 of d(y²)/dy is applied to the small dG, not to the full-size map
    dG = (2 * dg).reshape(B, C, grid, grid).transpose(0, 2, 3, 1).reshape(B * grid, grid, C)
    drows = (A_w.T @ dG).reshape(B, grid, W * C)  # (B, P, W·C)
    dy = (A_h.T @ drows).reshape(B, H, W, C)  # 2·dsquares, spread back over each patch
    dy *= y_cl  # in place: the product above is a fresh array
    return dy if channels_last else dy.transpose(0, 3, 1, 2)


def spatial_goodness_naive(y, grid, reduction="mean"):
    """Reference by explicit loops over samples, channels and patches.  y: (B, C, H, W)."""
    xp = get_array_module(y)
    B, C, H, W = y.shape
    g = xp.zeros((B, C, grid, grid), dtype=y.dtype)
    for i, (r0, r1) in enumerate(adaptive_windows(H, grid)):
        for j, (c0, c1) in enumerate(adaptive_windows(W, grid)):
            for b in range(B):
                for c in range(C):
                    patch = y[b, c, r0:r1, c0:c1]
                    g[b, c, i, j] = (patch ** 2).mean() if reduction == "mean" else (patch ** 2).sum()
    return g.reshape(B, C * grid * grid)


def grid_size(channels, last_channels, alpha=1.0):
    """P = (C_last / C)^α, rounded: fine grids for narrow layers, one patch for the widest."""
    return max(1, int(round((last_channels / channels) ** alpha)))


def make_projection(dim, num_classes, rng, dtype=np.float32):
    """Draw the fixed projection on the host: R (dim, N) and r (N,), both N(0, 1)/sqrt(N).

    rng: a host :class:`numpy.random.Generator`.  Returns NumPy arrays.
    """
    scale = 1.0 / math.sqrt(num_classes)
    R = rng.standard_normal((dim, num_classes)) * scale
    r = rng.standard_normal(num_classes) * scale
    return R.astype(dtype), r.astype(dtype)


def projection_forward(g, R, r):
    """Class logits from goodness: a = g·R + r.   g: (B, D), R: (D, N), r: (N,) -> a: (B, N)."""
    if g.ndim != 2 or R.shape[0] != g.shape[1]:
        raise ShapeError(
            f"projection: goodness of shape {tuple(g.shape)} does not match R of shape {tuple(R.shape)}"
        )
    return g @ R + r, R


def projection_backward(da, cache):
    """dg = da·Rᵀ (B, D).  R and r are fixed, so they get no gradient."""
    R = cache
    return da @ R.T
