"""Normalisation between layers: per-sample RMS normalisation (each sample divided by the root
mean square of its values), and the LayerNorm-over-channels variant."""

#: Added to the RMS so an all-zero sample stays zero instead of dividing by zero.  The public
#: code uses exp(−50); it is far below any real RMS yet a normal number in float32.
RMS_EPS = 1.9287498479639178e-22


def rms_norm_forward(x, eps=RMS_EPS):
    """out[b] = x[b] / (sqrt(mean(x[b]²)) + eps), the mean over every non-batch axis.

    x: (B, ...) any layout  ->  out: same shape
    """
    axes = tuple(range(1, x.ndim))
    rms = (x * x).mean(axis=axes, keepdims=True) ** 0.5
    denom = rms + eps
    out = x / denom
    return out, (out, rms, denom)


def rms_norm_backward(dout, cache):
    """d out/d x for one sample with n values, s = rms, d = s + eps, out = x/d:

        dx = dout/d − out · Σ(dout·x) / (n · s · d)        (since ds/dx = x/(n·s))
    """
    out, rms, denom = cache
    axes = tuple(range(1, out.ndim))
    n = 1
    for a in axes:
        n *= out.shape[a]
    x = out * denom
    inner = (dout * x).sum(axis=axes, keepdims=True)
    return dout / denom - out * inner / (n * rms * denom)


#: PyTorch's LayerNorm default.
LAYER_NORM_EPS = 1e-5


def layer_norm_forward(x, axis=-1, eps=LAYER_NORM_EPS):
    """Normalise along ``axis`` (the channels) to zero mean and unit variance, no affine
    parameters: out = (x − μ) / sqrt(σ² + eps), μ and σ² over ``axis`` only.  The "LayerNorm over
    channels" variant between layers (the method page's known variants).

    x: any shape, e.g. (B, H, W, C) with axis=-1  ->  out: same shape
    """
    mu = x.mean(axis=axis, keepdims=True)
    centred = x - mu
    inv_std = 1.0 / ((centred * centred).mean(axis=axis, keepdims=True) + eps) ** 0.5
    out = centred * inv_std
    return out, (out, inv_std, axis)


def layer_norm_backward(dout, cache):
    """With n values along ``axis`` and x̂ = out:

        dx = inv_std · (dout − mean(dout) − x̂ · mean(dout · x̂))      (means over ``axis``)
    """
    out, inv_std, axis = cache
    mean_d = dout.mean(axis=axis, keepdims=True)
    mean_dx = (dout * out).mean(axis=axis, keepdims=True)
    return inv_std * (dout - mean_d - out * mean_dx)
