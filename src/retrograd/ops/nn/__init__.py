"""Neural-network operators, one module per family as `nn/modules/` is split: activations
and softmax, linear maps, convolution, pooling, resampling, padding, embedding, dropout,
normalisation, distances, losses, shuffles and attention.

Each op is declared in its family's module; this package re-exports the public functions
(what `retrograd.nn.functional` imports), so `retrograd.ops.nn.relu` keeps working.
"""

from . import _backward_ops  # the grad_fns of double backward (see _math), declared at import
from .activation import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from .attention import (
    scaled_dot_product_attention,
)
from .conv import (
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    unfold,
)
from .distance import (
    cosine_similarity,
    normalize,
    pairwise_distance,
)
from .dropout import (
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
)
from .linear import (
    bilinear,
    linear,
)
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    rms_norm,
)
from .padding import (
    pad,
)
from .pixelshuffle import (
    channel_shuffle,
    pixel_shuffle,
    pixel_unshuffle,
)
from .pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
)
from .sparse import (
    embedding,
)
from .upsampling import (
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)

# The names that become functions of the retrograd package (torch.relu, torch.softmax, ...).
__all__ = ["log_softmax", "relu", "softmax"]
