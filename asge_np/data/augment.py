"""Batch augmentation on NumPy or CuPy, with per-image random parameters from a host RNG.

Every augmentation takes float32 images (B, C, H, W) in [0, 1] and has two halves:
``sample(n, rng)`` draws the per-image parameters as host NumPy arrays from a
:class:`numpy.random.Generator`, and ``apply(x, params)`` applies them to the whole batch at once
with broadcasting on the images' own array module.  ``aug(x, rng)`` does both.  Splitting them
keeps CPU and GPU runs with the same seed identical, and lets tests check ``apply`` against a
per-image loop.

The definitions follow torchvision's tensor transforms (``RandomHorizontalFlip``,
``RandomCrop(padding=..)``, ``ColorJitter``, ``RandomGrayscale``) with one deliberate
difference: greyscale uses the ITU-R 601-2 luma weights 0.299/0.587/0.114 of PIL's
``convert("L")`` (the paper's code jitters PIL images) rather than torchvision-tensor's 0.2989.
PIL also rounds to uint8 after each jitter step; we stay in float32.
"""

import numpy as np

from ..backend import get_array_module

LUMA = (0.299, 0.587, 0.114)


def grayscale(x):
    """Luma of RGB images: (B, 3, H, W) -> (B, 1, H, W); 1-channel images are returned as is."""
    if x.shape[1] == 1:
        return x
    xp = get_array_module(x)
    w = xp.asarray(np.array(LUMA, dtype=np.float32)).reshape(1, 3, 1, 1)
    return (x * w).sum(axis=1, keepdims=True)


def _col(v, xp):
    """Per-image host values (B,) -> (B, 1, 1, 1) float32 on ``xp`` for broadcasting."""
    return xp.asarray(np.asarray(v, dtype=np.float32)).reshape(-1, 1, 1, 1)


def _blend(a, b, factor):
    """torchvision's ``_blend``: clip(factor * a + (1 - factor) * b, 0, 1)."""
    xp = get_array_module(a)
    return xp.clip(factor * a + (1 - factor) * b, 0.0, 1.0)


def adjust_brightness(x, factor):
    """x * factor, clipped; ``factor`` per image (B,)."""
    xp = get_array_module(x)
    return _blend(x, 0.0, _col(factor, xp))


def adjust_contrast(x, factor):
    """Blend each image with the mean of its greyscale version; ``factor`` (B,)."""
    xp = get_array_module(x)
    mean = grayscale(x).mean(axis=(1, 2, 3), keepdims=True)
    return _blend(x, mean, _col(factor, xp))


def adjust_saturation(x, factor):
    """Blend each image with its greyscale version; 1-channel images are unchanged."""
    if x.shape[1] == 1:
        return x
    xp = get_array_module(x)
    return _blend(x, grayscale(x), _col(factor, xp))


