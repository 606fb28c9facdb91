"""ReLU and its derivative."""

from ..backend import get_array_module


def relu_forward(z, out=None):
    """y = max(z, 0).   z: any shape  ->  y: same shape; cache keeps y.

    ``out=z`` overwrites z in place (one pass, no new buffer) when the caller no longer needs z.
    """
    xp = get_array_module(z)
    y = xp.maximum(z, 0, out=out)  # maximum (not fmax) so a NaN still propagates
    return y, y


def relu_backward(dy, cache):
    """dz = dy ⊙ [z > 0]; the mask is read off the output, since y > 0 exactly where z > 0."""
    y = cache
    return dy * (y > 0)
