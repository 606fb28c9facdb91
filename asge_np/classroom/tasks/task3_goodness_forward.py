# %% [markdown]
# # Task 3 — spatial goodness, forward
#
# ASGE cuts every channel of a post-ReLU map $y$ of shape $(B, C, H, W)$ into a $P\times P$ grid
# of patches; the goodness of patch $(i, j)$ is the mean of its squared activations:
#
# $$ G[b,c,i,j] = \frac{1}{|U_i|\,|V_j|} \sum_{u \in U_i} \sum_{v \in V_j} y[b,c,u,v]^2 . $$
#
# When $P$ does not divide $H$ the rows follow PyTorch's adaptive pooling: window $i$ is
# $U_i = [\lfloor iH/P \rfloor,\ \lceil (i+1)H/P \rceil)$, so neighbouring windows may share a
# row (likewise the columns, with $W$).  Return $g$ = $G$ flattened in the order channel, patch row,
# patch column: shape $(B, C P^2)$.

# %% [setup]
import math

import numpy as np


# %% [solution]
def goodness_forward(y, grid):
    """y: (B, C, H, W), grid: P  ->  g: (B, C·P·P)."""
    ### BEGIN SOLUTION
    B, C, H, W = y.shape
    rows = [(math.floor(i * H / grid), math.ceil((i + 1) * H / grid)) for i in range(grid)]
    cols = [(math.floor(j * W / grid), math.ceil((j + 1) * W / grid)) for j in range(grid)]
    G = np.empty((B, C, grid, grid), dtype=y.dtype)
    squares = y * y
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            G[:, :, i, j] = squares[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return G.reshape(B, C * grid * grid)
    ### END SOLUTION


# %% [tests] points=2
from asge_np.goodness import spatial_goodness_naive, spatial_goodness_forward
from asge_np.gradcheck import rel_error

rng = np.random.default_rng(2)
y = np.maximum(rng.standard_normal((2, 3, 8, 8)), 0)
g = goodness_forward(y, 4)
assert g.shape == (2, 3 * 16), f"wrong shape {g.shape}"
assert rel_error(g, spatial_goodness_naive(y, 4)) < 1e-10, "values differ from the naive loops"
### BEGIN HIDDEN TESTS
for (B, C, H, W, P) in [(2, 2, 7, 7, 3), (1, 3, 5, 9, 2), (2, 4, 6, 6, 1), (1, 2, 10, 7, 6), (2, 1, 3, 3, 3)]:
    y = rng.standard_normal((B, C, H, W))
    expected, _ = spatial_goodness_forward(y, P)
    got = goodness_forward(y, P)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape} for {H}x{W}, P={P}"
    assert rel_error(got, expected) < 1e-10, f"wrong values for {H}x{W}, P={P} (adaptive windows?)"
### END HIDDEN TESTS
