import math

import numpy as np

from asge_np.optim import adamw_init, adamw_update, cosine_lr


def test_adamw_first_step_by_hand():
    p = np.array([1.0])
    state = adamw_init(p)
    adamw_update(p, np.array([0.5]), state, lr=0.1, weight_decay=0.01)
    # decay: 1·(1 − 0.1·0.01) = 0.999;  m = 0.05, v = 0.00025;  m̂ = 0.5, v̂ = 0.25
    # step: 0.999 − 0.1 · 0.5 / (0.5 + 1e-8)
    assert np.isclose(p[0], 0.999 - 0.1 * 0.5 / (0.5 + 1e-8), rtol=0, atol=1e-15)
    assert np.isclose(p[0], 0.899000002, atol=1e-9)
    assert state["t"] == 1 and np.isclose(state["m"][0], 0.05) and np.isclose(state["v"][0], 0.00025)


def test_adamw_matches_scalar_loop_over_steps():
    rng = np.random.default_rng(0)
    p = rng.standard_normal(6)
    grads = rng.standard_normal((5, 6))
    lr, wd, b1, b2, eps = 3e-3, 0.05, 0.8, 0.99, 1e-6
    expected = []
    for k in range(6):  # scalar re-statement of PyTorch's AdamW, one entry at a time
        q, m, v = p[k], 0.0, 0.0
        for t, g in enumerate(grads[:, k], start=1):
            q -= lr * wd * q
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            q -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(q)
    state = adamw_init(p)
    for g in grads:
        adamw_update(p, g, state, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    assert np.allclose(p, expected, rtol=1e-12, atol=1e-14)


def test_adamw_keeps_float32():
    p = np.ones(3, np.float32)
    state = adamw_init(p)
    adamw_update(p, np.ones(3, np.float32), state, lr=1e-3)
    assert p.dtype == state["m"].dtype == state["v"].dtype == np.float32


def test_cosine_schedule_by_hand():
    assert cosine_lr(0, 100, 2e-4, 1e-5) == 2e-4
    assert math.isclose(cosine_lr(50, 100, 2e-4, 1e-5), 1.05e-4)
    assert math.isclose(cosine_lr(100, 100, 2e-4, 1e-5), 1e-5)
    # (1 + cos(π/4)) / 2 = 0.853553...
    assert math.isclose(cosine_lr(25, 100, 2e-4, 1e-5), 1e-5 + 1.9e-4 * 0.8535533905932737)
    lrs = [cosine_lr(e, 10, 1.0, 0.0) for e in range(11)]
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
