"""vmap's batched tensors and the batching rules of the op table.

Note [Batched tensors]
    Inside `vmap`, a function sees each input as one example: a `BatchedTensor` whose
    logical shape lacks the mapped dim. It wraps a PHYSICAL tensor (an ordinary Tensor) that
    holds the whole batch, with one batch dim per vmap level it is batched over, at the
    FRONT, in the order the levels were entered (outermost first):

        physical.shape == (B_level1, B_level2, ..., *logical_shape)

    `levels` names those levels. A tensor batched over fewer levels than are active simply
    lacks the others (it is the same for every example of those levels).

    When an op of the table meets a batched input, `apply` hands the call to `apply_batched`
    (see Note [Batching rules]) before anything is computed or recorded. The rule rewrites
    the logical call as ordinary calls on physical tensors: those are recorded as usual, so
    the autograd graph is built on physical tensors and backward needs nothing new. Code
    outside vmap pays one test of an integer (`vmap_state.depth`) per op.

    A BatchedTensor answers the metadata questions (`shape`, `dim()`, `dtype`) with its
    logical values; its `_data` is a read-only, zero-strided stand-in array of the logical
    shape, so that an op's argument checking (which reads `input._data.shape`) sees the
    logical shape. Computing on that stand-in raises (it has no values): an op that
    computes on arrays before `apply` needs a function-level rule (`FUNCTION_RULES`).

Note [Batching rules]
    A rule is `rule(node_class, inputs, params, levels)`, keyed by the op's node class
    (the grad_fn class `apply` records), returning the logical result as BatchedTensors:

      - elementwise ops: move every batched operand's batch dims to the front (size 1 for
        levels it lacks) and pad its logical rank, then one ordinary call (broadcasting
        does the rest);
      - reductions and shape ops: shift the dims they name by the number of batch dims,
        prepend the batch sizes to the shapes they take;
      - matmul and friends: align the operands so that NumPy's batched matmul rules apply,
        with the 1-d cases made explicit.

    An op with no rule falls back to a loop over the examples (each example's call is
    recorded, the results stacked), which is correct for every op but slow: it warns with
    the op's name, as PyTorch does.

    Most ops decide everything from metadata before `apply` and are batched there. The few
    that compute on arrays before `apply` (comparisons, argmax, gather, the class-index
    losses...) are listed in FUNCTION_RULES: `register` wraps those (and only those) so
    that, inside vmap, their rule sees the logical call; batched tensors take the wrapped
    methods, plain tensors keep the unwrapped ones. Random ops consult the level's
    `randomness` (see _vmap_state.py).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._tensor import Size, Tensor
from .._vmap_state import check_random_operation, pop_level, push_level, vmap_state  # noqa: F401

__all__ = ["BatchedTensor", "apply_batched", "vmap_state"]


# ---------------------------------------------------------------------------
# BatchedTensor


class _Stand_in(np.ndarray):
    """The logical-shaped `_data` of a BatchedTensor: shape and dtype only, no values."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise RuntimeError(_NO_VALUES)

    def __array_function__(self, function, types, args, kwargs):
        if function is np.reshape:  # metadata only: a stand-in of the new shape
            shape = args[1] if len(args) > 1 else kwargs.get("shape", kwargs.get("newshape"))
            shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
            if -1 in shape:
                known = math.prod(size for size in shape if size != -1)
                shape = tuple(self.size // max(known, 1) if size == -1 else size for size in shape)
            return _stand_in(shape, self.dtype)
        if function in _METADATA_FUNCTIONS:
            return super().__array_function__(function, types, args, kwargs)
        raise RuntimeError(_NO_VALUES)

    def __getitem__(self, key):  # metadata only: a stand-in of the indexed shape
        indexed = np.broadcast_to(np.zeros((), dtype=self.dtype), self.shape)[key]
        return _stand_in(np.shape(indexed), self.dtype)


_METADATA_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes,
                       np.can_cast, np.min_scalar_type}
_NO_VALUES = (
    "vmap: this operation reads the values of a batched tensor directly and has no batching "
    "rule yet. Rewrite the function with other operations, or call it outside vmap."
)


def _stand_in(shape: tuple, dtype: np.dtype) -> np.ndarray:
    array = np.ndarray.__new__(_Stand_in, shape, dtype=dtype, buffer=np.zeros(1, dtype=dtype),
                               strides=(0,) * len(shape))
    array.flags.writeable = False
    return array


class BatchedTensor(Tensor):
    """One example of a batch, as vmap's function sees it: see Note [Batched tensors]."""

    __slots__ = ("_levels", "_physical", "_stand_in")

    @property
    def _data(self):
        stand_in = self._stand_in
        if stand_in is None:
            physical = self._physical._data
            stand_in = self._stand_in = _stand_in(physical.shape[len(self._levels):], physical.dtype)
        return stand_in

    @_data.setter
    def _data(self, value) -> None:  # Tensor._setup's write: the values live in the physical tensor
        self._stand_in = None

    @property
    def shape(self) -> Size:
        return Size(self._physical._data.shape[len(self._levels):])

    def size(self, dim: int | None = None):
        shape = self._physical._data.shape[len(self._levels):]
        if dim is None:
            return Size(shape)
        return shape[self._wrap_dim(dim)]

    @property
    def ndim(self) -> int:
        return self._physical._data.ndim - len(self._levels)

    def dim(self) -> int:
        return self._physical._data.ndim - len(self._levels)

    def numel(self) -> int:
        return math.prod(self._physical._data.shape[len(self._levels):])

    def __repr__(self) -> str:
        text = repr(self._physical)
        for level in self._levels:
            body = "\n".join("    " + line for line in text.splitlines())
            text = f"BatchedTensor(lvl={_level_number(level)}, bdim=0, value=\n{body}\n)"
        return text

    def __bool__(self) -> bool:
        raise RuntimeError(_CONTROL_FLOW)

    def item(self):
        raise RuntimeError(_ITEM)

    def tolist(self):
        raise RuntimeError(_ITEM)

    def __float__(self) -> float:
        raise RuntimeError(_ITEM)

    def __int__(self) -> int:
        raise RuntimeError(_ITEM)

    def __index__(self) -> int:
        raise RuntimeError(_ITEM)

    def numpy(self, *, force: bool = False):
        raise RuntimeError("vmap: numpy() is not supported on a batched tensor inside vmap.")

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("vmap: a batched tensor cannot be converted to a NumPy array inside vmap.")

    def detach(self) -> Tensor:
        return wrap(self._physical.detach(), self._levels)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter([self[index] for index in range(self.shape[0])])

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __hash__(self) -> int:
        return id(self)

    def __reduce_ex__(self, protocol):
        raise RuntimeError("vmap: a batched tensor cannot be pickled or deep-copied inside vmap.")

    def __deepcopy__(self, memo):
        raise RuntimeError("vmap: a batched tensor cannot be pickled or deep-copied inside vmap.")


