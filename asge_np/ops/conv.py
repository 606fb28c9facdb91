"""2-D convolution as im2col + one matrix product, its backward, and a naive loop reference.

Layout.  The public arrays follow PyTorch: images ``(B, C, H, W)``, weights ``(F, C, kh, kw)``.
Inside the network, feature maps are kept *channels-last*, ``(B, H, W, C)``: then every im2col
copy moves runs of ``C`` contiguous numbers, and the matrix product's output ``(B·Ho·Wo, F)`` is
already the next channels-last map, with no transposing copy.  Pass ``channels_last=True`` to
use that layout; the default accepts and returns ``(B, C, H, W)``.

The whole convolution is one matrix product::

    cols[(b, y, x), (i, j, c)] = xpad[b, y·s + i, x·s + j, c]      (B·Ho·Wo, kh·kw·C)
    out = cols @ Wmat + bias,   Wmat[(i, j, c), f] = w[f, c, i, j]   (B·Ho·Wo, F)

and its gradients are the two other products of the same three matrices::

    dWmat = colsᵀ @ dout        (each weight touches every position it slid over)
    dcols = dout @ Wmatᵀ        (then col2im adds each column back where it was copied from)
    dbias = Σ_rows dout
"""

from ..backend import get_array_module
from ..errors import ShapeError


def conv_output_size(size, kernel, stride, pad):
    """Output length along one axis: ``(size + 2·pad − kernel) // stride + 1``."""
    return (size + 2 * pad - kernel) // stride + 1


