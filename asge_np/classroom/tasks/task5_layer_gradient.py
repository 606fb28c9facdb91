# %% [markdown]
# # Task 5 — the whole layer's local gradient
#
# One ASGE layer is a chain of five steps; its input $x$ and the projection $(R, r)$ are
# constants, so only $w$ and $\beta$ receive gradients:
#
# $$ z = \mathrm{conv}(x; w, \beta), \quad y = \max(z, 0), \quad g = \mathrm{goodness}_P(y), \quad
#    a = gR + r, \quad L = \frac{1}{B}\sum_b -\log \mathrm{softmax}(a_b)_{y_b} . $$
#
# Going backwards, each step is the backward of one op:
#
# $$ \frac{\partial L}{\partial a} = \frac{\mathrm{softmax}(a) - \mathrm{onehot}(\text{labels})}{B},
#    \quad \frac{\partial L}{\partial g} = \frac{\partial L}{\partial a} R^\top,
#    \quad \frac{\partial L}{\partial y} = \text{(Task 4)},
#    \quad \frac{\partial L}{\partial z} = \frac{\partial L}{\partial y} \odot [z > 0],
#    \quad \frac{\partial L}{\partial w},\ \frac{\partial L}{\partial \beta} = \text{(Task 2)} . $$
#
# Write `layer_local_gradient` returning `(loss, dw, db)`.  You may call the building blocks of
# `asge_np.ops` and `asge_np.goodness` (`conv2d_forward`/`conv2d_backward`,
# `spatial_goodness_forward`/`spatial_goodness_backward`) or your own Tasks 1–4, but write the
# softmax cross-entropy, the projection and the ReLU yourself, and do not call the package's
# whole-layer functions (`asge_local_loss`, `asge_layer_forward`/`asge_layer_backward`): the
# grader checks for that.

# %% [setup]
import numpy as np

from asge_np.goodness import spatial_goodness_backward, spatial_goodness_forward
from asge_np.ops import conv2d_backward, conv2d_forward


# %% [solution]
def layer_local_gradient(x, w, b, R, r, labels, grid):
    """x: (B, C_in, H, W), w: (C, C_in, 3, 3), b: (C,), R: (C·P·P, N), r: (N,), labels: (B,)
    ->  loss (float), dw (C, C_in, 3, 3), db (C,)."""
    ### BEGIN SOLUTION
    z, conv_cache = conv2d_forward(x, w, b, stride=1, pad=1)
    y = np.maximum(z, 0)
    g, goodness_cache = spatial_goodness_forward(y, grid)
    a = g @ R + r
    B = a.shape[0]
    shifted = a - a.max(axis=1, keepdims=True)  # stable softmax
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(B), labels]).mean()
    da = probs.copy()
    da[np.arange(B), labels] -= 1
    da /= B
    dg = da @ R.T
    dy = spatial_goodness_backward(dg, goodness_cache)
    dz = dy * (z > 0)
    _, dw, db = conv2d_backward(dz, conv_cache)
    return float(loss), dw, db
    ### END SOLUTION


# %% [tests] points=3
from asge_np.goodness import make_projection
from asge_np.gradcheck import eval_numerical_gradient, rel_error
from asge_np.layers import asge_local_loss

rng = np.random.default_rng(4)
B, C_in, C, H, N, P = 3, 2, 4, 6, 5, 2
x = rng.standard_normal((B, C_in, H, H))
w = rng.standard_normal((C, C_in, 3, 3)) * 0.4
b = rng.standard_normal(C) * 0.1
R, r = make_projection(C * P * P, N, rng, dtype=np.float64)
labels = rng.integers(0, N, B)
loss, dw, db = layer_local_gradient(x, w, b, R, r, labels, P)
ref_loss = float(asge_local_loss(x, w, b, R, r, labels, P)[0])
assert abs(float(loss) - ref_loss) < 1e-10 * max(1.0, abs(ref_loss)), f"loss {float(loss)} != {ref_loss}"
f = lambda: asge_local_loss(x, w, b, R, r, labels, P)[0]  # noqa: E731  the reference loss
assert rel_error(dw, eval_numerical_gradient(f, w)) < 1e-6, "dw differs from the numerical gradient"
assert rel_error(db, eval_numerical_gradient(f, b)) < 1e-6, "db differs from the numerical gradient"
### BEGIN HIDDEN TESTS
import re

for forbidden in ("asge_local_loss", "asge_layer_forward", "asge_layer_backward", "softmax_cross_entropy"):
    assert not re.search(r"\b" + forbidden + r"\b", STUDENT_SOURCE), f"the solution calls {forbidden}"
for (B, C_in, C, H, N, P) in [(2, 1, 3, 5, 3, 1), (4, 3, 2, 7, 10, 3), (1, 2, 2, 4, 2, 4)]:
    x = rng.standard_normal((B, C_in, H, H))
    w = rng.standard_normal((C, C_in, 3, 3)) * 0.4
    b = rng.standard_normal(C) * 0.1
    R, r = make_projection(C * P * P, N, rng, dtype=np.float64)
    labels = rng.integers(0, N, B)
    loss, dw, db = layer_local_gradient(x, w, b, R, r, labels, P)
    f = lambda: asge_local_loss(x, w, b, R, r, labels, P)[0]  # noqa: E731
    assert abs(float(loss) - float(f())) < 1e-10 * max(1.0, abs(float(f()))), "wrong loss"
    assert rel_error(dw, eval_numerical_gradient(f, w)) < 1e-6, f"dw wrong for B={B}, P={P}"
    assert rel_error(db, eval_numerical_gradient(f, b)) < 1e-6, f"db wrong for B={B}, P={P}"
### END HIDDEN TESTS