_CONTROL_FLOW = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues ."
)
_ITEM = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations. If error "
    "is occurring somewhere inside PyTorch internals, please file a bug report."
)


def _level_number(level_id: int) -> int:
    """The nesting depth of a level (1 for the outermost active vmap), for printing."""
    for position, level in enumerate(vmap_state.levels):
        if level.id == level_id:
            return position + 1
    return level_id


def wrap(physical: Tensor, levels: tuple) -> Tensor:
    """The BatchedTensor over `physical`, whose leading dims are the batch dims of `levels`."""
    if not levels:
        return physical
    batched = BatchedTensor.__new__(BatchedTensor)
    batched._physical = physical
    batched._levels = levels
    batched._setup(None, physical.grad_fn, physical._output_nr, physical._version_counter)
    batched._requires_grad = physical._requires_grad
    batched._is_inference = physical._is_inference
    return batched


def levels_of(value) -> tuple:
    return value._levels if type(value) is BatchedTensor else ()


def _union(values) -> tuple:
    found: set[int] = set()
    for value in values:
        if type(value) is BatchedTensor:
            found.update(value._levels)
        elif type(value) in (list, tuple):
            for item in value:
                if type(item) is BatchedTensor:
                    found.update(item._levels)
    return tuple(sorted(found))


# ---------------------------------------------------------------------------
# Physical helpers: each makes one ordinary (recorded) call


_ops = None


def _lazy_ops():
    global _ops
    if _ops is None:
        from types import SimpleNamespace

        from . import linalg, reduce, shape

        _ops = SimpleNamespace(shape=shape, reduce=reduce, linalg=linalg)
    return _ops


def _view(tensor: Tensor, shape: tuple) -> Tensor:
    if tuple(tensor._data.shape) == tuple(shape):
        return tensor
    return _lazy_ops().shape.reshape(tensor, shape)


def physical_at(value, levels: tuple, rank: int | None = None, expand: bool = False):
    """`value`'s physical tensor with a batch dim for each of `levels` (size 1 where it is not
    batched over a level, or the level's size with `expand`), and its logical rank padded
    to `rank` with leading size-1 dims. Plain tensors get the batch dims too."""
    if type(value) is BatchedTensor:
        physical, own = value._physical, value._levels
    elif isinstance(value, Tensor):
        physical, own = value, ()
    else:
        return value
    shape = physical._data.shape
    logical = shape[len(own):]
    pad = (1,) * (0 if rank is None else rank - len(logical))
    if own == levels and not pad and not expand:
        return physical
    sizes = vmap_state.sizes
    batch = []
    position = 0
    for level in levels:
        if position < len(own) and own[position] == level:
            batch.append(shape[position])
            position += 1
        else:
            batch.append(sizes.get(level, 1) if expand else 1)
    reshaped = _view(physical, tuple(1 if expand and own != levels and level not in own else size
                                      for level, size in zip(levels, batch)) + pad + logical)
    if expand and own != levels:
        reshaped = _lazy_ops().shape.expand(reshaped, tuple(batch) + pad + logical)
    return reshaped


def _result(value, levels: tuple):
    if isinstance(value, tuple):
        items = [_result(item, levels) for item in value]
        return type(value)(*items) if hasattr(type(value), "_fields") else tuple(items)
    if type(value) is list:
        return [_result(item, levels) for item in value]
    if isinstance(value, Tensor):
        return wrap(value, levels)
    return value


def _logical_rank(value) -> int:
    if type(value) is BatchedTensor:
        return value._physical._data.ndim - len(value._levels)
    if isinstance(value, Tensor):
        return value._data.ndim
    return 0


# ---------------------------------------------------------------------------
# The dispatch


_RULES: dict = {}
_RESOLVED: dict = {}


def rule(*node_classes):
    """Register the decorated function as the batching rule of `node_classes`."""

    def decorate(function):
        for node_class in node_classes:
            _RULES[node_class] = function
        _RESOLVED.clear()
        return function

    return decorate


def _find_rule(node_class):
    found = _RESOLVED.get(node_class, _RULES)
    if found is _RULES:
        _register_families()
        found = None
        for cls in node_class.__mro__:
            if cls in _RULES:
                found = _RULES[cls]
                break
        _RESOLVED[node_class] = found
    return found


def apply_batched(node_class, inputs: tuple, params: dict):
    """The batched call of an op, or NotImplemented when no input is batched (see
    Note [Batching rules])."""
    levels = _union(inputs)
    if params:
        tensor_params = [value for value in params.values() if type(value) is BatchedTensor]
        if tensor_params:
            levels = tuple(sorted(set(levels).union(*(value._levels for value in tensor_params))))
    if not levels:
        return NotImplemented
    found = _find_rule(node_class)
    if found is None:
        return _fallback(node_class, inputs, params, levels)
    return found(node_class, inputs, params, levels)


# ---------------------------------------------------------------------------
# The fallback: one call per example, stacked


_warned: set = set()


