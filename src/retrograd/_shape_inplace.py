"""In-place shape methods (`unsqueeze_`, `squeeze_`, `t_`, `transpose_`, `as_strided_`,
`resize_`, ...) and the function forms of in-place ops (`retrograd.sin_(x)`, `retrograd.relu_(x)`,
...).

A shape method changes only how a tensor looks at its memory, never the values: `x.t_()`
makes `x` the transposed view of itself. The view is recorded as the in-place op's own node
class, named as PyTorch names it (`x.unsqueeze_(0).grad_fn` is `UnsqueezeBackward1`, declared
beside `UnsqueezeBackward0` in ops/shape/), then `x` takes its array and its history, and its
version counter moves on, so a graph that saved `x` before the change refuses to use it.
"""

from __future__ import annotations

import numpy as np

from ._tensor import Tensor
from .autograd import forward_ad, grad_mode
from .ops._batching import BatchedTensor
from .ops._table import _check_not_leaf, apply, register_methods
from .ops.shape.reorder import TBackward1, TransposeBackward1
from .ops.shape.views import (
    _SQUEEZE_IN_PLACE_NODES,
    AsStridedBackward1,
    UnsqueezeBackward1,
    _as_strided_with,
    _squeeze_with,
    wrap_dim,
)

__all__ = ["FUNCTION_FORMS", "function_forms"]


def _reshape_in_place(target: Tensor, make_view) -> Tensor:
    """`target` becomes `make_view(target)`: same memory, new shape/strides, the view's history."""
    if grad_mode._state.grad_enabled and (
        target._requires_grad or (target._base is not None and target._base._requires_grad)
    ):
        _check_not_leaf(target, target._base)
    view = make_view(target)
    if type(view) is BatchedTensor:  # inside vmap: the physical tensor takes the physical view
        _take_view(target._physical, view._physical)
    _take_view(target, view)
    target._bump_version()
    return target


def _take_view(target: Tensor, view: Tensor) -> None:
    target._data = view._data
    target._meta = view._meta
    if forward_ad._active.count and forward_ad._state.hooked:
        _take_view_tangents(target, view)
    if view.grad_fn is not None and view.grad_fn is not target.grad_fn:
        target.grad_fn = view.grad_fn
        target._output_nr = view._output_nr


def _take_view_tangents(target: Tensor, view: Tensor) -> None:
    """Under forward AD the target's tangents take the view's shape too: they become the
    view's tangents (the op's tangent formula viewed them as it viewed the values)."""
    for level in forward_ad.tangent_levels(view):
        forward_ad.set_tangent(target, forward_ad.tangent_at(view, level), level)
    tangent = getattr(view, "_fw_grad", None)
    if tangent is not None:
        forward_ad.set_tangent(target, tangent)


def _unsqueeze_(self, dim: int) -> Tensor:
    """Insert a dimension of size 1 at `dim`, in place."""
    return _reshape_in_place(
        self, lambda tensor: apply(UnsqueezeBackward1, tensor, dim=wrap_dim(dim, tensor.ndim + 1)))


def _squeeze_(self, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in `dim`), in place."""
    return _reshape_in_place(self, lambda tensor: _squeeze_with(_SQUEEZE_IN_PLACE_NODES, tensor, dim))


def _t_(self) -> Tensor:
    """Transpose a tensor of at most 2 dimensions, in place."""
    if self._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
    return _reshape_in_place(self, lambda tensor: apply(TBackward1, tensor))


def _transpose_(self, dim0: int, dim1: int) -> Tensor:
    """Swap dimensions `dim0` and `dim1`, in place (the node shows them as given)."""

    def swapped(tensor: Tensor) -> Tensor:
        first, second = wrap_dim(dim0, tensor.ndim), wrap_dim(dim1, tensor.ndim)
        given = {} if (first, second) == (dim0, dim1) else {"dim0_as_given": dim0, "dim1_as_given": dim1}
        return apply(TransposeBackward1, tensor, dim0=first, dim1=second, **given)

    return _reshape_in_place(self, swapped)


def _as_strided_(self, size, stride, storage_offset=None) -> Tensor:
    """Become the window (size, stride, storage offset) on this tensor's storage, in place
    (the offset defaults to the tensor's own); see `as_strided`."""

    def make_view(tensor: Tensor) -> Tensor:
        if type(tensor) is BatchedTensor:  # vmap's rule for as_strided: each example's own storage
            return tensor.as_strided(size, stride, storage_offset)
        return _as_strided_with(AsStridedBackward1, tensor, size, stride, storage_offset)

    return _reshape_in_place(self, make_view)


def _resize_(self, *sizes, memory_format=None) -> Tensor:
    """Give the tensor shape `sizes`, keeping its first elements (in memory order); new
    elements are zeros (PyTorch leaves them uninitialised)."""
    from ._creation import _size

    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _size(sizes)
    count = int(np.prod(shape, dtype=np.int64))
    flat = self._data.reshape(-1)
    if count <= flat.size and self._data.flags.c_contiguous:
        self._data = flat[:count].reshape(shape)
        self._meta = None
    else:
        grown = np.zeros(count, self._data.dtype)
        kept = min(count, flat.size)
        grown[:kept] = flat[:kept]
        self._data = grown.reshape(shape)
        self._meta = None
    self._bump_version()
    return self


def _resize_as_(self, the_template: Tensor, memory_format=None) -> Tensor:
    """`resize_` to the shape of `the_template`."""
    return _resize_(self, the_template.shape)


register_methods({
    "unsqueeze_": _unsqueeze_,
    "squeeze_": _squeeze_,
    "t_": _t_,
    "transpose_": _transpose_,
    "swapaxes_": _transpose_,
    "swapdims_": _transpose_,
    "resize_": _resize_,
    "resize_as_": _resize_as_,
    "as_strided_": _as_strided_,
}, __name__)


# ---------------------------------------------------------------------------
# Function forms of in-place ops: `retrograd.sin_(x)` is `x.sin_()`

# Every in-place op PyTorch also exposes as a function of the `torch` module.
FUNCTION_FORMS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_",
    "clamp_max_", "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_", "deg2rad_", "detach_",
    "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "index_put_", "lcm_", "ldexp_",
    "log10_", "log1p_",
    "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_",
    "relu_", "resize_as_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_",
    "square_", "tan_", "tanh_", "trunc_", "xlogy_",
)


def _function_form(method_name: str):
    def in_place(input: Tensor, *args, **kwargs) -> Tensor:
        return getattr(input, method_name)(*args, **kwargs)

    in_place.__name__ = method_name
    in_place.__qualname__ = method_name
    in_place.__doc__ = f"`input.{method_name}(...)`: the in-place op as a function."
    return in_place


# In-place activations the `torch` module has that are functions of nn.functional, not methods.
FUNCTIONAL_FORMS = ("celu_", "rrelu_", "selu_", "threshold_")


def function_forms() -> dict:
    """The function form of every in-place op Tensor has, by name."""
    from .nn import functional

    forms = {name: _function_form(name) for name in FUNCTION_FORMS if hasattr(Tensor, name)}
    forms.update((name, getattr(functional, name)) for name in FUNCTIONAL_FORMS)
    return forms


def _negative_(self) -> Tensor:
    """`neg_()`: negate in place."""
    return self.neg_()


# In-place methods PyTorch has under a second name.
register_methods({
    "negative_": _negative_,
    "multiply_": Tensor.mul_,
    "divide_": Tensor.div_,
    "subtract_": Tensor.sub_,
    "true_divide_": Tensor.div_,
    "arctan2_": Tensor.atan2_,
}, __name__)
