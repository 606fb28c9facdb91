"""The IDX format of MNIST and FashionMNIST (gzip-compressed or plain).

An IDX file is a 4-byte magic ``00 00 <type> <ndim>``, ``ndim`` big-endian uint32 sizes, then
the values in C order.  Both datasets use type 0x08 (unsigned byte): labels have one dimension,
images three (N, rows, cols).
"""

import gzip
import zlib

import numpy as np

from ..errors import UserError

_UBYTE = 0x08


def read_idx_bytes(path):
    """The raw IDX bytes of ``path``, decompressing it if it is gzip; UserError if damaged."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise UserError(
            f"truncated file {path}: the gzip stream ends early; delete it and download it again"
        ) from None
    except (OSError, zlib.error) as e:
        raise UserError(f"corrupt gzip file {path} ({e}); delete it and download it again") from None


def parse_idx(data, ndim, source="IDX data"):
    """Parse unsigned-byte IDX ``data`` with ``ndim`` dimensions into a uint8 array.

    Raises UserError for a wrong magic number (not an IDX file, or images/labels swapped) and
    for a file shorter or longer than its header says.
    """
    header = 4 + 4 * ndim
    magic = bytes(data[:4])
    want = bytes([0, 0, _UBYTE, ndim])
    if magic != want:
        raise UserError(
            f"{source} is not an unsigned-byte IDX file with {ndim} dimension(s): wrong IDX magic "
            f"{magic.hex()} (expected {want.hex()}); check that the right file is in place"
        )
    if len(data) < header:
        raise UserError(f"truncated file {source}: the IDX header is incomplete; download it again")
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    size = int(np.prod(shape, dtype=np.int64))
    body = len(data) - header
    if body < size:
        raise UserError(
            f"truncated file {source}: {body} of {size} data bytes; delete it and download it again"
        )
    if body > size:
        raise UserError(f"{source} has {body - size} bytes beyond its IDX shape {shape}; it is damaged")
    return np.frombuffer(data, dtype=np.uint8, count=size, offset=header).reshape(shape).copy()


def load_idx(path, ndim):
    """Read and parse the IDX file at ``path`` (see :func:`parse_idx`)."""
    return parse_idx(read_idx_bytes(path), ndim, source=str(path))
