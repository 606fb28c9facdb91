"""A small learnable dataset that needs no files: class-specific patterns plus noise."""

import numpy as np

from ..backend import host_rng
from .datasets import Dataset


def _class_patterns(num_classes, channels, size, rng):
    """One smooth random pattern per class, (K, C, size, size) in [0, 1].

    Each pattern is a sum of a few random oriented sinusoids, so classes differ in spatial
    structure (what a CNN picks up) rather than in mean brightness alone.
    """
    yy, xx = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    patterns = np.zeros((num_classes, channels, size, size))
    for k in range(num_classes):
        for c in range(channels):
            for _ in range(3):
                fy, fx = rng.uniform(-0.5, 0.5, 2)
                phase = rng.uniform(0, 2 * np.pi)
                patterns[k, c] += np.cos(fy * yy + fx * xx + phase)
    lo = patterns.min(axis=(2, 3), keepdims=True)
    hi = patterns.max(axis=(2, 3), keepdims=True)
    return (patterns - lo) / (hi - lo)


def make_synthetic(n=1200, num_classes=10, image_size=32, channels=1, seed=0, noise=0.25,
                   test_fraction=0.2):
    """A :class:`Dataset` named "synthetic" of uint8 (N, C, size, size) images.

    Image = its class pattern, randomly shifted by up to 2 pixels (so nearest-template matching
    is not trivial), plus Gaussian noise of std ``noise``.  ``n`` images in all, balanced
    classes, ``test_fraction`` of them in the test split; deterministic for a ``seed``.
    """
    rng = host_rng(seed)
    patterns = _class_patterns(num_classes, channels, image_size + 4, rng)
    labels = rng.permutation(np.arange(n) % num_classes).astype(np.int64)
    shifts = rng.integers(0, 5, (n, 2))
    images = np.empty((n, channels, image_size, image_size))
    for i in range(n):
        dy, dx = shifts[i]
        images[i] = patterns[labels[i], :, dy:dy + image_size, dx:dx + image_size]
    images += rng.normal(0.0, noise, images.shape)
    images = np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)
    n_test = int(round(n * test_fraction))
    return Dataset(
        name="synthetic",
        train_images=images[n_test:], train_labels=labels[n_test:],
        test_images=images[:n_test], test_labels=labels[:n_test],
        class_names=[f"class {k}" for k in range(num_classes)],
    )
