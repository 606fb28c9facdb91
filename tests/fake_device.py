"""A stand-in for a device array library (like CuPy) that refuses implicit host conversion.

``DeviceArray`` is a NumPy subclass, so it computes like NumPy, but:
- calling a NumPy function on it (``np.sum(d)``, ``np.zeros_like(d)``) raises, because the core
  must use the array module taken from its inputs;
- mixing it with a plain NumPy array (``d + host``) raises, as CuPy does;
- its array module, :data:`fake_xp` (found through ``__array_namespace__``), accepts host arrays
  only in the explicit transfer functions ``asarray``/``array``, like ``cupy.asarray``.
"""

import types

import numpy as np


class ImplicitConversionError(TypeError):
    pass


def _is_host_array(a):
    return isinstance(a, np.ndarray) and not isinstance(a, DeviceArray) and a.ndim > 0


def _unwrap(obj, allow_host):
    if isinstance(obj, DeviceArray):
        return obj.view(np.ndarray)
    if _is_host_array(obj) and not allow_host:
        raise ImplicitConversionError("a host NumPy array was mixed with device arrays")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, allow_host) for o in obj)
    return obj


def _wrap(obj):
    if isinstance(obj, np.ndarray) and not isinstance(obj, DeviceArray):
        return obj.view(DeviceArray)
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class DeviceArray(np.ndarray):
    def __array_namespace__(self, api_version=None):
        return fake_xp

    def __array_function__(self, func, types_, args, kwargs):
        raise ImplicitConversionError(f"numpy.{func.__name__} was called on a device array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _unwrap(inputs, allow_host=False)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], allow_host=False)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        return _wrap(result)

    def __float__(self):  # explicit scalar reads are allowed (CuPy allows them too)
        return float(self.view(np.ndarray))

    def to_host(self):
        return self.view(np.ndarray).copy()


def _function(name):
    target = getattr(np, name)
    allow_host = name in ("asarray", "array", "ascontiguousarray")

    def call(*args, **kwargs):
        return _wrap(target(*_unwrap(args, allow_host), **{k: _unwrap(v, allow_host) for k, v in kwargs.items()}))

    return call


class _FakeModule(types.ModuleType):
    def __getattr__(self, name):
        attr = getattr(np, name)
        if callable(attr) and not isinstance(attr, type) and not isinstance(attr, np.ufunc):
            return _function(name)
        if isinstance(attr, np.ufunc):
            return lambda *a, **k: _wrap(attr(*_unwrap(a, False), **{n: _unwrap(v, False) for n, v in k.items()}))
        return attr


fake_xp = _FakeModule("fake_xp")


def to_device(a):
    """Explicit host -> device transfer."""
    return np.array(a).view(DeviceArray)
