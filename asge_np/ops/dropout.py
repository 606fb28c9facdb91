"""Inverted dropout: zero a fraction p of activations and scale the rest by 1/(1−p), so the
expected activation is unchanged and evaluation needs no rescaling."""

import math

from ..errors import UserError


def dropout_mask(shape, p, rng):
    """Draw a keep-mask on the host: True with probability 1 − p.

    rng: a host :class:`numpy.random.Generator` (so CPU and GPU runs draw the same mask).
    Returns a NumPy bool array of ``shape``; move it to the device with ``xp.asarray``.
    Drawn as 16-bit integers cut from the generator's raw 64-bit output (four per draw, about
    five times faster than floats): p is rounded to a multiple of 1/65536, far below anything
    that matters for dropout.
    """
    if not 0.0 <= p < 1.0:
        raise UserError(f"dropout probability must be in [0, 1), got {p}")
    threshold = int(round(p * 65536))
    n = math.prod(shape)
    raw = rng.bit_generator.random_raw((n + 3) // 4)  # uint64, uniform on every bit
    # '<u2' fixes the byte order, so every machine cuts the same 16-bit numbers from the draws
    bits = raw.astype("<u8", copy=False).view("<u2")[:n]
    return (bits >= threshold).reshape(shape)


def dropout_forward(x, p, keep):
    """out = x · keep / (1 − p).   x: any shape; keep: bool array of the same shape."""
    scale = 1.0 / (1.0 - p)
    out = x * keep
    out *= scale
    return out, (keep, scale)


def dropout_backward(dout, cache):
    """dx = dout · keep / (1 − p): the same mask and scale as the forward pass."""
    keep, scale = cache
    dx = dout * keep
    dx *= scale
    return dx