def _op_name(node_class) -> str:
    name = node_class.__name__
    for suffix in ("Backward0", "Backward1", "Backward2", "Backward3", "Backward4", "Backward"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.lstrip("_")


def warn_fallback(op_name: str) -> None:
    warnings.warn(
        f"There is a performance drop because we have not yet implemented the batching rule for "
        f"{op_name}. Please file us an issue on GitHub so that we can prioritize its "
        "implementation.",
        UserWarning,
        stacklevel=4,
    )


def _fallback(node_class, inputs, params, levels):
    from . import _table

    warn_fallback(f"retrograd::{_op_name(node_class)}")
    return loop_over_examples(lambda *args, **kwargs: _table.apply(node_class, *args, **kwargs),
                              inputs, params, levels)


def loop_over_examples(call, args: tuple, kwargs: dict, levels: tuple):
    """Run `call` once per example (every combination of the batch indices of `levels`) on
    plain tensors and stack the results: correct for any op, recorded as usual."""
    sizes = tuple(vmap_state.sizes[level] for level in levels)
    count = math.prod(sizes)

    def flat(value):
        if isinstance(value, Tensor):
            full = physical_at(value, levels, expand=True)
            return _view(full, (count, *tuple(full._data.shape[len(levels):])))
        if type(value) in (list, tuple):
            return type(value)(flat(item) for item in value)
        return value

    flat_args = [flat(value) for value in args]
    flat_kwargs = {key: flat(value) for key, value in kwargs.items()}
    batched = [type(value) is BatchedTensor or (type(value) in (list, tuple) and _union(value))
               for value in args]
    batched_kwargs = {key: type(value) is BatchedTensor or (type(value) in (list, tuple)
                                                           and bool(_union(value)))
                      for key, value in kwargs.items()}

    def pick(value, index):
        if isinstance(value, Tensor):
            return _lazy_ops().shape.select(value, 0, index)
        if type(value) in (list, tuple):
            return type(value)(pick(item, index) for item in value)
        return value

    results = []
    for index in range(count):
        example_args = [pick(value, index) if is_batched else original
                        for value, original, is_batched in zip(flat_args, args, batched)]
        example_kwargs = {key: pick(flat_kwargs[key], index) if batched_kwargs[key] else value
                          for key, value in kwargs.items()}
        results.append(call(*example_args, **example_kwargs))
    return _stack_results(results, sizes, levels)


def _stack_results(results: list, sizes: tuple, levels: tuple):
    first = results[0] if results else None
    if isinstance(first, tuple | list):
        stacked = [_stack_results([result[position] for result in results], sizes, levels)
                   for position in range(len(first))]
        if hasattr(first, "_fields"):
            return type(first)(*stacked)
        return type(first)(stacked)
    if not isinstance(first, Tensor):
        raise RuntimeError(
            f"vmap: an operation without a batching rule returned {type(first).__name__}, not a "
            "Tensor; it cannot be batched"
        )
    stacked = _lazy_ops().shape.stack(results, 0)
    return wrap(_view(stacked, sizes + tuple(first._data.shape)), levels)


# ---------------------------------------------------------------------------
# Rules: elementwise


def _elementwise(node_class, inputs, params, levels):
    from ._table import apply

    rank = max([_logical_rank(value) for value in inputs]
               + [_logical_rank(value) for value in params.values()])
    physical_inputs = [physical_at(value, levels, rank) if type(value) is BatchedTensor else value
                       for value in inputs]
    if params:
        params = {key: physical_at(value, levels, rank) if type(value) is BatchedTensor else value
                  for key, value in params.items()}
    return _result(apply(node_class, *physical_inputs, **params), levels)


def _unary_physical(value, levels):
    """The physical tensor of a single batched input, with all of `levels` (size 1 where
    missing: a single input has exactly its own levels, so this is its physical)."""
    return physical_at(value, levels)


def _shifted(node_class, inputs, params, levels, **changes):
    from ._table import apply

    physical = [physical_at(value, levels, expand=True) if isinstance(value, Tensor) else value
                for value in inputs]
    new_params = dict(params)
    new_params.update(changes)
    return _result(apply(node_class, *physical, **new_params), levels)


def _shift(dim, count: int):
    if dim is None:
        return None
    if isinstance(dim, tuple | list):
        return tuple(int(d) + count for d in dim)
    return int(dim) + count


# ---------------------------------------------------------------------------
# Rule families, registered on first use (the op modules must be imported by then)


_families_registered = False


def _register_families() -> None:
    global _families_registered
    if _families_registered:
        return
    _families_registered = True
    from . import _formula, fill, index, linalg, pointwise, reduce, shape
    from .nn import _backward_ops, activation, loss

    elementwise = []
    for module in (pointwise, activation, _backward_ops):
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, _formula.Formula)
                    and value.__module__ == module.__name__):
                elementwise.append(value)
    dim_ops = {activation.SoftmaxBackward0, activation.LogSoftmaxBackward0}
    for node_class in elementwise:
        if node_class not in dim_ops and node_class not in _RULES:
            _RULES[node_class] = _elementwise
    for node_class in (shape.CloneBackward0, shape.ToCopyBackward0, fill.CopyBackwards,
                       fill.FillBackward2, fill.FillBackward3, fill.ZeroBackward0,
                       shape.TrilBackward0, shape.TriuBackward0):
        _RULES.setdefault(node_class, _elementwise)
    _RULES[shape.TrilBackward0] = _RULES[shape.TriuBackward0] = _matrix_wise

    # dims named by an int or tuple of non-negative ints
    for node_class in (activation.SoftmaxBackward0, activation.LogSoftmaxBackward0,
                       reduce.SumBackward1, reduce.MeanBackward1, reduce.AmaxBackward0,
                       reduce.AminBackward0, reduce.LogsumexpBackward0, reduce.VarBackward0,
                       reduce.StdBackward0, reduce.VarMeanBackward0, reduce.StdMeanBackward0,
                       reduce.ProdBackward1, reduce.CumsumBackward0, reduce.CumprodBackward0,
                       reduce.ReversedCumsumBackward0, reduce.MaxBackward0, reduce.MinBackward0,
                       reduce.MedianBackward1, reduce.ModeBackward0, reduce.KthvalueBackward0,
                       reduce.SortBackward0, reduce.TopkBackward0, reduce.CummaxBackward0,
                       reduce.CumminBackward0, shape.FlipBackward0, shape.SqueezeBackward1,
                       shape.SqueezeBackward2, shape.SplitBackward0, shape.SplitWithSizesBackward0,
                       shape.UnbindBackward0):
        _RULES[node_class] = _dim_rule
    _RULES[reduce.SumBackward0] = _all_dims(reduce.SumBackward1)
    _RULES[reduce.MeanBackward0] = _all_dims(reduce.MeanBackward1)
    _RULES[reduce.ProdBackward0] = _prod_all
    _RULES[reduce.MaxBackward1] = _extreme_all("amax")
    _RULES[reduce.MinBackward1] = _extreme_all("amin")
    _RULES[reduce.LinalgVectorNormBackward0] = _vector_norm
    _RULES[shape.ViewBackward0] = _RULES[shape.UnsafeViewBackward0] = _shape_rule
    _RULES[shape.ExpandBackward0] = _expand_rule
    _RULES[shape.SumToSizeBackward0] = _sum_to_size_rule
    _RULES[shape.TransposeBackward0] = _transpose_rule
    _RULES[shape.TBackward0] = _t_rule
    _RULES[shape.PermuteBackward0] = _permute_rule
    _RULES[shape.SqueezeBackward0] = _squeeze_all_rule
    _RULES[shape.UnsqueezeBackward0] = _unsqueeze_rule
    _RULES[shape.SelectBackward0] = _key_rule
    _RULES[shape.SliceBackwardBackward0] = _slice_backward_rule
    _RULES[shape.DiagonalBackward0] = _diagonal_rule
    _RULES[shape.DiagonalBackward0_copy] = _diagonal_rule
    _RULES[shape.DiagEmbedBackward0] = _diagonal_rule
    _RULES[shape.RepeatBackward0] = _repeat_rule
    _RULES[shape.RollBackward0] = _roll_rule
    _RULES[shape.CatBackward0] = _cat_rule
    _RULES[shape.StackBackward0] = _cat_rule
    for node_class in (loss.MseLossBackward0, loss.HuberLossBackward0, loss.SmoothL1LossBackward0,
                       loss.BinaryCrossEntropyBackward0,
                       loss.BinaryCrossEntropyWithLogitsBackward0):
        _RULES[node_class] = _pointwise_loss
    _register_linalg()
    from .nn import normalization

    _RULES[normalization.NativeLayerNormBackward0] = _layer_norm_rule
    from .nn import conv

    _RULES[conv.ConvolutionBackward0] = _convolution_rule
    from .nn import _maps, padding, pooling

    # windows and resampling over the last dims: any leading dims are batch dims already
    for node_class in (pooling.MaxPool2DWithIndicesBackward0, pooling.AvgPool2DBackward0,
                       pooling.AdaptiveMaxPool2DBackward0, _maps._SeparableMapBackward):
        _RULES[node_class] = _leading_dims_rule
    _RULES[padding.ConstantPadNdBackward0] = _pad_rule
    # linear algebra on (*, n, n) stacks, as NumPy's and PyTorch's: batch dims lead
    for name in ("LinalgInvExBackward0", "LinalgDetBackward0", "LinalgSlogdetBackward0",
                 "LinalgCholeskyExBackward0", "LinalgEighBackward0", "LinalgSvdBackward0",
                 "LinalgQrBackward0", "LinalgPinvBackward0", "LinalgSolveExBackward0",
                 "LinalgSolveTriangularBackward0"):
        _RULES[getattr(linalg, name)] = _leading_dims_rule
    _RULES[linalg.LinalgSolveExBackward0] = _RULES[linalg.LinalgSolveTriangularBackward0] = \
        _linalg_pair_rule
    _RULES[index.CopySlices] = _copy_slices_rule


