"""Gradient clipping, flattening parameters to and from one vector, packed sequences (`rnn`),
parametrizations (`parametrize`, `parametrizations`) and the hook-based weight and spectral
normalisations. Pruning lives in `retrograd.nn.utils.prune`, imported on its own as in PyTorch."""

from . import parametrizations, parametrize, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "spectral_norm",
    "vector_to_parameters",
    "weight_norm",
]
