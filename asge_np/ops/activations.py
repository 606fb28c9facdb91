"""ReLU and its derivative."""


def relu_forward(z):
    """y = max(z, 0).   z: any shape  ->  y: same shape; cache keeps y."""
    y = z * (z > 0)  # multiply by the mask (not maximum) so NaN still propagates
    return y, y


def relu_backward(dy, cache):
    """dz = dy ⊙ [z > 0]; the mask is read off the output, since y > 0 exactly where z > 0."""
    y = cache
    return dy * (y > 0)