def _dim_rule(node_class, inputs, params, levels):
    count = len(levels)
    if _logical_rank(inputs[0]) == 0:
        # a 0-d example: the op runs on a size-1 dim of its own, removed again after
        physical = physical_at(inputs[0], levels, expand=True)
        batch = tuple(physical._data.shape)
        changes = {key: count for key in ("dim", "dims") if key in params}
        if "dims" in params:
            changes["dims"] = (count,)
        result = _apply(node_class, _view(physical, (*batch, 1)), *inputs[1:],
                        **dict(params, **changes))
        return _result(_map_tensors(result, lambda value: _view(value, batch)
                                    if value._data.ndim > count else value), levels)
    changes = {key: _shift(params[key], count) for key in ("dim", "dims") if key in params}
    return _shifted(node_class, inputs, params, levels, **changes)


def _map_tensors(value, function):
    if isinstance(value, tuple):
        items = [_map_tensors(item, function) for item in value]
        return type(value)(*items) if hasattr(type(value), "_fields") else tuple(items)
    return function(value) if isinstance(value, Tensor) else value


def _all_dims(dim_class):
    def rule(node_class, inputs, params, levels):
        from ._table import apply

        physical = _unary_physical(inputs[0], levels)
        count = len(levels)
        dims = tuple(range(count, physical._data.ndim))
        new_params = dict(params, dim=dims, keepdim=False)
        return _result(apply(dim_class, physical, **new_params), levels)

    return rule


def _prod_all(node_class, inputs, params, levels):
    physical = _unary_physical(inputs[0], levels)
    count = len(levels)
    flat = _view(physical, (*physical._data.shape[:count], -1))
    return _result(_lazy_ops().reduce.prod(flat, count, dtype=params.get("dtype")), levels)


def _extreme_all(name):
    def rule(node_class, inputs, params, levels):
        physical = _unary_physical(inputs[0], levels)
        count = len(levels)
        if physical._data.size == 0 or physical._data.ndim == count:
            return _fallback(node_class, inputs, params, levels)
        flat = _view(physical, (*physical._data.shape[:count], -1))
        return _result(getattr(_lazy_ops().reduce, name)(flat, count), levels)

    return rule


def _vector_norm(node_class, inputs, params, levels):
    physical = _unary_physical(inputs[0], levels)
    count = len(levels)
    changes = {}
    for key in ("dim", "dims"):
        if key in params and params[key] is not None:
            changes[key] = _shift(params[key], count)
    if params.get("dims") is None and params.get("dim") is None:
        changes["dims"] = tuple(range(count, physical._data.ndim))
        changes["dim"] = changes["dims"]
    return _shifted(node_class, inputs, params, levels, **changes)


def _batch_sizes(value, levels) -> tuple:
    return tuple(value._physical._data.shape[:len(levels)])


def _shape_rule(node_class, inputs, params, levels):
    from . import shape as shape_ops

    physical = _unary_physical(inputs[0], levels)
    shape = _batch_sizes(inputs[0], levels) + tuple(params["shape"])
    if node_class is shape_ops.ViewBackward0 and not shape_ops._can_view(physical._data, shape):
        node_class = shape_ops.UnsafeViewBackward0
    return _result(_apply(node_class, physical, **dict(params, shape=shape)), levels)


def _apply(node_class, *inputs, **params):
    from ._table import apply

    return apply(node_class, *inputs, **params)


def _expand_rule(node_class, inputs, params, levels):
    physical = _unary_physical(inputs[0], levels)
    target = tuple(params["shape"])
    logical = physical._data.shape[len(levels):]
    if len(target) > len(logical):
        physical = physical_at(inputs[0], levels, len(target))
    return _result(_apply(node_class, physical,
                          shape=_batch_sizes(inputs[0], levels) + target), levels)


def _sum_to_size_rule(node_class, inputs, params, levels):
    physical = _unary_physical(inputs[0], levels)
    count = len(levels)
    target = tuple(params["shape"])
    logical = physical._data.shape[count:]
    batch = physical._data.shape[:count]
    padded = (1,) * (len(logical) - len(target)) + target
    summed = _apply(node_class, physical, shape=batch + padded)
    return _result(_view(summed, batch + target), levels)


