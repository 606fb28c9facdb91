"""2×2 average pooling and RMS pooling between layers, and global average pooling for the linear heads."""

from ..backend import get_array_module
from ..errors import ShapeError


def _spatial_axes(channels_last):
    return (1, 2) if channels_last else (2, 3)


def avgpool2x2_forward(x, channels_last=False):
    """Mean of every non-overlapping 2×2 window (stride 2; an odd last row/column is dropped,
    as PyTorch's AvgPool2d(2) does).

    x: (B, C, H, W) or (B, H, W, C)  ->  out: (B, C, H//2, W//2) or (B, H//2, W//2, C)
    """
    h_axis, w_axis = _spatial_axes(channels_last)
    H, W = x.shape[h_axis], x.shape[w_axis]
    if H < 2 or W < 2:
        raise ShapeError(f"2x2 average pooling needs at least 2x2 pixels, got {H}x{W}")
    Ho, Wo = H // 2, W // 2
    if channels_last:
        B, _, _, C = x.shape
        windows = x[:, :2 * Ho, :2 * Wo, :].reshape(B, Ho, 2, Wo, 2, C)
    else:
        B, C = x.shape[:2]
        windows = x[:, :, :2 * Ho, :2 * Wo].reshape(B, C, Ho, 2, Wo, 2)
    axes = (2, 4) if channels_last else (3, 5)
    return windows.mean(axis=axes), (x.shape, channels_last)


def avgpool2x2_backward(dout, cache):
    """Each input pixel gets a quarter of its window's gradient (zero for a dropped edge)."""
    x_shape, channels_last = cache
    xp = get_array_module(dout)
    h_axis, w_axis = _spatial_axes(channels_last)
    spread = xp.repeat(xp.repeat(dout * 0.25, 2, axis=h_axis), 2, axis=w_axis)
    if spread.shape == tuple(x_shape):
        return spread
    dx = xp.zeros(x_shape, dtype=dout.dtype)
    if channels_last:
        dx[:, :spread.shape[1], :spread.shape[2], :] = spread
    else:
        dx[:, :, :spread.shape[2], :spread.shape[3]] = spread
    return dx


def global_avg_pool_forward(x, channels_last=False):
    """Mean over all pixels of each channel.

    x: (B, C, H, W) or (B, H, W, C)  ->  out: (B, C)
    """
    return x.mean(axis=_spatial_axes(channels_last)), (x.shape, channels_last)


def global_avg_pool_backward(dout, cache):
    """Every pixel of a channel gets 1/(H·W) of that channel's gradient.  dout: (B, C)."""
    x_shape, channels_last = cache
    xp = get_array_module(dout)
    h_axis, w_axis = _spatial_axes(channels_last)
    scale = 1.0 / (x_shape[h_axis] * x_shape[w_axis])
    d = (dout * scale)[:, None, None, :] if channels_last else (dout * scale)[:, :, None, None]
    return xp.broadcast_to(d, x_shape).copy()


def rmspool2x2_forward(x, channels_last=False):
    """Root mean square of every non-overlapping 2×2 window: sqrt(avgpool2x2(x²)).  The
    "RMS pooling" variant between layers (the method page's known variants).

    x: (B, C, H, W) or (B, H, W, C)  ->  out: (B, C, H//2, W//2) or (B, H//2, W//2, C)
    """
    mean_sq, pool_cache = avgpool2x2_forward(x * x, channels_last)
    out = mean_sq ** 0.5
    return out, (x, out, pool_cache)


def rmspool2x2_backward(dout, cache):
    """out = sqrt(m), m = avgpool(x²):  dm = dout / (2·out),  dx = avgpool_backward(dm) · 2x
    = avgpool_backward(dout / out) · x.  An all-zero window (out = 0) passes no gradient."""
    x, out, pool_cache = cache
    xp = get_array_module(dout)
    safe = xp.where(out > 0, out, 1)
    return avgpool2x2_backward(xp.where(out > 0, dout / safe, 0), pool_cache) * x
