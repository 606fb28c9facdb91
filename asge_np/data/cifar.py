"""CIFAR-10 / CIFAR-100 "python version" archives, read without arbitrary unpickling.

The official batches are Python 2 pickles of dicts holding byte strings, lists of ints and one
uint8 NumPy array (``b'data'``, shape (N, 3072), channel-major 32x32 planes).  Unpickling them
with :mod:`pickle` as-is would run whatever callable a tampered file names, so
:class:`RestrictedUnpickler` resolves exactly the three globals a NumPy array needs
(``_reconstruct``, ``ndarray``, ``dtype``) and refuses every other one.

Archives are read in memory (nothing is extracted), and every member is checked anyway: a
member with an absolute path, a ``..`` component, or that is a link or device is refused, since
an archive holding one is not an official file and extracting it could write outside the
target folder.
"""

import io
import pickle
import posixpath
import tarfile

import numpy as np

from ..errors import UserError

# The very function NumPy pickles arrays with, whichever module path a file names for it
# (NumPy 1 writes numpy.core.multiarray, NumPy 2 numpy._core.multiarray).
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ForbiddenGlobal(pickle.UnpicklingError):
    """A pickle named a global outside the allow-list."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build plain containers and NumPy arrays, and nothing else."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ForbiddenGlobal(f"global {module}.{name} is not allowed") from None


def safe_unpickle(data, source="pickle"):
    """Unpickle ``data`` (bytes) with :class:`RestrictedUnpickler`; UserError if it is refused.

    ``encoding='bytes'`` keeps Python 2 strings as bytes, as the official files need.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except ForbiddenGlobal as e:
        raise UserError(f"refusing {source}: {e} (not an official CIFAR batch)") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
        raise UserError(f"{source} is damaged or truncated ({type(e).__name__}); download it again") from None


def _key(d, name):
    """``d[name]`` accepting bytes or str keys (Python 2 vs Python 3 pickles)."""
    for k in (name.encode(), name):
        if k in d:
            return d[k]
    raise KeyError(name)


def _text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def parse_batch(data, label_key, source="CIFAR batch"):
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 from one pickled batch."""
    d = safe_unpickle(data, source)
    try:
        images = _key(d, "data")
        labels = _key(d, label_key)
    except (KeyError, TypeError):
        raise UserError(f"{source} lacks 'data' or '{label_key}'; it is not a CIFAR batch") from None
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
        raise UserError(f"{source}: 'data' is not a uint8 (N, 3072) array; it is not a CIFAR batch")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.shape != (images.shape[0],):
        raise UserError(f"{source}: '{label_key}' is not one integer per image")
    return images.reshape(-1, 3, 32, 32).copy(), labels.astype(np.int64)


def parse_meta(data, names_key, source="CIFAR meta"):
    """Class names (list of str) from ``batches.meta`` / ``meta``."""
    d = safe_unpickle(data, source)
    try:
        return [_text(v) for v in _key(d, names_key)]
    except (KeyError, TypeError):
        raise UserError(f"{source} lacks '{names_key}'; it is not a CIFAR meta file") from None


def check_member(member, archive="archive"):
    """Raise UserError unless tar ``member`` is a regular file or folder inside the archive root."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or posixpath.isabs(name) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise UserError(f"refusing {archive}: member {name!r} would land outside the target folder")
    if not (member.isfile() or member.isdir()):
        raise UserError(f"refusing {archive}: member {name!r} is a link or special file")


def read_tar_members(path, wanted):
    """Bytes of the members of tar archive ``path`` whose base names are in ``wanted``.

    Every member is checked with :func:`check_member` first.  Returns ``{base name: bytes}``;
    raises UserError if the archive is damaged or a wanted member is missing.
    """
    out = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            for m in members:
                check_member(m, archive=str(path))
            for m in members:
                base = posixpath.basename(m.name)
                if m.isfile() and base in wanted:
                    out[base] = tar.extractfile(m).read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise UserError(f"{path} is damaged or truncated ({e}); delete it and download it again") from None
    missing = sorted(set(wanted) - set(out))
    if missing:
        raise UserError(f"{path} lacks {', '.join(missing)}; it is not an official CIFAR archive")
    return out