def rgb_to_hsv(x):
    """(B, 3, H, W) RGB in [0, 1] -> (B, 3, H, W) HSV with hue in [0, 1)."""
    xp = get_array_module(x)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc = x.max(axis=1)
    minc = x.min(axis=1)
    delta = maxc - minc
    grey = delta == 0
    s = delta / xp.where(maxc == 0, 1.0, maxc)
    d = xp.where(grey, 1.0, delta)  # avoids 0/0; hue of a grey pixel is 0 anyway
    rc, gc, bc = (maxc - r) / d, (maxc - g) / d, (maxc - b) / d
    h = xp.where(maxc == r, bc - gc, xp.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = xp.where(grey, 0.0, (h / 6.0) % 1.0)
    return xp.stack([h, s, maxc], axis=1).astype(x.dtype)


def hsv_to_rgb(x):
    """(B, 3, H, W) HSV (hue in [0, 1)) -> RGB, the sector formula of :mod:`colorsys`."""
    xp = get_array_module(x)
    h, s, v = x[:, 0], x[:, 1], x[:, 2]
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(xp.int64) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    sectors = [  # (r, g, b) in each sixth of the hue circle
        (v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q),
    ]
    out = []
    for ch in range(3):
        table = xp.stack([sec[ch] for sec in sectors])  # (6, B, H, W)
        out.append(xp.take_along_axis(table, i[None], axis=0)[0])
    return xp.stack(out, axis=1).astype(x.dtype)


def adjust_hue(x, shift):
    """Rotate hue by ``shift`` (B,) turns in [-0.5, 0.5]; 1-channel images are unchanged."""
    if x.shape[1] == 1:
        return x
    xp = get_array_module(x)
    hsv = rgb_to_hsv(x)
    h = (hsv[:, 0] + xp.asarray(np.asarray(shift, dtype=np.float32)).reshape(-1, 1, 1)) % 1.0
    return hsv_to_rgb(xp.stack([h, hsv[:, 1], hsv[:, 2]], axis=1))


class HorizontalFlip:
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def sample(self, n, rng):
        return {"flip": rng.random(n) < self.p}

    def apply(self, x, params):
        xp = get_array_module(x)
        flip = xp.asarray(params["flip"]).reshape(-1, 1, 1, 1)
        return xp.where(flip, x[..., ::-1], x)

    def __call__(self, x, rng):
        return self.apply(x, self.sample(x.shape[0], rng))


class RandomCrop:
    """Zero-pad by ``padding`` on every side, then cut a random ``size`` x ``size`` window."""

    def __init__(self, size=32, padding=4):
        self.size, self.padding = size, padding

    def sample(self, n, rng, height=None, width=None):
        height = self.size if height is None else height
        width = self.size if width is None else width
        top_max = height + 2 * self.padding - self.size
        left_max = width + 2 * self.padding - self.size
        if top_max < 0 or left_max < 0:
            raise ValueError(f"crop {self.size} larger than padded image {height}x{width}")
        return {"top": rng.integers(0, top_max + 1, n), "left": rng.integers(0, left_max + 1, n)}

    def apply(self, x, params):
        xp = get_array_module(x)
        p = self.padding
        padded = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        ar = xp.arange(self.size)
        rows = xp.asarray(params["top"]).reshape(-1, 1) + ar  # (B, size)
        cols = xp.asarray(params["left"]).reshape(-1, 1) + ar
        b = xp.arange(x.shape[0]).reshape(-1, 1, 1, 1)
        c = xp.arange(x.shape[1]).reshape(1, -1, 1, 1)
        return padded[b, c, rows[:, None, :, None], cols[:, None, None, :]]

    def __call__(self, x, rng):
        return self.apply(x, self.sample(x.shape[0], rng, x.shape[2], x.shape[3]))


class ColorJitter:
    """torchvision's ColorJitter: per image, brightness/contrast/saturation factors uniform in
    [max(0, 1 - v), 1 + v], a hue shift uniform in [-hue, hue], applied in a random order."""

    OPS = ("brightness", "contrast", "saturation", "hue")

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
        if not 0 <= hue <= 0.5:
            raise ValueError("hue must be in [0, 0.5]")
        self.amounts = dict(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue)

    def sample(self, n, rng):
        params = {"order": np.argsort(rng.random((n, 4)), axis=1)}  # a uniform permutation each
        for op in self.OPS:
            v = self.amounts[op]
            lo, hi = (-v, v) if op == "hue" else (max(0.0, 1.0 - v), 1.0 + v)
            params[op] = rng.uniform(lo, hi, n)
        return params

    def apply(self, x, params):
        xp = get_array_module(x)
        fns = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        order = params["order"]
        x = x.copy()  # updated in place below, image subset by image subset
        for step in range(4):
            for k, (op, fn) in enumerate(zip(self.OPS, fns)):
                if not self.amounts[op]:
                    continue  # torchvision skips an op set to 0
                chosen = np.flatnonzero(order[:, step] == k)  # images doing op k at this step
                if chosen.size:
                    idx = xp.asarray(chosen)
                    x[idx] = fn(x[idx], params[op][chosen])
        return x

    def __call__(self, x, rng):
        return self.apply(x, self.sample(x.shape[0], rng))


class RandomGrayscale:
    """Replace an RGB image by its luma (copied to every channel) with probability ``p``."""

    def __init__(self, p=0.1):
        self.p = p

    def sample(self, n, rng):
        return {"grey": rng.random(n) < self.p}

    def apply(self, x, params):
        xp = get_array_module(x)
        grey = xp.asarray(params["grey"]).reshape(-1, 1, 1, 1)
        return xp.where(grey, grayscale(x), x)

    def __call__(self, x, rng):
        return self.apply(x, self.sample(x.shape[0], rng))


class Compose:
    """Apply augmentations in sequence, each drawing from the same host RNG."""

    def __init__(self, *augs):
        self.augs = augs

    def __call__(self, x, rng):
        for aug in self.augs:
            x = aug(x, rng)
        return x


def augmentation_for(name):
    """The public code's training augmentation for a dataset, or None (MNIST)."""
    from .datasets import canonical_name

    key = canonical_name(name)
    if key == "mnist":
        return None
    if key == "fashionmnist":
        return Compose(HorizontalFlip(0.5))
    return Compose(RandomCrop(32, padding=4), HorizontalFlip(0.5),
                   ColorJitter(0.4, 0.4, 0.4, 0.1), RandomGrayscale(0.2))