def _transpose_rule(node_class, inputs, params, levels):
    count = len(levels)
    if _logical_rank(inputs[0]) == 0:
        return inputs[0]
    return _shifted(node_class, inputs, params, levels, dim0=params["dim0"] + count,
                    dim1=params["dim1"] + count)


def _t_rule(node_class, inputs, params, levels):
    from . import shape

    count = len(levels)
    if _logical_rank(inputs[0]) < 2:
        return wrap(_apply(shape.AliasBackward0, inputs[0]._physical, key=(Ellipsis,)), levels)
    return _shifted(shape.TransposeBackward0, inputs, {}, levels, dim0=count, dim1=count + 1)


def _permute_rule(node_class, inputs, params, levels):
    count = len(levels)
    dims = tuple(range(count)) + tuple(d + count for d in params["dims"])
    return _shifted(node_class, inputs, params, levels, dims=dims)


def _squeeze_all_rule(node_class, inputs, params, levels):
    from . import shape

    logical = inputs[0].shape
    dims = tuple(index for index, size in enumerate(logical) if size == 1)
    return _shifted(shape.SqueezeBackward2, inputs, {}, levels, dim=_shift(dims, len(levels)))


def _unsqueeze_rule(node_class, inputs, params, levels):
    count = len(levels)
    if params.get("key") is not None:
        return _shifted(node_class, inputs, params, levels,
                        key=(slice(None),) * count + tuple(params["key"]))
    return _shifted(node_class, inputs, params, levels, dim=params["dim"] + count)


def _key_rule(node_class, inputs, params, levels):
    count = len(levels)
    key = params["key"]
    key = key if isinstance(key, tuple) else (key,)
    return _shifted(node_class, inputs, params, levels, key=(slice(None),) * count + key)


def _slice_backward_rule(node_class, inputs, params, levels):
    count = len(levels)
    physical = physical_at(inputs[0], levels, expand=True)
    key = params["key"]
    key = key if isinstance(key, tuple) else (key,)
    return _result(_apply(node_class, physical,
                          shape=tuple(physical._data.shape[:count]) + tuple(params["shape"]),
                          key=(slice(None),) * count + key), levels)


def _diagonal_rule(node_class, inputs, params, levels):
    count = len(levels)
    return _shifted(node_class, inputs, params, levels, dim1=params["dim1"] + count,
                    dim2=params["dim2"] + count)


def _repeat_rule(node_class, inputs, params, levels):
    repeats = tuple(params["repeats"])
    physical = physical_at(inputs[0], levels, len(repeats))
    return _result(_apply(node_class, physical, repeats=(1,) * len(levels) + repeats), levels)


def _roll_rule(node_class, inputs, params, levels):
    count = len(levels)
    dims = params.get("dims")
    if dims is None or (isinstance(dims, tuple | list) and not dims):
        physical = _unary_physical(inputs[0], levels)
        batch = physical._data.shape[:count]
        flat = _view(physical, (*batch, -1))
        rolled = _apply(node_class, flat, **dict(params, dims=(count,)))
        return _result(_view(rolled, physical._data.shape), levels)
    return _shifted(node_class, inputs, params, levels, dims=_shift(dims, count))


def _cat_rule(node_class, inputs, params, levels):
    count = len(levels)
    physical = [physical_at(value, levels, expand=True) for value in inputs]
    return _result(_apply(node_class, *physical, **dict(params, dim=params["dim"] + count)), levels)


def _matrix_wise(node_class, inputs, params, levels):
    return _shifted(node_class, inputs, params, levels)


def _layer_norm_rule(node_class, inputs, params, levels):
    x, weight, bias = inputs
    count = len(levels)
    physical = physical_at(x, levels, expand=True)
    dims = tuple(dim + count for dim in params["dims"])
    if type(weight) is not BatchedTensor and type(bias) is not BatchedTensor:
        return wrap(_apply(node_class, physical, weight, bias, dims=dims, eps=params["eps"]), levels)
    # per-example weights (vmap of grad): standardize, then the affine part by elementwise rules
    result = wrap(_apply(node_class, physical, None, None, dims=dims, eps=params["eps"]), levels)
    if weight is not None:
        result = result * weight
    if bias is not None:
        result = result + bias
    return result


def _convolution_rule(node_class, inputs, params, levels):
    """Convolution: batched inputs join the convolution's own batch; batched weights (vmap
    of grad, ensembles) become groups, one per example, as functorch does."""
    x, weight, bias = inputs
    if params["transposed"]:
        return _fallback(node_class, inputs, params, levels)
    count = len(levels)
    physical = physical_at(x, levels, expand=True)
    batch = tuple(physical._data.shape[:count])
    logical = tuple(physical._data.shape[count:])
    examples = math.prod(batch)
    if type(weight) is not BatchedTensor and type(bias) is not BatchedTensor:
        flat = _view(physical, (-1, *logical[1:]))
        out = _apply(node_class, flat, weight, bias, **params)
        return wrap(_view(out, (*batch, logical[0], *tuple(out._data.shape[1:]))), levels)
    shape_ops = _lazy_ops().shape
    rows, channels = logical[0], logical[1]
    grouped = shape_ops.movedim(_view(physical, (examples, *logical)), 0, 1)
    grouped = _view(grouped, (rows, examples * channels, *logical[2:]))
    kernel = physical_at(weight, levels, expand=True)
    kernel = _view(kernel, (-1, *kernel._data.shape[count + 1:]))
    if bias is not None:
        bias = _view(physical_at(bias, levels, expand=True), (-1,))
    out = _apply(node_class, grouped, kernel, bias, **dict(params, groups=examples * params["groups"]))
    spatial = tuple(out._data.shape[2:])
    out = shape_ops.movedim(_view(out, (rows, examples, -1, *spatial)), 1, 0)
    return wrap(_view(out, (*batch, rows, *tuple(out._data.shape[2:]))), levels)


def _leading_dims_rule(node_class, inputs, params, levels):
    """An op that maps the last dims and treats every leading dim alike (pooling windows,
    separable resampling): the batch dims are just more leading dims."""
    return _shifted(node_class, inputs, params, levels)


def _linalg_pair_rule(node_class, inputs, params, levels):
    """solve and solve_triangular: the two operands' batch dims are lined up (each padded to
    the same number of batch dims) before the physical call, as the logical call lines them up
    from the right."""
    a, b = inputs[:2]
    cores = (2, 1 if params.get("vector") else 2)
    batch_rank = max(_logical_rank(value) - core for value, core in zip((a, b), cores))
    physical = [physical_at(value, levels, batch_rank + core, expand=True)
                for value, core in zip((a, b), cores)]
    return _result(_apply(node_class, *physical, *inputs[2:], **params), levels)


