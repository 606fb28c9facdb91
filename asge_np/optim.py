"""Optimiser and schedule as plain update rules, outside any forward pass.

AdamW follows PyTorch's ``torch.optim.AdamW`` exactly (decoupled weight decay, bias-corrected
moments, eps added after the square root), so the public recipe's numbers carry over.
"""

import math

from .backend import get_array_module


def adamw_init(param):
    """Fresh optimiser state for one parameter array: first and second moments, step count."""
    xp = get_array_module(param)
    return {"m": xp.zeros_like(param), "v": xp.zeros_like(param), "t": 0}


def adamw_update(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-3):
    """One AdamW step, in place on ``param`` and ``state``; returns ``(param, state)``.

        param ← param · (1 − lr·λ)                          decoupled weight decay
        m ← β₁·m + (1 − β₁)·grad ;   v ← β₂·v + (1 − β₂)·grad²
        param ← param − lr/(1 − β₁ᵗ) · m / (sqrt(v)/sqrt(1 − β₂ᵗ) + eps)
    """
    beta1, beta2 = betas
    state["t"] += 1
    t = state["t"]
    m, v = state["m"], state["v"]
    param *= 1.0 - lr * weight_decay
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * (grad * grad)
    step_size = lr / (1.0 - beta1 ** t)
    denom = v ** 0.5
    denom *= 1.0 / math.sqrt(1.0 - beta2 ** t)
    denom += eps
    param -= step_size * (m / denom)
    return param, state


def cosine_lr(epoch, total_epochs, base_lr, min_lr=1e-5):
    """Cosine annealing (PyTorch's CosineAnnealingLR with T_max = total_epochs), per epoch:

        lr(e) = min_lr + (base_lr − min_lr) · (1 + cos(π·e / total_epochs)) / 2
    """
    if total_epochs <= 0:
        return base_lr
    return min_lr + (base_lr - min_lr) * (1.0 + math.cos(math.pi * epoch / total_epochs)) / 2.0
