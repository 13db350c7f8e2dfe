"""Helpers the distributions share (`retrograd.distributions.utils`, as PyTorch's module).

Parameters become tensors of one broadcast shape (`broadcast_all`); probabilities and logits
convert into each other (`probs_to_logits`, `logits_to_probs`); a parameter given in one form
computes the other on first use and keeps it (`lazy_property`).
"""

from __future__ import annotations

import numbers

import retrograd

from .._tensor import Size, Tensor

__all__ = [
    "BinaryProbabilities",
    "broadcast_all",
    "clamp_probs",
    "euler_constant",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, Tensor)


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """Numbers and tensors as tensors of one broadcast shape.

    Numbers take the dtype of the first tensor among `values` (the default dtype when there
    is none), so `Normal(0.0, scale)` computes in `scale`'s precision.
    """
    if not all(isinstance(value, Tensor) or _is_number(value) for value in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "retrograd.Tensor or objects implementing __torch_function__.")
    first_tensor = next((value for value in values if isinstance(value, Tensor)), None)
    dtype = retrograd.get_default_dtype() if first_tensor is None else first_tensor.dtype
    tensors = [value if isinstance(value, Tensor) else retrograd.tensor(value, dtype=dtype)
               for value in values]
    return tuple(retrograd.broadcast_tensors(*tensors))


def _batch_shape_of(*params, broadcast: Tensor) -> Size:
    """Size() when every parameter was given as a number, else the broadcast shape."""
    if all(_is_number(param) for param in params):
        return Size()
    return broadcast.size()


def _standard_normal(shape, dtype) -> Tensor:
    """N(0, 1) draws of `shape`, as `empty(shape).normal_()` (the draws PyTorch's rsample uses)."""
    return retrograd.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """`value` summed over its last `dim` dimensions."""
    if dim == 0:
        return value
    return value.reshape((*value.shape[:value.dim() - dim], -1)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: sigmoid for one event, softmax over the last dimension else."""
    if is_binary:
        return retrograd.sigmoid(logits)
    return retrograd.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept eps away from 0 and 1, so their logarithms stay finite."""
    eps = retrograd.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped first): log(p) - log(1 - p) for one event, log(p) else."""
    clamped = clamp_probs(probs)
    if is_binary:
        return retrograd.log(clamped) - retrograd.log1p(-clamped)
    return retrograd.log(clamped)


def _tril_mask(size: int, diag: int) -> Tensor:
    """The entries (row, column) of a size x size matrix with column - row <= diag."""
    positions = retrograd.arange(size)
    return positions < positions.view(-1, 1) + (diag + 1)


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The square matrices whose entries on and below diagonal `diag` are `vec`'s last
    dimension, row by row (zeros elsewhere)."""
    width = 1 + 2 * diag
    size = (-width + (width**2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(size) - size > retrograd.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    size = round(size)
    mask = _tril_mask(size, diag).reshape(-1)
    flat = vec.new_zeros((*vec.shape[:-1], size * size))
    flat = flat.masked_scatter(mask.expand(flat.shape), vec) if vec.shape[-1] else flat
    return flat.reshape((*vec.shape[:-1], size, size))


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of `mat` on and below diagonal `diag`, row by row, as a last dimension."""
    size = mat.shape[-1]
    if diag < -size or diag >= size:
        raise ValueError(f"diag ({diag}) provided is outside [{-size}, {size - 1}].")
    indices = retrograd.nonzero(_tril_mask(size, diag).reshape(-1)).reshape(-1)
    return mat.reshape((*mat.shape[:-2], size * size)).index_select(-1, indices)


class lazy_property:
    """A parameter computed from another on first use and then kept as an instance attribute.

    It is computed with grad mode on, so a distribution made under `no_grad` and used later
    still gives gradients to the parameters it was made from. Read on the class, it is a
    property (so `Categorical.logits` documents itself).
    """

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with retrograd.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _check_one_of(probs, logits) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")



def _expand_given(old, new, shape) -> None:
    """Give `new` whichever of probs and logits `old` holds, expanded to `shape`."""
    for name in ("probs", "logits"):
        if name in old.__dict__:
            setattr(new, name, old.__dict__[name].expand(shape))
            new._param = getattr(new, name)



def _enumerated(values: Tensor, batch_shape: Size, expand: bool) -> Tensor:
    """`values` along dimension 0, with a size-1 dimension per batch dimension (or expanded)."""
    values = values.view((-1,) + (1,) * len(batch_shape))
    return values.expand((-1, *batch_shape)) if expand else values


class BinaryProbabilities:
    """`probs` and `logits` of a distribution over two outcomes given by either: the other is
    computed from it on first use (`lazy_property`), as PyTorch's Bernoulli-like families do."""

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)
