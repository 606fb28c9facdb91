"""The ASGE layer: convolution → ReLU → spatial goodness → fixed projection → cross-entropy,
with its layer-local gradients, and the linear heads.

Nothing flows backwards out of a layer: its input x is a constant for its update, and the
projection (R, r) is fixed.  The only trained parameters are the conv weight and bias, whose
gradients come from the chain, each step the backward of one op::

    a = g·R + r            dg = dA·Rᵀ                      (dA = (softmax(a) − onehot(y)) / B)
    g = goodness(y)        dy = 2·y ⊙ (A_hᵀ·dG·A_w)
    y = relu(z)            dz = dy ⊙ [z > 0]
    z = conv(x, w, β)      dw = colsᵀ·dz,  dβ = Σ dz
"""

from .backend import get_array_module
from .errors import ShapeError
from .goodness import (
    projection_backward,
    projection_forward,
    spatial_goodness_backward,
    spatial_goodness_forward,
)
from .ops import conv2d_backward, conv2d_forward, relu_forward, softmax_cross_entropy


def asge_layer_forward(x, w, b, R, r, grid, channels_last=True, reduction="mean"):
    """Forward pass of one ASGE layer ('same' padding, stride 1).

    x: (B, H, W, C_in) (or (B, C_in, H, W) when not ``channels_last``), w: (C, C_in, k, k) with
    k odd, b: (C,), R: (C·P·P, N), r: (N,), grid: P
    returns logits a: (B, N), the post-ReLU map y (x's layout, C channels), and the cache.
    """
    k = w.shape[2]
    if w.shape[2] != w.shape[3] or k % 2 == 0:
        raise ShapeError(f"an ASGE layer needs a square odd kernel for 'same' padding, got {w.shape[2]}x{w.shape[3]}")
    z, conv_cache = conv2d_forward(x, w, b, stride=1, pad=k // 2, channels_last=channels_last)
    y, relu_cache = relu_forward(z, out=z)  # z is not needed again: ReLU in place
    g, goodness_cache = spatial_goodness_forward(y, grid, channels_last=channels_last, reduction=reduction)
    a, projection_cache = projection_forward(g, R, r)
    return a, y, (conv_cache, relu_cache, goodness_cache, projection_cache)


def asge_layer_backward(dlogits, cache):
    """Local gradients of one ASGE layer.  dlogits: (B, N)  ->  dw (C, C_in, k, k), db (C,)."""
    conv_cache, relu_cache, goodness_cache, projection_cache = cache
    dg = projection_backward(dlogits, projection_cache)
    dy = spatial_goodness_backward(dg, goodness_cache)
    # relu_backward(dy, relu_cache) would multiply by [z > 0]; but dy = 2·y·(...) and y = 0
    # wherever z ≤ 0, so dy already vanishes there: the mask changes nothing and is skipped.
    dz = dy
    _, dw, db = conv2d_backward(dz, conv_cache, need_dx=False)  # no gradient leaves the layer
    return dw, db


def asge_local_loss(x, w, b, R, r, labels, grid):
    """One layer's mean cross-entropy and its gradients; a pure function with no state.

    x: (B, C_in, H, W), w: (C, C_in, k, k) (k odd), b: (C,), R: (C·P·P, N), r: (N,),
    labels: (B,) integers, grid: P   ->   loss (0-d array), dw (C, C_in, k, k), db (C,)
    """
    logits, _, cache = asge_layer_forward(x, w, b, R, r, grid, channels_last=False)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    dw, db = asge_layer_backward(dlogits, cache)
    return loss, dw, db


def kaiming_normal(shape, fan_in, rng, dtype):
    """He initialisation for ReLU layers, drawn on the host: N(0, 2/fan_in)."""
    return (rng.standard_normal(shape) * (2.0 / fan_in) ** 0.5).astype(dtype)
