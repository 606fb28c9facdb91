"""asge_np: Adaptive Spatial Goodness Encoding, written from scratch on NumPy and CuPy."""

from .models import build_model  # noqa: F401

__version__ = "0.1.0"
