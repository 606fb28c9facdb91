# %% [markdown]
# # Task 6 — one AdamW step
#
# Every ASGE layer has its own optimiser: AdamW, as PyTorch defines it.  At step $t$
# (counting from 1), with gradient $\mathbf{g}$:
#
# $$ \theta \leftarrow \theta\,(1 - \eta\lambda) \qquad \text{(decoupled weight decay, applied first)} $$
# $$ m \leftarrow \beta_1 m + (1-\beta_1)\,\mathbf{g}, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\,\mathbf{g}^2 $$
# $$ \theta \leftarrow \theta - \eta\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon} $$
#
# Note that $\epsilon$ is added *after* the square root.  Write `adamw_step`; return new arrays
# (do not modify the inputs).

# %% [setup]
import numpy as np


# %% [solution]
def adamw_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-3):
    """One AdamW step at step number t (1, 2, ...)  ->  (new_param, new_m, new_v)."""
    ### BEGIN SOLUTION
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
    ### END SOLUTION


# %% [tests] points=1
from asge_np.gradcheck import rel_error
from asge_np.optim import adamw_init, adamw_update

rng = np.random.default_rng(5)
param = rng.standard_normal((4, 3))
reference, state = param.copy(), adamw_init(param.copy())
m, v = np.zeros_like(param), np.zeros_like(param)
for t in range(1, 4):
    grad = rng.standard_normal(param.shape)
    param, m, v = adamw_step(param, grad, m, v, t, lr=1e-2)
    adamw_update(reference, grad, state, lr=1e-2)
    assert rel_error(param, reference) < 1e-12, f"step {t}: parameters differ from the reference"
### BEGIN HIDDEN TESTS
param = rng.standard_normal(7)
before = param.copy()
reference, state = param.copy(), adamw_init(param.copy())
m, v = np.zeros_like(param), np.zeros_like(param)
for t in range(1, 30):
    grad = rng.standard_normal(param.shape) * 10.0 ** rng.integers(-4, 2)
    new, m, v = adamw_step(param, grad, m, v, t, lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    if t == 1:
        assert np.array_equal(param, before), "adamw_step modified its input"
    param = new
    adamw_update(reference, grad, state, lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    assert rel_error(param, reference) < 1e-10, f"step {t} with custom hyper-parameters differs"
assert rel_error(m, state["m"]) < 1e-12 and rel_error(v, state["v"]) < 1e-12, "moments differ"
### END HIDDEN TESTS