def _check_conv_args(x_shape, w_shape, b_shape, stride, pad, channels_last):
    if len(x_shape) != 4:
        raise ShapeError(f"conv2d expects a 4-d input (B, C, H, W), got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ShapeError(f"conv2d expects 4-d weights (F, C, kh, kw), got shape {tuple(w_shape)}")
    channels = x_shape[3] if channels_last else x_shape[1]
    if w_shape[1] != channels:
        raise ShapeError(
            f"conv2d weights expect {w_shape[1]} input channels but the input has {channels}"
        )
    if b_shape is not None and tuple(b_shape) != (w_shape[0],):
        raise ShapeError(f"conv2d bias must have shape ({w_shape[0]},), got {tuple(b_shape)}")
    if int(stride) != stride or stride < 1:
        raise ShapeError(f"conv2d stride must be a positive integer, got {stride}")
    if int(pad) != pad or pad < 0:
        raise ShapeError(f"conv2d padding must be a non-negative integer, got {pad}")
    h, w = (x_shape[1], x_shape[2]) if channels_last else (x_shape[2], x_shape[3])
    if conv_output_size(h, w_shape[2], stride, pad) < 1 or conv_output_size(w, w_shape[3], stride, pad) < 1:
        raise ShapeError(
            f"conv2d kernel {w_shape[2]}x{w_shape[3]} does not fit a {h}x{w} input with padding {pad}"
        )


def im2col(x, kh, kw, stride, pad):
    """Unfold every ``kh×kw`` window of a channels-last batch into one row.

    x: (B, H, W, C)  ->  cols: (B·Ho·Wo, kh·kw·C), columns ordered (i, j, c).
    One strided slice per kernel offset: ``kh·kw`` copies, each of a whole (B, Ho, Wo, C) block.
    """
    xp = get_array_module(x)
    B, H, W, C = x.shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    if pad:
        xpad = xp.zeros((B, H + 2 * pad, W + 2 * pad, C), dtype=x.dtype)
        xpad[:, pad:pad + H, pad:pad + W, :] = x
    else:
        xpad = x
    cols = xp.empty((B, Ho, Wo, kh, kw, C), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xpad[:, i:i + stride * Ho:stride, j:j + stride * Wo:stride, :]
    return cols.reshape(B * Ho * Wo, kh * kw * C)


def col2im(dcols, x_shape, kh, kw, stride, pad):
    """Adjoint of :func:`im2col`: add every row's entries back to the pixels they came from.

    dcols: (B·Ho·Wo, kh·kw·C)  ->  dx: (B, H, W, C) with ``x_shape = (B, H, W, C)``.
    """
    xp = get_array_module(dcols)
    B, H, W, C = x_shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    dcols = dcols.reshape(B, Ho, Wo, kh, kw, C)
    dxpad = xp.zeros((B, H + 2 * pad, W + 2 * pad, C), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxpad[:, i:i + stride * Ho:stride, j:j + stride * Wo:stride, :] += dcols[:, :, :, i, j, :]
    return dxpad[:, pad:pad + H, pad:pad + W, :]


def weights_to_matrix(w):
    """(F, C, kh, kw) -> Wmat (kh·kw·C, F), rows ordered like the im2col columns (i, j, c)."""
    F, C, kh, kw = w.shape
    return w.transpose(2, 3, 1, 0).reshape(kh * kw * C, F)


def matrix_to_weights(wmat, w_shape):
    """Inverse of :func:`weights_to_matrix`: (kh·kw·C, F) -> (F, C, kh, kw)."""
    F, C, kh, kw = w_shape
    return wmat.reshape(kh, kw, C, F).transpose(3, 2, 0, 1)


def conv2d_forward(x, w, b, stride=1, pad=1, channels_last=False):
    """Convolution forward pass (cross-correlation, as in every deep-learning library).

    x: (B, C, H, W), or (B, H, W, C) when ``channels_last``
    w: (F, C, kh, kw);  b: (F,) or None
    returns out: (B, F, Ho, Wo) (or (B, Ho, Wo, F)), and the cache for the backward pass,
    with Ho = (H + 2·pad − kh) // stride + 1 and likewise Wo.
    """
    _check_conv_args(x.shape, w.shape, None if b is None else b.shape, stride, pad, channels_last)
    x_cl = x if channels_last else x.transpose(0, 2, 3, 1)
    B, H, W, C = x_cl.shape
    F, _, kh, kw = w.shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    cols = im2col(x_cl, kh, kw, stride, pad)
    wmat = weights_to_matrix(w)
    out = cols @ wmat  # (B·Ho·Wo, F): the one matrix product
    if b is not None:
        out += b
    out = out.reshape(B, Ho, Wo, F)
    cache = (cols, wmat, w.shape, x_cl.shape, stride, pad, channels_last, b is not None)
    return (out if channels_last else out.transpose(0, 3, 1, 2)), cache


def conv2d_backward(dout, cache, need_dx=True):
    """Convolution backward pass.

    dout: (B, F, Ho, Wo), or (B, Ho, Wo, F) when the forward was channels-last
    returns dx (same shape as x; None when ``need_dx`` is False), dw (F, C, kh, kw), db (F,)
    (None when the forward had no bias).
    """
    cols, wmat, w_shape, x_shape, stride, pad, channels_last, has_bias = cache
    F, C, kh, kw = w_shape
    dout_cl = dout if channels_last else dout.transpose(0, 2, 3, 1)
    dout_mat = dout_cl.reshape(-1, F)
    dw = matrix_to_weights(cols.T @ dout_mat, w_shape)  # dW = colsᵀ · dout
    db = dout_mat.sum(axis=0) if has_bias else None  # the bias is added to every row
    dx = None
    if need_dx:
        dx = col2im(dout_mat @ wmat.T, x_shape, kh, kw, stride, pad)  # dcols = dout · Wmatᵀ
        if not channels_last:
            dx = dx.transpose(0, 3, 1, 2)
    return dx, dw, db


def conv2d_naive(x, w, b, stride=1, pad=1):
    """Reference convolution by explicit loops over every output pixel; slow, obviously right.

    x: (B, C, H, W), w: (F, C, kh, kw), b: (F,) or None  ->  out: (B, F, Ho, Wo)
    """
    xp = get_array_module(x)
    B, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    xpad = xp.zeros((B, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    xpad[:, :, pad:pad + H, pad:pad + W] = x
    out = xp.zeros((B, F, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for f in range(F):
            for y in range(Ho):
                for xo in range(Wo):
                    window = xpad[n, :, y * stride:y * stride + kh, xo * stride:xo * stride + kw]
                    out[n, f, y, xo] = (window * w[f]).sum() + (0 if b is None else b[f])
    return out
