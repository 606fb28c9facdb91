"""asge_np: Adaptive Spatial Goodness Encoding, written from scratch on NumPy and CuPy."""

__version__ = "0.1.0"
