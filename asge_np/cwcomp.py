"""Channel-wise goodness (CwComp, Papachristodoulou et al., AAAI 2024): the baseline ASGE improves on.

A layer's C channels are split into N contiguous groups, one per class (group k holds channels
k·C/N … (k+1)·C/N − 1).  A class's goodness is the mean of squares over its group's channels and
all pixels, and those N values are the logits of a softmax cross-entropy::

    s = C / N                                   channels per class
    g[b, k] = mean_{c in group k, u, v} y[b, c, u, v]²            (B, N)
    loss = mean_b CE(softmax(g_b), label_b)

Backward (the same patch-mean rule as spatial goodness, one "patch" = a whole channel group)::

    dy[b, c, u, v] = 2·y[b, c, u, v] · dg[b, k(c)] / (s·H·W)

Because every class owns C/N whole channels, C must be a multiple of N: 100 classes force at
least 100 channels in *every* layer (the "channel explosion" that ASGE's fixed projection avoids).
"""

from .backend import get_array_module
from .errors import UserError
from .ops import conv2d_backward, conv2d_forward, relu_backward, relu_forward, softmax_cross_entropy


def check_channel_groups(channels, num_classes):
    """Channels per class, s = C / N; UserError unless C is a positive multiple of N."""
    if num_classes < 1 or channels < num_classes or channels % num_classes:
        raise UserError(
            f"channel-wise goodness needs the channel count to be a multiple of the class count: "
            f"{channels} channels cannot be split into {num_classes} equal groups "
            f"(use {max(1, -(-channels // num_classes)) * num_classes} channels, or ASGE's spatial goodness)"
        )
    return channels // num_classes


def channelwise_goodness_forward(y, num_classes, channels_last=False):
    """Class goodness of a post-ReLU map.

    y: (B, C, H, W), or (B, H, W, C) when ``channels_last``; C a multiple of ``num_classes``
    returns g: (B, N), g[b, k] = mean of y² over group k's channels and all pixels; and the cache.
    """
    if y.ndim != 4:
        raise UserError(f"channel-wise goodness expects a 4-d feature map, got shape {tuple(y.shape)}")
    y_cf = y.transpose(0, 3, 1, 2) if channels_last else y  # a view: the math is layout-free
    B, C, H, W = y_cf.shape
    per_class = check_channel_groups(C, num_classes)
    # (B, N, s·H·W): each row holds every value of one class's group
    groups = y_cf.reshape(B, num_classes, per_class * H * W)
    g = (groups * groups).mean(axis=2)
    return g, (y_cf, num_classes, channels_last)


def channelwise_goodness_backward(dg, cache):
    """dg: (B, N)  ->  dy in the forward's layout: 2·y·dg[group] / (values per group)."""
    y_cf, num_classes, channels_last = cache
    B, C, H, W = y_cf.shape
    values_per_group = (C // num_classes) * H * W
    scale = (2.0 / values_per_group) * dg  # (B, N): the same factor for every value of a group
    dy = y_cf.reshape(B, num_classes, -1) * scale[:, :, None]
    dy = dy.reshape(B, C, H, W)
    return dy.transpose(0, 2, 3, 1) if channels_last else dy


def channelwise_goodness_naive(y, num_classes):
    """Reference by explicit loops over samples and classes.  y: (B, C, H, W) -> g: (B, N)."""
    xp = get_array_module(y)
    B, C, H, W = y.shape
    per_class = check_channel_groups(C, num_classes)
    g = xp.zeros((B, num_classes), dtype=y.dtype)
    for b in range(B):
        for k in range(num_classes):
            group = y[b, k * per_class:(k + 1) * per_class]
            g[b, k] = (group ** 2).sum() / (per_class * H * W)
    return g


def cwcomp_layer_forward(x, w, b, num_classes, channels_last=False):
    """conv (3×3 'same') → ReLU → channel-wise goodness.  Returns logits (B, N), y, cache."""
    k = w.shape[2]
    z, conv_cache = conv2d_forward(x, w, b, stride=1, pad=k // 2, channels_last=channels_last)
    y, relu_cache = relu_forward(z)
    g, goodness_cache = channelwise_goodness_forward(y, num_classes, channels_last=channels_last)
    return g, y, (conv_cache, relu_cache, goodness_cache)


def cwcomp_layer_backward(dlogits, cache):
    """Local gradients of one CwComp layer: dw, db (nothing flows into x)."""
    conv_cache, relu_cache, goodness_cache = cache
    dy = channelwise_goodness_backward(dlogits, goodness_cache)
    dz = relu_backward(dy, relu_cache)
    _, dw, db = conv2d_backward(dz, conv_cache, need_dx=False)
    return dw, db


def cwcomp_local_loss(x, w, b, labels, num_classes):
    """One CwComp layer's mean cross-entropy and its gradients (the analogue of
    :func:`asge_np.layers.asge_local_loss`, with no projection).

    x: (B, C_in, H, W), w: (C, C_in, k, k), b: (C,), labels: (B,)  ->  loss, dw, db
    """
    logits, _, cache = cwcomp_layer_forward(x, w, b, num_classes)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    dw, db = cwcomp_layer_backward(dlogits, cache)
    return loss, dw, db