def _pad_rule(node_class, inputs, params, levels):
    pairs = tuple(params["pairs"])
    return _shifted(node_class, inputs, params, levels, pairs=((0, 0),) * len(levels) + pairs)


def _copy_slices_rule(node_class, inputs, params, levels):
    """`x[key] = values` with a basic key: the same write on the physical tensors."""
    import dataclasses

    key = params["key"]
    if key.advanced is not None:
        return _fallback(node_class, inputs, params, levels)
    count = len(levels)
    target, values = inputs
    physical = physical_at(target, levels, expand=True)
    region = physical._data[(slice(None),) * count + tuple(key.basic)].shape[count:]
    if isinstance(values, Tensor):
        values = physical_at(values, levels, len(region)) if type(values) is BatchedTensor else values
    new_key = dataclasses.replace(key, basic=(slice(None),) * count + tuple(key.basic))
    return wrap(_apply(node_class, physical, values, **dict(params, key=new_key)), levels)


# ---------------------------------------------------------------------------
# Rules: losses


def _reduce_logical(value, reduction: str, levels):
    if reduction == "none":
        return value
    count = len(levels)
    physical = value._physical if type(value) is BatchedTensor else value
    own = levels_of(value)
    dims = tuple(range(len(own), physical._data.ndim))
    if not dims:
        return value
    reduce = _lazy_ops().reduce
    result = reduce.mean(physical, dims) if reduction == "mean" else reduce.sum(physical, dims)
    del count
    return wrap(result, own)


def _pointwise_loss(node_class, inputs, params, levels):
    reduction = params.get("reduction", "mean")
    unreduced = _elementwise(node_class, inputs, dict(params, reduction="none"), levels)
    return _reduce_logical(unreduced, reduction, levels)


# ---------------------------------------------------------------------------
# Rules: matrix products


def _register_linalg() -> None:
    from . import linalg

    for name in ("DotBackward0", "VdotBackward0", "MvBackward0", "MmBackward0", "BmmBackward0",
                 "_MatrixProduct", "_BatchedMatmul", "_VectorMatrixMatmul", "_MatrixBatchMatmul"):
        node_class = getattr(linalg, name, None)
        if node_class is not None:
            _RULES[node_class] = _matmul_rule
    for name in ("AddmmBackward0", "AddmvBackward0", "BaddbmmBackward0"):
        node_class = getattr(linalg, name, None)
        if node_class is not None:
            _RULES[node_class] = _addmm_rule
    for name in ("AddbmmBackward0", "AddrBackward0"):  # no rule: the fallback
        node_class = getattr(linalg, name, None)
        if node_class is not None:
            _RULES[node_class] = None


def batched_matmul(a, b, levels):
    """The logical a @ b (NumPy's matmul rules) as physical calls, for batched a and/or b."""
    matmul = _lazy_ops().linalg.matmul
    shape_ops = _lazy_ops().shape
    rank_a, rank_b = _logical_rank(a), _logical_rank(b)
    a_batched, b_batched = type(a) is BatchedTensor, type(b) is BatchedTensor
    if rank_a == 1 and rank_b == 1:
        if not b_batched:
            return wrap(matmul(physical_at(a, levels), b), levels)
        if not a_batched:
            return wrap(matmul(physical_at(b, levels), a), levels)
        product = physical_at(a, levels) * physical_at(b, levels)
        return wrap(_lazy_ops().reduce.sum(product, -1), levels)
    if rank_b == 1:
        if not b_batched:
            return wrap(matmul(physical_at(a, levels), b), levels)
        column = shape_ops.unsqueeze(physical_at(b, levels, rank_a - 1), -1)
        a_physical = physical_at(a, levels) if a_batched else a
        return wrap(shape_ops.squeeze(matmul(a_physical, column), -1), levels)
    if rank_a == 1:
        row = shape_ops.unsqueeze(physical_at(a, levels, rank_b - 1) if a_batched else a, -2)
        b_physical = physical_at(b, levels) if b_batched else b
        return wrap(shape_ops.squeeze(matmul(row, b_physical), -2), levels)
    rank = max(rank_a, rank_b)
    a_physical = physical_at(a, levels, rank) if a_batched else a
    b_physical = physical_at(b, levels, rank) if b_batched else b
    if not a_batched and rank_a < rank:
        a_physical = _view(a, (1,) * (rank - rank_a) + tuple(a.shape))
    if not b_batched and rank_b < rank:
        b_physical = _view(b, (1,) * (rank - rank_b) + tuple(b.shape))
    return wrap(matmul(a_physical, b_physical), levels)


def _matmul_rule(node_class, inputs, params, levels):
    return batched_matmul(inputs[0], inputs[1], levels)


def _addmm_rule(node_class, inputs, params, levels):
    bias, first, second = inputs
    beta, alpha = params.get("beta", 1), params.get("alpha", 1)
    if type(first) is BatchedTensor or type(second) is BatchedTensor:
        product = batched_matmul(first, second, levels)
    else:
        product = _lazy_ops().linalg.matmul(first, second)
    if alpha != 1:
        product = product * alpha
    if bias is None or (beta == 0):
        return product
    return product + (bias if beta == 1 else bias * beta)


# ---------------------------------------------------------------------------
# In-place ops


def any_batched(target, args) -> bool:
    if type(target) is BatchedTensor:
        return True
    return any(type(value) is BatchedTensor for value in args)


def in_place(run_in_place, target, function, args, kwargs, cast, fills=False):
    """An in-place op where the target or an argument is batched: the op runs batched and
    its physical result is written into the target's physical tensor (a target that is not
    batched cannot take a batched result: PyTorch's shape error)."""
    levels = _union((target, *args))
    target_levels = levels_of(target)
    physical_target = target._physical if type(target) is BatchedTensor else target

    def physical_function(snapshot, *physical_args, **physical_kwargs):
        logical = function(wrap(snapshot, target_levels), *args, **kwargs)
        if type(logical) is not BatchedTensor:
            return logical
        if set(logical._levels) <= set(target_levels):
            return physical_at(logical, target_levels, expand=True)
        return physical_at(logical, levels, expand=True)

    run_in_place(physical_target, physical_function, cast=cast, fills=fills)
    if type(target) is BatchedTensor:
        target.grad_fn = physical_target.grad_fn
        target._requires_grad = physical_target._requires_grad
        target._output_nr = physical_target._output_nr
    return target


