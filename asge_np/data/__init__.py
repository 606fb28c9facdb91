"""Datasets, preprocessing, augmentation and batching (issue 3)."""
from .datasets import DATASETS, Dataset, canonical_name, load_dataset
