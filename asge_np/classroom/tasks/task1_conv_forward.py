# %% [markdown]
# # Task 1 — the convolution forward pass
#
# A convolutional layer with weights $w$ of shape $(F, C, k_h, k_w)$ and bias $\beta$ of shape
# $(F,)$ slides every filter over the zero-padded input $x_{pad}$ of shape $(B, C, H+2p, W+2p)$:
#
# $$ z[b, f, y, x] = \beta_f + \sum_{c=0}^{C-1} \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1}
#    w[f, c, i, j]\; x_{pad}[b, c,\; y s + i,\; x s + j] $$
#
# with stride $s$, and output size $H_o = \lfloor (H + 2p - k_h)/s \rfloor + 1$ (likewise $W_o$).
#
# Write `conv_forward`.  Four nested Python loops over every output pixel are correct but slow;
# aim for a loop over the $k_h k_w$ kernel offsets only, each step a whole-array product
# (`np.einsum` or `np.tensordot`).  Use NumPy only: `asge_np.ops` holds the reference the grader
# compares you with.

# %% [setup]
import numpy as np


# %% [solution]
def conv_forward(x, w, b, stride=1, pad=1):
    """x: (B, C, H, W), w: (F, C, kh, kw), b: (F,)  ->  z: (B, F, Ho, Wo)."""
    ### BEGIN SOLUTION
    B, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    z = np.zeros((B, F, Ho, Wo), dtype=np.result_type(x, w))
    for i in range(kh):
        for j in range(kw):
            # every input pixel that kernel tap (i, j) meets, for all outputs at once
            shifted = xpad[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
            z += np.einsum("bchw,fc->bfhw", shifted, w[:, :, i, j])
    return z + b[None, :, None, None]
    ### END SOLUTION


# %% [tests] points=2
from asge_np.ops import conv2d_naive, conv2d_forward
from asge_np.gradcheck import rel_error

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 5, 5))
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
z = conv_forward(x, w, b)
assert z.shape == (2, 4, 5, 5), f"wrong output shape {z.shape}"
assert rel_error(z, conv2d_naive(x, w, b)) < 1e-10, "output differs from the naive loops"
### BEGIN HIDDEN TESTS
for (B, C, H, W, F, k, s, p) in [(1, 1, 4, 4, 1, 3, 1, 0), (2, 2, 7, 6, 3, 3, 2, 1),
                                 (3, 4, 8, 8, 5, 5, 1, 2), (2, 3, 9, 5, 2, 1, 3, 0)]:
    x = rng.standard_normal((B, C, H, W))
    w = rng.standard_normal((F, C, k, k))
    b = rng.standard_normal(F)
    expected, _ = conv2d_forward(x, w, b, stride=s, pad=p)
    got = conv_forward(x, w, b, stride=s, pad=p)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape} for stride {s}, pad {p}"
    assert rel_error(got, expected) < 1e-10, f"wrong values for stride {s}, pad {p}"
### END HIDDEN TESTS
