"""`retrograd.return_types`: the named tuples ops return (`max(x, dim)` gives a
`retrograd.return_types.max` with `values` and `indices`), as PyTorch's torch.return_types."""

from .ops.reduce import return_types as _reduce_types

cummax = _reduce_types.cummax
cummin = _reduce_types.cummin
kthvalue = _reduce_types.kthvalue
max = _reduce_types.max
median = _reduce_types.median
min = _reduce_types.min
mode = _reduce_types.mode
sort = _reduce_types.sort
topk = _reduce_types.topk

__all__ = ["cummax", "cummin", "kthvalue", "max", "median", "min", "mode", "sort", "topk"]
