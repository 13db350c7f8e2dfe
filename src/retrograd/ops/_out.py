"""`out=`: an op writes its result into a tensor the caller gives, as PyTorch's out variants do.

Note [out= arguments]
    `retrograd.add(x, y, out=z)` computes `x + y` and writes it into `z`, which it returns.
    The op table gives every function PyTorch's `torch.<name>` takes `out=` for (the names in
    ACCEPTS_OUT) this keyword in one place, `accepting_out` (called by `register`); creation
    and random functions call `write` themselves. What PyTorch does, and so what `write` does:

    - No graph: an out= call is not differentiable. In grad mode, if an input or `out`
      requires grad, it raises "<op>(): functions with out=... arguments don't support
      automatic differentiation, but one of the arguments requires grad." (under no_grad
      it writes, even into a leaf that requires grad).
    - The write is in place: `out` keeps its identity, its version counter moves on (a graph
      that saved `out` refuses to use it), and views of it see the values.
    - Shape: an `out` of another shape is resized to the result's, with PyTorch's deprecation
      warning unless it had no elements (`out.resize_(0)` is how to reuse one silently).
    - Dtype: the result is cast to `out`'s dtype when it is of the same or a higher category
      (a bool result into a float `out`, float64 into float32); a float result cannot go into
      an integer `out` ("result type Float can't be cast to the desired output type Long").
      Matrix products and index results want `out` of exactly their dtype, as in PyTorch.
    - Ops without a derivative (comparisons, argmax, all, ...) take inputs that require grad.
    - Ops with several results (`max(x, dim)`, `sort`) take a tuple of tensors and return
      PyTorch's out type of their named tuple made of them (`retrograd.return_types.max_out`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .. import _dtype, return_types
from .._dtype import scalar_type_name
from .._tensor import Tensor
from .._warnings import warn_at_caller
from ..autograd import grad_mode

__all__ = ["ACCEPTS_OUT", "accepting_out", "write"]

# The table's ops whose torch.<name> (or torch.linalg.<name>, torch.nn.functional.<name>)
# takes `out=` in PyTorch 2.13 (tests/test_out.py checks this set against PyTorch).
ACCEPTS_OUT = frozenset({
    # pointwise
    "abs", "acos", "acosh", "add", "addcdiv", "addcmul", "asin", "asinh", "atan", "atan2",
    "atanh", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "ceil", "clamp", "copysign", "cos", "cosh",
    "deg2rad", "div", "eq", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "float_power",
    "floor", "floor_divide", "fmax", "fmin", "fmod", "frac", "frexp", "gcd", "ge", "gt",
    "heaviside", "hypot", "i0", "isneginf", "isposinf", "lcm", "ldexp", "le", "lerp", "log", "log10",
    "log1p", "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logit", "lt", "maximum", "minimum", "mul", "nan_to_num", "ne", "neg",
    "nextafter", "pow", "rad2deg", "reciprocal", "remainder", "round", "rsqrt", "sgn",
    "sigmoid", "sign", "signbit", "sin", "sinc", "sinh", "sqrt", "square", "sub", "tan",
    "tanh", "trunc", "where", "xlogy",
    # special functions
    "digamma", "igamma", "igammac", "lgamma", "mvlgamma", "polygamma", "special.entr",
    "special.erfcx", "special.i0e", "special.i1", "special.i1e", "special.log_ndtr",
    "special.ndtri", "special.xlog1py", "special.zeta",
    # reductions, scans, orderings
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "cummax", "cummin", "cumprod", "cumsum",
    "histc", "kthvalue", "logcumsumexp", "logsumexp", "max", "mean", "median", "min", "mode", "msort",
    "nanmean", "nanquantile", "nansum", "norm", "prod", "quantile", "sort", "std", "sum", "topk", "var",
    # shapes, indexing
    "cat", "column_stack", "diag", "diff", "dstack", "gather", "hstack", "index_add", "index_reduce",
    "index_copy", "index_select", "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce",
    "slice_scatter", "stack", "take", "take_along_dim", "tril", "triu", "vstack",
    # linear algebra
    "addbmm", "addmm", "addmv", "addr", "baddbmm", "bmm", "cholesky_inverse", "cholesky_solve",
    "cross", "dot", "inner", "kron", "matmul", "mm", "mv", "outer", "renorm", "tensordot",
    "triangular_solve", "vdot", "linalg.cholesky", "linalg.cross", "linalg.det", "linalg.eigh",
    "linalg.eigvalsh", "linalg.inv", "linalg.matrix_norm", "linalg.norm", "linalg.pinv",
    "linalg.qr", "linalg.slogdet", "linalg.solve", "linalg.solve_triangular", "linalg.svd",
    "linalg.svdvals", "linalg.vector_norm",
    # nn.functional (their torch._C._nn kernels take out=)
    "avg_pool2d", "gelu", "hardshrink", "linear", "log_softmax", "logsigmoid", "normalize",
    "softmax", "softplus", "softshrink",
    # random sampling (retrograd.random's functions write `out` themselves: they draw in its dtype)
    "bernoulli", "multinomial", "normal",
})

# Ops whose `out` must have exactly the result's dtype (PyTorch: "Expected out tensor to have
# dtype float, but got double instead").
_EXACT_DTYPE = frozenset({
    "addbmm", "addmm", "addmv", "addr", "argmax", "argmin", "baddbmm", "bmm", "dot", "matmul",
    "mm", "mv", "nonzero", "vdot",
})

# Ops that write `out` themselves: retrograd.random's samplers, which draw in `out`'s dtype.
_WRITES_OUT_ITSELF = frozenset({"bernoulli", "multinomial", "normal"})

# Ops PyTorch writes with other ops, whose out= takes inputs that require grad: the write
# into `out` is recorded (CopyBackwards), and `out` must have the input's dtype.
_COMPOSITE = {
    "quantile": "quantile() out tensor must be same dtype as the input tensor",
    "nanquantile": "quantile() out tensor must be same dtype as the input tensor",
}

# Ops without a derivative that still refuse out= with inputs that require grad (PyTorch
# declares their derivative as not implemented).
_REFUSE_GRAD_WITHOUT_DERIVATIVE = frozenset({"frexp", "nextafter"})

# Ops whose `out` must be bool or uint8; the result is written in `out`'s dtype.
_TRUTH_VALUED = frozenset({"all", "any"})

# How PyTorch's messages name dtypes (their C types).
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}

_RESIZE_WARNING = (
    "An output with one or more elements was resized since it had shape [{old}], which does not "
    "match the required output shape [{new}]. This behavior is deprecated, and in a future "
    "PyTorch release outputs will not be resized unless they have zero elements. You can "
    "explicitly reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0)."
)


def accepting_out(function: Callable, name: str) -> Callable:
    """`function` with PyTorch's `out=` keyword (see Note [out= arguments]); a function that
    that writes `out` itself (_WRITES_OUT_ITSELF) is returned as it is."""
    if name in _WRITES_OUT_ITSELF:
        return function
    # An op without argument checks is called unwrapped, its failure explained here, as
    # `_operator` does (ops/_table.py): one call less on the path of every `torch.sin(x)`.
    explain_failure = getattr(function, "explain_failure", None)
    unchecked = function if explain_failure is None else function.__wrapped__

    @functools.wraps(function)
    def op(*args, out=None, **kwargs):
        if out is None:
            try:
                return unchecked(*args, **kwargs)
            except Exception as error:
                if explain_failure is not None:
                    explain_failure(args, kwargs, error)
                raise
        _check_out_dtype(name, out)
        if name in _COMPOSITE:
            return _write_composite(out, function(*args, **kwargs), args, name)
        if _has_gradient(name):
            check_no_grad(name, out, args, kwargs)
        result = function(*args, **kwargs)
        if name in _TRUTH_VALUED and isinstance(out, Tensor):
            result = Tensor._make(result._data.astype(out._data.dtype))
        return write(out, result, name)

    return op


def _write_composite(out, result: Tensor, args, name: str):
    """out= of an op in _COMPOSITE: its checks, the write, and the write recorded when the
    result has a graph (as PyTorch's out kernel copies the result of differentiable ops)."""
    from ._table import _check_not_leaf

    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.dtype is not args[0].dtype:
        raise RuntimeError(_COMPOSITE[name])
    recording = grad_mode._state.grad_enabled
    if recording:
        _check_not_leaf(out, out._base)
    write(out, result.detach(), name)
    if recording and result.requires_grad:
        out.copy_(result)
    return out


def _has_gradient(name: str) -> bool:
    """Whether PyTorch refuses out= with inputs that require grad for this op: for those with a
    derivative (`eq`, `argmax`, `all` take them)."""
    from ._table import table

    return table[name].differentiable or name in _REFUSE_GRAD_WITHOUT_DERIVATIVE


def _check_out_dtype(name: str, out) -> None:
    """PyTorch's error for an op whose `out` must be bool or uint8 (_TRUTH_VALUED)."""
    if isinstance(out, Tensor) and name in _TRUTH_VALUED and out.dtype not in (_dtype.bool, _dtype.uint8):
        raise RuntimeError(f"{name} only supports bool tensor for result, got: {scalar_type_name(out.dtype)}")


def check_no_grad(name: str, out, args=(), kwargs=None) -> None:
    """PyTorch's error when an out= call would have to be differentiated."""
    if not grad_mode._state.grad_enabled:
        return
    values = [*args, *(kwargs or {}).values(), *(out if isinstance(out, tuple | list) else (out,))]
    for value in values:
        items = value if isinstance(value, tuple | list) else (value,)
        if any(isinstance(item, Tensor) and item._requires_grad for item in items):
            raise RuntimeError(
                f"{name.replace('.', '_')}(): functions with out=... arguments don't support "
                "automatic differentiation, but one of the arguments requires grad."
            )


def write(out, result, name: str, *, exact_dtype: bool | None = None, warn: bool = True):
    """Write `result` (a tensor, or a tuple of them) into `out`; return what the op returns."""
    if isinstance(result, tuple):
        if not isinstance(out, tuple | list) or len(out) != len(result):
            raise TypeError(
                f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors, "
                f"not {type(out).__name__}"
            )
        for target, value in zip(out, result):
            _write_one(target, value, name, exact_dtype, warn)
        named = return_types.out_type(type(result))  # `max_out` for `max`, as PyTorch
        return named(tuple(out)) if named is not None else tuple(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    _write_one(out, result, name, exact_dtype, warn)
    return out


def _write_one(out, result: Tensor, name: str, exact_dtype: bool | None, warn: bool) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    source, destination = result.dtype, out.dtype
    if exact_dtype is None:
        exact_dtype = name in _EXACT_DTYPE
    if exact_dtype and source is not destination:
        raise RuntimeError(
            f"Expected out tensor to have dtype {_C_NAMES.get(source.name, source.name)}, "
            f"but got {_C_NAMES.get(destination.name, destination.name)} instead"
        )
    if source._category > destination._category:
        raise RuntimeError(
            f"result type {scalar_type_name(source)} can't be cast to the desired output type "
            f"{scalar_type_name(destination)}"
        )
    array = result._data
    if out._data.shape != array.shape:
        if warn and out._data.size != 0:
            warn_at_caller(_RESIZE_WARNING.format(old=", ".join(map(str, out._data.shape)),
                                                  new=", ".join(map(str, array.shape))))
        out._data = np.empty(array.shape, out._data.dtype)
        out._meta = None
    elif 0 in out._data.strides and out._data.size > 1:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    np.copyto(out._data, array, casting="unsafe")
    out._bump_version()
