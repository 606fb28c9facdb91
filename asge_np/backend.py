"""Array backends: NumPy on the CPU, CuPy on the GPU, chosen from the arrays themselves.

Every op in :mod:`asge_np` takes its array module from its inputs (``xp = get_array_module(x)``)
and never calls NumPy on data that may live on the device.  Arrays cross between host and
device only at the edges: batches go in with :func:`to_device`, metrics come out with
:func:`to_host`.

Randomness always comes from a *host* :class:`numpy.random.Generator` (:func:`host_rng`), and
draws are moved to the device afterwards, so a CPU run and a GPU run with the same seed start
from identical weights, projections, shuffles and dropout masks.
"""

import numpy as np

from .errors import UserError

try:  # CuPy is optional: the CPU install does not have it.
    import cupy as _cupy
except Exception:  # ImportError, or a broken CUDA install raising something else
    _cupy = None


def get_array_module(*arrays):
    """Return the array module (``numpy``, ``cupy``, ...) that owns ``arrays``.

    CuPy arrays give ``cupy``; other array types that implement the array-API hook
    ``__array_namespace__`` give the namespace they report; everything else gives ``numpy``.
    """
    for a in arrays:
        if _cupy is not None and isinstance(a, _cupy.ndarray):
            return _cupy
    for a in arrays:
        namespace = getattr(a, "__array_namespace__", None)
        if namespace is not None and not isinstance(a, np.generic):
            return namespace()
    return np


def cupy_available():
    """True when CuPy imports and sees at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def require_gpu():
    """Return the ``cupy`` module, or raise :class:`UserError` saying what to install."""
    if _cupy is None:
        raise UserError(
            "--gpu needs CuPy, which is not installed: pip install cupy-cuda12x "
            "(or cupy-cuda13x, matching your CUDA), or run without --gpu"
        )
    if not cupy_available():
        raise UserError(
            "--gpu was asked for but CuPy sees no GPU: check nvidia-smi and your CUDA "
            "driver, or run without --gpu"
        )
    return _cupy


def array_module(gpu=False):
    """The array module for a run: ``cupy`` when ``gpu`` (checked), else ``numpy``."""
    return require_gpu() if gpu else np


def to_device(array, xp):
    """Move a host array to the array module ``xp`` (no copy when it is already there)."""
    return xp.asarray(array)


def to_host(array):
    """Return ``array`` as a NumPy array (an explicit device-to-host copy for CuPy)."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return np.asarray(array)
    to_numpy = getattr(array, "to_host", None)  # array types that refuse implicit conversion
    if to_numpy is not None:
        return to_numpy()
    return np.asarray(array)


def host_rng(seed):
    """The host random generator every random draw in asge_np comes from."""
    return np.random.default_rng(seed)


def library_versions():
    """Versions of the array libraries in use, for run records."""
    versions = {"numpy": np.__version__}
    if _cupy is not None:
        versions["cupy"] = _cupy.__version__
    return versions