# ---------------------------------------------------------------------------
# Function-level rules: ops that compute on arrays before (or without) `apply`


def batched_function(op_name: str, function):
    """`function` with its batching rule consulted inside vmap (ops in FUNCTION_RULES only:
    every other op is batched at `apply`)."""
    found = FUNCTION_RULES[op_name]

    def dispatch(*args, **kwargs):
        if vmap_state.depth:
            levels = _union(args)
            if kwargs:
                levels = tuple(sorted(set(levels).union(_union(kwargs.values()))))
            if levels:
                return found(function, args, kwargs, levels)
        return function(*args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = function.__name__
    dispatch.__doc__ = function.__doc__
    dispatch.__module__ = function.__module__
    dispatch.__wrapped__ = function
    return dispatch


def _function_elementwise(function, args, kwargs, levels):
    values = list(args) + list(kwargs.values())
    rank = max(_logical_rank(value) for value in values)
    physical_args = [physical_at(value, levels, rank) if type(value) is BatchedTensor else value
                     for value in args]
    physical_kwargs = {key: physical_at(value, levels, rank) if type(value) is BatchedTensor
                       else value for key, value in kwargs.items()}
    return _result(function(*physical_args, **physical_kwargs), levels)


def _argument(args, kwargs, position: int, name: str, default):
    if len(args) > position:
        return args[position]
    return kwargs.get(name, default)


def _with_argument(args, kwargs, position: int, name: str, value):
    if len(args) > position:
        args = (*args[:position], value, *args[position + 1:])
    else:
        kwargs = dict(kwargs, **{name: value})
    return args, kwargs


def _function_dim(position: int, default, flatten_none: bool):
    """A rule for a one-input op whose `dim` argument (at `position`) names a logical dim;
    None means every dim (flattened first, when `flatten_none`)."""

    def rule(function, args, kwargs, levels):
        from .shape import wrap_dim

        value = args[0]
        if type(value) is not BatchedTensor or any(type(item) is BatchedTensor for item in args[1:]):
            return _function_fallback(function, args, kwargs, levels)
        count = len(levels)
        physical = physical_at(value, levels)
        rank = _logical_rank(value)
        dim = _argument(args, kwargs, position, "dim", default)
        if dim is None:
            if not flatten_none:
                return _function_fallback(function, args, kwargs, levels)
            keepdim = bool(kwargs.get("keepdim", args[2] if len(args) > 2 else False))
            batch = physical._data.shape[:count]
            flat = _view(physical, (*batch, -1))
            args, kwargs = _with_argument((flat, *tuple(args[1:])), kwargs, position, "dim", count)
            if "keepdim" in kwargs or len(args) > 2:
                args, kwargs = _with_argument(args, kwargs, 2, "keepdim", False)
            result = function(*args, **kwargs)
            if keepdim:
                result = _view(result, batch + (1,) * rank)
            return _result(result, levels)
        if isinstance(dim, tuple | list):
            shifted = tuple(wrap_dim(d, max(rank, 1)) + count for d in dim)
        else:
            shifted = wrap_dim(dim, max(rank, 1)) + count
        if rank == 0:
            return _function_fallback(function, args, kwargs, levels)
        args, kwargs = _with_argument((physical, *tuple(args[1:])), kwargs, position, "dim", shifted)
        return _result(function(*args, **kwargs), levels)

    return rule


def _function_fallback(function, args, kwargs, levels):
    warn_fallback(f"retrograd::{function.__name__}")
    return loop_over_examples(function, args, kwargs, levels)


def _dynamic_shape(function, args, kwargs, levels):
    raise RuntimeError(
        "vmap: We do not support batching operators that can output dynamic shape. Attempted to "
        f"vmap over retrograd::{function.__name__}. Please voice your support in "
        "https://github.com/pytorch/functorch/issues/256"
    )


def _gather_rule(function, args, kwargs, levels):
    from .shape import wrap_dim

    value = args[0]
    dim = _argument(args, kwargs, 1, "dim", None)
    index = _argument(args, kwargs, 2, "index", None)
    if kwargs.get("sparse_grad") or dim is None or index is None:
        return _function_fallback(function, args, kwargs, levels)
    rank = _logical_rank(value)
    if rank == 0:
        return _function_fallback(function, args, kwargs, levels)
    physical = physical_at(value, levels, expand=True)
    physical_index = physical_at(index, levels, expand=True)
    return _result(function(physical, wrap_dim(dim, rank) + len(levels), physical_index), levels)


def _index_select_rule(function, args, kwargs, levels):
    from .shape import wrap_dim

    value = args[0]
    dim = _argument(args, kwargs, 1, "dim", None)
    index = _argument(args, kwargs, 2, "index", None)
    if type(index) is BatchedTensor or type(value) is not BatchedTensor or _logical_rank(value) == 0:
        return _function_fallback(function, args, kwargs, levels)
    physical = physical_at(value, levels)
    return _result(function(physical, wrap_dim(dim, _logical_rank(value)) + len(levels), index),
                   levels)


def _one_hot_rule(function, args, kwargs, levels):
    num_classes = _argument(args, kwargs, 1, "num_classes", -1)
    if num_classes == -1:
        return _function_fallback(function, args, kwargs, levels)
    return _result(function(physical_at(args[0], levels), num_classes), levels)


def _class_loss_rule(function, args, kwargs, levels):
    """nll_loss and cross_entropy (class indices or class probabilities as targets, label
    smoothing): the examples' rows are flattened into the loss's own batch dim, the loss taken
    unreduced, and reduced per example."""
    import inspect

    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = bound.arguments
    input, target = arguments["input"], arguments["target"]
    weight, reduction = arguments.get("weight"), arguments.get("reduction", "mean")
    smoothing = arguments.get("label_smoothing", 0.0)
    if (arguments.get("size_average") is not None or arguments.get("reduce") is not None
            or type(weight) is BatchedTensor or not isinstance(target, Tensor)
            or _logical_rank(input) == 0 or (smoothing and weight is not None)):
        return _function_fallback(function, args, kwargs, levels)
    probabilities = target.dtype.is_floating_point
    count = len(levels)
    physical_input = physical_at(input, levels, expand=True)
    physical_target = physical_at(target, levels, expand=True)
    batch = tuple(physical_input._data.shape[:count])
    rank = _logical_rank(input)
    flat_input = _view(physical_input, (-1, *physical_input._data.shape[count + (rank > 1):]))
    target_rows = physical_target._data.shape[count + (rank > 1):]
    flat_target = _view(physical_target, (-1, *target_rows))
    options = {"weight": weight, "ignore_index": arguments.get("ignore_index", -100),
               "reduction": "none"}
    if "label_smoothing" in arguments:
        options["label_smoothing"] = smoothing
    losses = function(flat_input, flat_target, **options)
    loss_shape = physical_input._data.shape[count:count + 1] if rank > 1 else ()
    losses = _view(losses, batch + tuple(loss_shape) + tuple(losses._data.shape[1:]))
    if reduction == "none":
        return wrap(losses, levels)
    dims = tuple(range(count, losses._data.ndim))
    reduce = _lazy_ops().reduce

    def summed(value):
        return reduce.sum(value, dims) if dims else value

    if reduction == "sum":
        return wrap(summed(losses), levels)
    if probabilities:
        return wrap(reduce.mean(losses, dims) if dims else losses, levels)
    # the mean over the targets that count, each weighing its class's weight
    kept = physical_target != options["ignore_index"]
    if weight is not None:
        from .pointwise import where

        counts = where(kept, weight[where(kept, physical_target, 0)], 0.0)
    else:
        counts = kept.to(losses.dtype)
    return wrap(summed(losses) / summed(counts), levels)


def _getitem(self, key):
    """`x[key]` on a batched tensor: basic keys and plain index tensors (one group of advanced
    indices) are one physical indexing; anything else goes example by example."""
    from .index import getitem

    if not vmap_state.depth:
        return getitem(self, key)
    items = key if type(key) is tuple else (key,)
    advanced = [position for position, item in enumerate(items)
                if isinstance(item, Tensor | list | np.ndarray)]
    batched_key = any(type(item) is BatchedTensor for item in items)
    if batched_key or any(isinstance(item, bool) for item in items):
        return _function_fallback(getitem, (self, key), {}, _union((self, *items)))
    if advanced:
        integers = [position for position, item in enumerate(items)
                    if isinstance(item, int | np.integer)]
        group = sorted(advanced + integers)
        if group != list(range(group[0], group[-1] + 1)):
            return _function_fallback(getitem, (self, key), {}, self._levels)
    levels = self._levels
    physical = self._physical
    return wrap(getitem(physical, (slice(None),) * len(levels) + tuple(items)), levels)


BatchedTensor.__getitem__ = _getitem


_ELEMENTWISE_FUNCTIONS = (
    "eq", "ne", "lt", "le", "gt", "ge", "isclose", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "bitwise_not",
    "floor_divide", "signbit", "heaviside", "copysign", "gcd", "lcm", "ldexp", "nextafter",
    "frexp", "isreal",
)

FUNCTION_RULES: dict = dict.fromkeys(_ELEMENTWISE_FUNCTIONS, _function_elementwise)
FUNCTION_RULES.update({
    "argmax": _function_dim(1, None, True),
    "argmin": _function_dim(1, None, True),
    "all": _function_dim(1, None, True),
    "any": _function_dim(1, None, True),
    "count_nonzero": _function_dim(1, None, True),
    "argsort": _function_dim(1, -1, False),
    "logcumsumexp": _function_dim(1, None, False),
    "gather": _gather_rule,
    "index_select": _index_select_rule,
    "one_hot": _one_hot_rule,
    "nll_loss": _class_loss_rule,
    "cross_entropy": _class_loss_rule,
    "nonzero": _dynamic_shape,
    "argwhere": _dynamic_shape,
    "bincount": _dynamic_shape,
    "histc": _function_fallback,
    "take_along_dim": _function_fallback,
    "combinations": _function_fallback,
    "cholesky_solve": _function_fallback,
    "cholesky_inverse": _function_fallback,
    "triangular_solve": _function_fallback,
    "index_put": _function_fallback,
    # these read values on arrays before `apply` (checks, warnings): example by example
    "cosine_embedding_loss": _function_fallback,
    "gaussian_nll_loss": _function_fallback,
    "hinge_embedding_loss": _function_fallback,
    "kl_div": _function_fallback,
    "poisson_nll_loss": _function_fallback,
    "triplet_margin_loss": _function_fallback,
    "prelu": _function_fallback,
    "slice_scatter": _function_fallback,
    "batch_norm": _function_fallback,
    "binary_cross_entropy": _function_fallback,
})


def _einsum_rule(function, args, kwargs, levels):
    """einsum: each batch level becomes one more subscript, on the batched operands and the
    output (one contraction, as the logical one)."""
    from . import linalg

    if kwargs or not args or not isinstance(args[0], str):
        return _function_fallback(function, args, kwargs, levels)
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    input_labels, output_labels = linalg._parse_equation(equation, operands)
    first_new = 1 + max([label for labels in input_labels for label in labels] + list(output_labels) + [0])
    batch_labels = list(range(first_new, first_new + len(levels)))
    physical = []
    labels = []
    for operand, operand_labels in zip(operands, input_labels):
        if type(operand) is BatchedTensor:
            physical.append(physical_at(operand, levels, expand=True))
            labels.append(batch_labels + list(operand_labels))
        else:
            physical.append(operand)
            labels.append(list(operand_labels))
    output = batch_labels + list(output_labels)
    result = linalg._contract(physical, labels, output, linalg._einsum_node(labels, output))
    return wrap(result, levels)


FUNCTION_RULES["einsum"] = _einsum_rule


def _embedding_rule(function, args, kwargs, levels):
    """embedding: batched indices look up the same table; batched tables (vmap of grad, model
    ensembles) are stacked into one, each example's indices offset to its own rows."""
    import inspect

    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    indices, weight = arguments.pop("input"), arguments.pop("weight")
    if type(weight) is not BatchedTensor:
        return wrap(function(physical_at(indices, levels, expand=True), weight, **arguments), levels)
    if arguments["padding_idx"] is not None or arguments["max_norm"] is not None:
        return _function_fallback(function, args, kwargs, levels)
    count = len(levels)
    table = physical_at(weight, levels, expand=True)
    batch = tuple(table._data.shape[:count])
    rows = table._data.shape[count]
    physical_indices = physical_at(indices, levels, expand=True)
    from .._creation import arange

    offsets = _view(arange(math.prod(batch)) * rows,
                    batch + (1,) * (physical_indices._data.ndim - count))
    flat_table = _view(table, (-1, *table._data.shape[count + 1:]))
    return wrap(function(physical_indices + offsets, flat_table, **arguments), levels)


FUNCTION_RULES["embedding"] = _embedding_rule
