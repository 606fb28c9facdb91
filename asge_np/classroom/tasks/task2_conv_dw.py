# %% [markdown]
# # Task 2 — the gradient of the convolution weights
#
# Differentiate $z[b,f,y,x] = \beta_f + \sum_{c,i,j} w[f,c,i,j]\, x_{pad}[b,c,ys+i,xs+j]$ with
# respect to one weight: it multiplies one input pixel at every output position it slid over, so
#
# $$ \frac{\partial L}{\partial w[f,c,i,j]} = \sum_{b,y,x} \frac{\partial L}{\partial z[b,f,y,x]}
#    \; x_{pad}[b,c,ys+i,xs+j], \qquad
#    \frac{\partial L}{\partial \beta_f} = \sum_{b,y,x} \frac{\partial L}{\partial z[b,f,y,x]}. $$
#
# Write `conv_weight_gradient(x, dz, kernel_size, stride, pad)` returning `(dw, db)`.  The
# grader checks you against central-difference numerical gradients.

# %% [setup]
import numpy as np


# %% [solution]
def conv_weight_gradient(x, dz, kernel_size, stride=1, pad=1):
    """x: (B, C, H, W), dz: (B, F, Ho, Wo)  ->  dw: (F, C, k, k), db: (F,)."""
    ### BEGIN SOLUTION
    B, C, H, W = x.shape
    _, F, Ho, Wo = dz.shape
    k = kernel_size
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dw = np.zeros((F, C, k, k), dtype=np.result_type(x, dz))
    for i in range(k):
        for j in range(k):
            shifted = xpad[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
            dw[:, :, i, j] = np.einsum("bfhw,bchw->fc", dz, shifted)
    db = dz.sum(axis=(0, 2, 3))
    return dw, db
    ### END SOLUTION


# %% [tests] points=2
from asge_np.ops import conv2d_forward
from asge_np.gradcheck import eval_numerical_gradient_array, rel_error

rng = np.random.default_rng(1)
x = rng.standard_normal((2, 3, 5, 5))
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
dz = rng.standard_normal((2, 4, 5, 5))
dw, db = conv_weight_gradient(x, dz, 3)
dw_num = eval_numerical_gradient_array(lambda: conv2d_forward(x, w, b)[0], w, dz)
db_num = eval_numerical_gradient_array(lambda: conv2d_forward(x, w, b)[0], b, dz)
assert dw.shape == w.shape and db.shape == b.shape, "wrong gradient shapes"
assert rel_error(dw, dw_num) < 1e-6, f"dw relative error {rel_error(dw, dw_num):.1e}"
assert rel_error(db, db_num) < 1e-6, f"db relative error {rel_error(db, db_num):.1e}"
### BEGIN HIDDEN TESTS
for (B, C, H, W, F, k, s, p) in [(1, 2, 6, 4, 3, 3, 2, 1), (2, 1, 7, 7, 2, 5, 1, 2), (3, 2, 5, 6, 2, 1, 1, 0)]:
    x = rng.standard_normal((B, C, H, W))
    w = rng.standard_normal((F, C, k, k))
    b = rng.standard_normal(F)
    out, _ = conv2d_forward(x, w, b, stride=s, pad=p)
    dz = rng.standard_normal(out.shape)
    dw, db = conv_weight_gradient(x, dz, k, stride=s, pad=p)
    dw_num = eval_numerical_gradient_array(lambda: conv2d_forward(x, w, b, stride=s, pad=p)[0], w, dz)
    db_num = eval_numerical_gradient_array(lambda: conv2d_forward(x, w, b, stride=s, pad=p)[0], b, dz)
    assert rel_error(dw, dw_num) < 1e-6, f"dw wrong for kernel {k}, stride {s}, pad {p}"
    assert rel_error(db, db_num) < 1e-6, f"db wrong for kernel {k}, stride {s}, pad {p}"
### END HIDDEN TESTS
