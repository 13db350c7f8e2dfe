"""Indexing operators: `x[key]`, `x[key] = value`, gather/scatter, index_*, masked_*, take.

Note [Two-step indexing]
    PyTorch reads a key left to right: ints, slices and None make a view first (ints
    remove their dim), and the tensors and lists in the key then index that view together
    (advanced indexing, a copy). A key is parsed once into those two NumPy keys: `basic`
    (ints, slices, None; ends with Ellipsis so NumPy always gives a view, see Note [Basic
    index keys] in ops/shape/) and `advanced` (slices and integer arrays, or None when the key
    has no tensors). Doing it in two steps gives PyTorch's result shapes where NumPy's own
    rule would differ (`x[:, 0, :, [1, 2]]`).

Gradients of advanced indexing accumulate over repeated indices with `np.add.at`.

The package's modules, in the order their ops enter the op table: subscript, along_dim, masks,
scatter_reduction.
"""

# isort: off
from . import subscript
from . import along_dim
from . import masks
from . import scatter_reduction
# isort: on
from .along_dim import (
    GatherBackward0,
    IndexAddBackward0,
    IndexCopyBackward0,
    IndexFillBackward0,
    IndexFillBackward1,
    IndexSelectBackward0,
    ScatterAddBackward0,
    ScatterBackward0,
    ScatterBackward1,
    _check_in_range,
    _check_index_shape,
    _check_slices,
    _element_key,
    _filled_slices_sum,
    _gather,
    _index_add_source_grad,
    _index_data,
    _index_select,
    _leading_part,
    _scatter_arguments,
    _slices_key,
    _source_grad,
    _vector_index,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    scatter,
    scatter_add,
    take_along_dim,
)
from .masks import (
    MaskedScatterBackward0,
    MaskedSelectBackward0,
    PutBackward0,
    TakeBackward0,
    _broadcast_with_mask,
    _mask_data,
    _masked_scatter_source_grad,
    _take_backward,
    masked_scatter,
    masked_select,
    nonzero,
    one_hot,
    put,
    take,
)
from .scatter_reduction import IndexReduceBackward0, ScatterReduceBackward0, index_reduce, scatter_reduce
from .subscript import (
    _INVALID_INDEX,
    CopySlices,
    IndexBackward0,
    IndexBackwardBackward0,
    IndexPutBackward0,
    Tensor,
    ZeroAtKeyBackward,
    _apply_key,
    _as_index_array,
    _check_basic_value,
    _check_indices,
    _check_mask,
    _check_slice,
    _dims_used,
    _index_put_key,
    _is_integer,
    _is_masked_fill,
    _Key,
    _normalised_items,
    _overwritten_grad,
    _parse_key,
    _put,
    _read_at_key,
    _setitem,
    _values_grad,
    _wrap_int,
    accumulate_at,
    getitem,
    index_put,
)

# The modules of this package, in import order.
MODULES = (subscript, along_dim, masks, scatter_reduction)

__all__ = [
    "gather",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "index_reduce",
    "index_select",
    "masked_scatter",
    "masked_select",
    "nonzero",
    "one_hot",
    "put",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "take",
    "take_along_dim",
]
