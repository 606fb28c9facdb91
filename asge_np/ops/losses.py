"""Softmax cross-entropy, numerically stable."""

from ..backend import get_array_module
from ..errors import ShapeError


def softmax(logits):
    """Row-wise softmax of (B, N) logits; the row maximum is subtracted so exp never overflows."""
    xp = get_array_module(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (B, N) float;  labels: (B,) integers in [0, N)
    returns loss (0-d array, on the logits' device) and dlogits (B, N):

        loss = mean_b [ logsumexp(a_b) − a_b[y_b] ]
        dlogits = (softmax(a) − onehot(y)) / B
    """
    xp = get_array_module(logits, labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ShapeError(
            f"cross-entropy needs logits (B, N) and labels (B,), got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    B = logits.shape[0]
    rows = xp.arange(B)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = (xp.log(total[:, 0]) - shifted[rows, labels]).mean()
    dlogits = e / total
    dlogits[rows, labels] -= 1
    dlogits /= B
    return loss, dlogits


def accuracy(logits, labels):
    """Fraction of rows whose argmax equals the label (0-d array on the logits' device)."""
    xp = get_array_module(logits, labels)
    return (xp.argmax(logits, axis=1) == labels).mean()
