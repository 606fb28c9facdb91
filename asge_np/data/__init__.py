"""Datasets, preprocessing, augmentation and batching.

Public API::

    load_dataset(name, data_dir=None, download=True, progress=True) -> Dataset
    make_synthetic(n=1200, num_classes=10, image_size=32, channels=1, seed=0) -> Dataset
    train_val_split(dataset, seed=0, val_size=None) -> ((x_tr, y_tr), (x_val, y_val))
    fit_images / resize_images / pad_images / to_float            (NumPy or CuPy)
    augmentation_for(name), HorizontalFlip, RandomCrop, ColorJitter, RandomGrayscale, Compose
    iterate_batches(images, labels, batch_size, rng=None, xp=numpy, transform=None, ...)
"""

from .augment import (ColorJitter, Compose, HorizontalFlip, RandomCrop, RandomGrayscale,
                      augmentation_for)
from .batching import iterate_batches, num_batches
from .datasets import DATASETS, Dataset, canonical_name, load_dataset
from .preprocess import (fit_images, pad_images, resize_images, split_indices, to_float,
                         train_val_split)
from .synthetic import make_synthetic

__all__ = [
    "DATASETS", "Dataset", "canonical_name", "load_dataset", "make_synthetic",
    "train_val_split", "split_indices", "fit_images", "resize_images", "pad_images", "to_float",
    "augmentation_for", "HorizontalFlip", "RandomCrop", "ColorJitter", "RandomGrayscale",
    "Compose", "iterate_batches", "num_batches",
]
