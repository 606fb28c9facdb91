"""Pure forward/backward pairs.  Each ``*_forward`` returns ``(out, cache)`` and each
``*_backward(dout, cache)`` returns the gradients; ops know nothing of layers or datasets."""

from .activations import relu_backward, relu_forward
from .conv import col2im, conv2d_backward, conv2d_forward, conv2d_naive, conv_output_size, im2col
from .dropout import dropout_backward, dropout_forward, dropout_mask
from .linear import linear_backward, linear_forward
from .losses import accuracy, softmax, softmax_cross_entropy
from .normalization import (
    LAYER_NORM_EPS,
    RMS_EPS,
    layer_norm_backward,
    layer_norm_forward,
    rms_norm_backward,
    rms_norm_forward,
)
from .pooling import (
    avgpool2x2_backward,
    avgpool2x2_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    rmspool2x2_backward,
    rmspool2x2_forward,
)
