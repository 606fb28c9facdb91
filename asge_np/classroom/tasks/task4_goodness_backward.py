# %% [markdown]
# # Task 4 — spatial goodness, backward
#
# Each $y[b,c,u,v]$ enters every patch whose window contains it, through its square:
#
# $$ \frac{\partial L}{\partial y[b,c,u,v]} = 2\,y[b,c,u,v] \sum_{i:\,u\in U_i}\ \sum_{j:\,v\in V_j}
#    \frac{1}{|U_i|\,|V_j|}\,\frac{\partial L}{\partial G[b,c,i,j]} . $$
#
# For a $P$ that divides $H$ and $W$ that is one term; with overlapping adaptive windows a pixel
# on a shared row or column collects from two patches.  Write `goodness_backward(dg, y, grid)`,
# where `dg` has the shape of $g$, $(B, C P^2)$.

# %% [setup]
import math

import numpy as np


# %% [solution]
def goodness_backward(dg, y, grid):
    """dg: (B, C·P·P), y: (B, C, H, W)  ->  dy: (B, C, H, W)."""
    ### BEGIN SOLUTION
    B, C, H, W = y.shape
    dG = dg.reshape(B, C, grid, grid)
    rows = [(math.floor(i * H / grid), math.ceil((i + 1) * H / grid)) for i in range(grid)]
    cols = [(math.floor(j * W / grid), math.ceil((j + 1) * W / grid)) for j in range(grid)]
    dsquares = np.zeros_like(y)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            area = (r1 - r0) * (c1 - c0)
            dsquares[:, :, r0:r1, c0:c1] += dG[:, :, i, j][:, :, None, None] / area
    return 2 * y * dsquares
    ### END SOLUTION


# %% [tests] points=2
from asge_np.goodness import spatial_goodness_forward
from asge_np.gradcheck import eval_numerical_gradient_array, rel_error

rng = np.random.default_rng(3)
y = rng.standard_normal((2, 3, 8, 8))
dg = rng.standard_normal((2, 3 * 4))
dy = goodness_backward(dg, y, 2)
dy_num = eval_numerical_gradient_array(lambda: spatial_goodness_forward(y, 2)[0], y, dg)
assert dy.shape == y.shape, f"wrong shape {dy.shape}"
assert rel_error(dy, dy_num) < 1e-6, f"relative error {rel_error(dy, dy_num):.1e}"
### BEGIN HIDDEN TESTS
for (B, C, H, W, P) in [(2, 2, 7, 7, 3), (1, 3, 5, 9, 2), (2, 2, 6, 6, 1), (1, 2, 10, 7, 6)]:
    y = rng.standard_normal((B, C, H, W))
    dg = rng.standard_normal((B, C * P * P))
    dy = goodness_backward(dg, y, P)
    dy_num = eval_numerical_gradient_array(lambda: spatial_goodness_forward(y, P)[0], y, dg)
    assert rel_error(dy, dy_num) < 1e-6, f"wrong gradient for {H}x{W}, P={P} (shared rows?)"
### END HIDDEN TESTS
