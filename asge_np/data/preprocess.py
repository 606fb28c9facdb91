"""Deterministic preprocessing on NumPy or CuPy: scaling, 28->32 resizing/padding, splits.

The paper's code (KCL-KAI-Lab/ASGE, ``Load_Dataset.py``) resizes MNIST and FashionMNIST with
``transforms.Resize((32, 32))`` *before* ``ToTensor``, i.e. on the PIL image torchvision's
MNIST datasets hand out (mode "L").  Pillow's bilinear resize is a separable two-pass filter
(horizontal first when enlarging) with fixed-point weights, and it rounds to uint8 after each pass.
:func:`resize_images` with ``mode="pil"`` (the default) reproduces that integer arithmetic
exactly, so our 32x32 images are the paper's bit for bit; ``mode="float"`` is the same filter
in float32 without rounding, which is what ``Resize`` does on a float tensor (for upsampling,
antialias or not, this is plain bilinear with half-pixel centres, ``align_corners=False``).
"""

import numpy as np

from ..backend import get_array_module, host_rng

_PRECISION_BITS = 22  # Pillow's fixed-point precision for 8-bit images (32 - 8 - 2)
_CHUNK = 2048         # images per resize step: bounds the (N, C, H, W, taps) temporaries


def to_float(images):
    """uint8 (..., H, W) -> float32 in [0, 1] on the same array module (``ToTensor``'s x/255)."""
    xp = get_array_module(images)
    return images.astype(xp.float32) / xp.float32(255)


def _bilinear(x):
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def resample_weights(in_size, out_size):
    """Pillow's bilinear filter taps for one axis: indices and weights, both (out_size, K).

    Output pixel ``o`` has centre ``(o + 0.5) * in/out`` in input coordinates; its taps are the
    input pixels within the filter support (scaled up when shrinking, which antialiases),
    clipped at the borders and renormalised to sum 1.  Unused taps have index 0, weight 0.
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    ksize = int(np.ceil(support)) * 2 + 1
    inv = 1.0 / filterscale  # multiplied, not divided, to round exactly like Pillow
    index = np.zeros((out_size, ksize), dtype=np.int64)
    weight = np.zeros((out_size, ksize), dtype=np.float64)
    for o in range(out_size):
        centre = (o + 0.5) * scale
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), in_size)
        taps = [_bilinear((i - centre + 0.5) * inv) for i in range(lo, hi)]
        total = sum(taps)
        for k, w in enumerate(taps):
            index[o, k] = lo + k
            weight[o, k] = w / total if total else 0.0
    return index, weight


def _fixed_point(weight):
    """Pillow's rounding of float taps to integers with 22 fractional bits."""
    scaled = weight * (1 << _PRECISION_BITS)
    return np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5)).astype(np.int64)


def _pass(x, index, weight, axis, rounding):
    """Apply one axis of the filter: x (..., n_in, ...) -> (..., n_out, ...) along ``axis``."""
    xp = get_array_module(x)
    x = xp.moveaxis(x, axis, -1)
    index = xp.asarray(index)
    acc = None
    for k in range(index.shape[1]):
        term = x[..., index[:, k]] * xp.asarray(weight[:, k])
        acc = term if acc is None else acc + term
    if rounding:  # Pillow: add half, shift, clip to uint8
        acc = (acc + (1 << (_PRECISION_BITS - 1))) >> _PRECISION_BITS
        acc = xp.clip(acc, 0, 255).astype(xp.uint8)
    return xp.moveaxis(acc, -1, axis)


def resize_images(images, size=32, mode="pil"):
    """Bilinear resize of (N, C, H, W) images to (N, C, size, size), on NumPy or CuPy.

    ``mode="pil"``: uint8 in, uint8 out, bit-identical to Pillow's ``Image.resize(BILINEAR)``
    (what the paper's ``transforms.Resize`` on PIL images does).  ``mode="float"``: any input,
    float32 out, the same filter without intermediate rounding (torchvision on tensors).
    """
    xp = get_array_module(images)
    n, _, h, w = images.shape
    if (h, w) == (size, size):
        return images if mode == "pil" else images.astype(xp.float32)
    if mode not in ("pil", "float"):
        raise ValueError(f"mode must be 'pil' or 'float', not {mode!r}")
    if mode == "pil" and images.dtype != np.uint8:
        raise ValueError("mode='pil' resizes uint8 images; use mode='float' for float input")
    iy, wy = resample_weights(h, size)
    ix, wx = resample_weights(w, size)
    if mode == "pil":
        wy, wx = _fixed_point(wy), _fixed_point(wx)
    else:
        wy, wx = wy.astype(np.float32), wx.astype(np.float32)
    out = []
    for start in range(0, max(n, 1), _CHUNK):
        x = images[start:start + _CHUNK]
        x = x if mode == "pil" else x.astype(xp.float32)
        passes = [(ix, wx, 3), (iy, wy, 2)]
        if size < h:  # Pillow (13) shrinks vertically first; otherwise horizontal goes first
            passes.reverse()
        for index, weight, axis in passes:
            x = _pass(x.astype(xp.int64) if mode == "pil" else x, index, weight, axis, mode == "pil")
        out.append(x)
    return xp.concatenate(out) if len(out) > 1 else out[0]


def pad_images(images, size=32):
    """Zero-pad (N, C, H, W) images centred to (N, C, size, size) (e.g. 28 -> 32: 2 each side)."""
    xp = get_array_module(images)
    _, _, h, w = images.shape
    top, left = (size - h) // 2, (size - w) // 2
    if top < 0 or left < 0:
        raise ValueError(f"cannot pad {h}x{w} images to {size}x{size}")
    pads = ((0, 0), (0, 0), (top, size - h - top), (left, size - w - left))
    return xp.pad(images, pads)


def fit_images(images, size=32, method="resize"):
    """Bring uint8 (N, C, H, W) images to (N, C, size, size) uint8: ``resize`` (Pillow bilinear,
    as the paper) or ``pad`` (zero borders, keeps the original pixels)."""
    if method == "resize":
        return resize_images(images, size, mode="pil")
    if method == "pad":
        return pad_images(images, size)
    raise ValueError(f"method must be 'resize' or 'pad', not {method!r}")


def split_indices(n, val_size, seed=0):
    """Seeded train/validation split of ``range(n)``: (train_idx, val_idx), each sorted int64."""
    if not 0 <= val_size <= n:
        raise ValueError(f"val_size {val_size} outside [0, {n}]")
    perm = host_rng(seed).permutation(n)
    return np.sort(perm[: n - val_size]), np.sort(perm[n - val_size:])


def train_val_split(dataset, seed=0, val_size=None):
    """Split ``dataset``'s training set: ((x_train, y_train), (x_val, y_val)) host arrays.

    ``val_size`` defaults to the public code's: 10000 for (Fashion)MNIST (50k/10k), 5000 for
    CIFAR (45k/5k), and a sixth of the set for others (e.g. synthetic data).
    """
    from .datasets import DATASETS  # late import: datasets imports nothing from here

    n = len(dataset.train_labels)
    if val_size is None:
        info = DATASETS.get(dataset.name)
        val_size = info.val_size if info is not None and n > info.val_size else n // 6
    train_idx, val_idx = split_indices(n, val_size, seed)
    return ((dataset.train_images[train_idx], dataset.train_labels[train_idx]),
            (dataset.train_images[val_idx], dataset.train_labels[val_idx]))
