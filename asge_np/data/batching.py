"""Mini-batches: shuffle with the host RNG, move to the device, scale, augment."""

import numpy as np

from ..backend import to_device
from .preprocess import fit_images, to_float


def iterate_batches(images, labels, batch_size, rng=None, xp=np, transform=None,
                    drop_last=False, size=32, fit="resize", order=None, start_batch=0):
    """Yield (x, y) batches for one epoch.

    ``images``: uint8 host array (N, C, H, W); ``labels``: (N,) ints.  With ``rng`` (a host
    :class:`numpy.random.Generator`) the order is a fresh permutation, else the stored order.
    Each batch is gathered on the host (only the batch crosses to the device), moved to ``xp``,
    brought to ``size`` x ``size`` with ``fit`` ("resize" as the paper, or "pad") if it is not
    already, scaled to float32 in [0, 1], then passed through ``transform(x, rng)``.
    Yields x (B, C, size, size) float32 and y (B,) int64, both on ``xp``.  Every sample appears
    exactly once per epoch (the last short batch is dropped only with ``drop_last``).

    To resume an epoch part-way: pass the epoch's ``order`` (the permutation drawn at its start)
    and ``start_batch``; then ``rng`` is used only for the transform's draws.
    """
    n = len(labels)
    if len(images) != n:
        raise ValueError(f"{len(images)} images but {n} labels")
    if transform is not None and rng is None:
        raise ValueError("a transform needs an rng for its random draws")
    if order is None:
        order = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(start_batch * batch_size, stop, batch_size):
        idx = order[start:start + batch_size]
        x = to_device(np.ascontiguousarray(images[idx]), xp)
        y = to_device(np.asarray(labels[idx], dtype=np.int64), xp)
        if x.shape[2:] != (size, size):
            x = fit_images(x, size, method=fit)
        x = to_float(x) if x.dtype == np.uint8 else x.astype(xp.float32)
        if transform is not None:
            x = transform(x, rng)
        yield x, y


def num_batches(n, batch_size, drop_last=False):
    """How many batches :func:`iterate_batches` yields for ``n`` samples."""
    return n // batch_size if drop_last else -(-n // batch_size)
