"""Per-sample RMS normalisation: each sample is divided by the root mean square of its values."""

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
