"""Batching rules for the node classes: elementwise ops, the rule families registered on first
use (dims, reductions, shapes, indexing, ...) and the losses."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from .tensor import (
    _RULES,
    BatchedTensor,
    _fallback,
    _lazy_ops,
    _logical_rank,
    _result,
    _view,
    levels_of,
    physical_at,
    wrap,
)

# ---------------------------------------------------------------------------
# Rules: elementwise


def _elementwise(node_class, inputs, params, levels):
    from .._table import apply

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
    from .._table import apply

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
    from .functions import _register_linalg  # defined later in the package
    global _families_registered
    if _families_registered:
        return
    _families_registered = True
    from .. import _formula, fill, index, linalg, pointwise, reduce, shape
    from ..nn import _backward_ops, activation, loss

    elementwise = []
    for module in (*pointwise.MODULES, activation, _backward_ops):
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, _formula.Formula)
                    and value.__module__ == module.__name__):
                elementwise.append(value)
    dim_ops = {activation.SoftmaxBackward0, activation.LogSoftmaxBackward0, activation.GluBackward0}
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
                       activation.GluBackward0, reduce.SumBackward1, reduce.MeanBackward1,
                       reduce.AmaxBackward0,
                       reduce.AminBackward0, reduce.LogsumexpBackward0, reduce.VarBackward0,
                       reduce.StdBackward0, reduce.VarMeanBackward0, reduce.StdMeanBackward0,
                       reduce.ProdBackward1, reduce.CumsumBackward0, reduce.CumprodBackward0,
                       reduce.ReversedCumsumBackward0, reduce.MaxBackward0, reduce.MinBackward0,
                       reduce.MedianBackward1, reduce.NanmedianBackward1, reduce.ModeBackward0,
                       reduce.KthvalueBackward0,
                       reduce.SortBackward0, reduce.TopkBackward0, reduce.CummaxBackward0,
                       reduce.CumminBackward0, shape.FlipBackward0, shape.SqueezeBackward1,
                       shape.SqueezeBackward2, shape.SplitBackward0, shape.SplitWithSizesBackward0,
                       shape.UnbindBackward0):
        _RULES[node_class] = _dim_rule
    from ..composite.numeric import NansumBackward0

    _RULES[NansumBackward0] = _dim_rule
    _RULES[reduce.SumBackward0] = _all_dims(reduce.SumBackward1)
    _RULES[reduce.MeanBackward0] = _all_dims(reduce.MeanBackward1)
    _RULES[reduce.ProdBackward0] = _prod_all
    _RULES[reduce.MaxBackward1] = _extreme_all("amax")
    _RULES[reduce.MinBackward1] = _extreme_all("amin")
    _RULES[reduce.LinalgVectorNormBackward0] = _vector_norm
    _RULES[shape.ViewBackward0] = _RULES[shape.UnsafeViewBackward0] = _shape_rule
    _RULES[shape.ExpandBackward0] = _expand_rule
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
                       loss.BinaryCrossEntropyWithLogitsBackward0, loss.SoftMarginLossBackward0):
        _RULES[node_class] = _pointwise_loss
    _register_linalg()
    from ..nn import normalization

    _RULES[normalization.NativeLayerNormBackward0] = _layer_norm_rule
    from ..nn import conv

    _RULES[conv.ConvolutionBackward0] = _convolution_rule
    from ..nn import _maps, padding, pooling

    # windows and resampling over the last dims: any leading dims are batch dims already
    for node_class in (pooling.MaxPool2DWithIndicesBackward0, pooling.AvgPool2DBackward0,
                       pooling.AdaptiveMaxPool2DBackward0, _maps._SeparableMapBackward):
        _RULES[node_class] = _leading_dims_rule
    _RULES[padding.ConstantPadNdBackward0] = _pad_rule
    # linear algebra on (*, n, n) stacks, as NumPy's and PyTorch's: batch dims lead
    for name in ("LinalgInvExBackward0", "LinalgDetBackward0", "LinalgSlogdetBackward0",
                 "LinalgCholeskyExBackward0", "LinalgEighBackward0", "LinalgSvdBackward0",
                 "LinalgQrBackward0", "LinalgPinvBackward0", "LinalgSolveExBackward0",
                 "LinalgSolveTriangularBackward0", "CholeskyInverseBackward0",
                 "LinalgMatrixExpBackward0"):
        _RULES[getattr(linalg, name)] = _leading_dims_rule
    _RULES[linalg.LinalgSolveExBackward0] = _RULES[linalg.LinalgSolveTriangularBackward0] = \
        _linalg_pair_rule
    _RULES[index.CopySlices] = _RULES[index.IndexPutBackward0] = _copy_slices_rule
    from ..composite import more as scatters  # (Note [Scatter into a copy])
    from ..composite.numeric import (
        AddBackward1,
        AminmaxBackward0,
        CdistBackward0,
        DistBackward0,
        DivBackward1,
        EuclideanDistBackward0,
        MulBackward1,
        NormBackward1,
        SubBackward1,
    )

    _RULES[scatters.SelectScatterBackward0] = _RULES[scatters.SliceScatterBackward0] = _dim_rule
    _RULES[scatters.RenormBackward0] = _renorm_rule
    _RULES[scatters.DiagonalScatterBackward0] = _diagonal_rule
    _RULES[DistBackward0] = _dist_rule
    _RULES[CdistBackward0] = _RULES[EuclideanDistBackward0] = _linalg_pair_rule
    _RULES[AminmaxBackward0] = _aminmax_rule
    for node_class in (MulBackward1, AddBackward1, DivBackward1, SubBackward1):
        _RULES[node_class] = _elementwise
    _RULES[NormBackward1] = _dim_rule
    from ..nn.attention import SafeSoftmaxBackward0

    _RULES[SafeSoftmaxBackward0] = _dim_rule
    from ..composite.tensors import BlockDiagBackward0

    _RULES[BlockDiagBackward0] = _block_diag_rule
    _RULES[scatters.CholeskySolveBackward0] = _RULES[scatters.TriangularSolveBackward0] = _linalg_pair_rule
    from ..nn import pixelshuffle

    _RULES[pixelshuffle.PixelShuffleBackward0] = _RULES[pixelshuffle.PixelUnshuffleBackward0] = \
        _leading_dims_rule
    _RULES[pixelshuffle.ChannelShuffleBackward0] = _channel_shuffle_rule
    from .more_rules import register_node_rules

    register_node_rules(_RULES)


def _dim_rule(node_class, inputs, params, levels):
    count = len(levels)
    if _logical_rank(inputs[0]) == 0:
        # a 0-d example: the op runs on a size-1 dim of its own, removed again after
        physical = physical_at(inputs[0], levels, expand=True)
        batch = tuple(physical._data.shape)
        changes = {key: (count,) if isinstance(params[key], tuple | list) else count
                   for key in ("dim", "dims") if key in params}
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
        from .._table import apply

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


def _aminmax_rule(node_class, inputs, params, levels):
    """aminmax per example: over its one dim, shifted past the batch dims, or over all its
    dims (a 0-d example's none) flattened into one (kept as size-1 dims with keepdim)."""
    physical = _unary_physical(inputs[0], levels)
    count = len(levels)
    if params["dim"] is not None and physical._data.ndim > count:
        dim = params["dim"] % (physical._data.ndim - count) + count
        return _result(_apply(node_class, physical, dim=dim, keepdim=params["keepdim"]), levels)
    batch = physical._data.shape[:count]
    flat = _view(physical, (*batch, -1))
    kept = (*batch, *(1,) * (physical._data.ndim - count)) if params["keepdim"] else batch
    return _result(tuple(_view(value, kept) for value in _apply(node_class, flat, dim=count, keepdim=False)),
                   levels)


def _renorm_rule(node_class, inputs, params, levels):
    """renorm per example: each example's slices along its dim scaled by their own norms (the
    node's own norms would span the batch dims)."""
    physical = _unary_physical(inputs[0], levels)
    count = len(levels)
    dim, maxnorm = params["dim"] + count, params["maxnorm"]
    others = tuple(other for other in range(count, physical._data.ndim) if other != dim)
    norms = physical.norm(params["p"], dim=others, keepdim=True) if others else physical.abs()
    return _result(physical * (maxnorm / (norms + 1e-7)).where(norms > maxnorm, 1.0), levels)


def _channel_shuffle_rule(node_class, inputs, params, levels):
    """channel_shuffle per example: the batch dims merged into the example's own first dim,
    so the channels stay the second."""
    physical = _unary_physical(inputs[0], levels)
    shape = physical._data.shape
    merged = _view(physical, (-1, *shape[len(levels) + 1:]))
    return _result(_view(_apply(node_class, merged, **params), shape), levels)


def _block_diag_rule(node_class, inputs, params, levels):
    """block_diag per example: the blocks sit at the same offsets in every example, so each
    (as rows) is padded with zeros to the full width and the rows are joined down, on the
    physical tensors."""
    import numpy as np

    from .. import shape as shape_ops

    count, dtype = len(levels), params["dtype"]
    blocks = []
    for value in inputs:
        physical = physical_at(value, levels, expand=True)
        batch = physical._data.shape[:count]
        if physical._data.ndim - count < 2:
            physical = _view(physical, (*batch, 1, -1))
        blocks.append(physical.to(dtype))
    width = sum(block._data.shape[-1] for block in blocks)
    rows, left = [], 0
    for block in blocks:
        height, size = block._data.shape[-2:]
        padding = [Tensor._make(np.zeros((*batch, height, columns), dtype.numpy))
                   for columns in (left, width - left - size)]
        rows.append(shape_ops.cat([padding[0], block, padding[1]], -1))
        left += size
    return _result(shape_ops.cat(rows, -2), levels)


def _dist_rule(node_class, inputs, params, levels):
    """dist per example: the norm of the (broadcast) difference over each example's dims."""
    from ..reduce.statistics import LinalgVectorNormBackward0

    rank = max(_logical_rank(value) for value in inputs)
    left, right = (physical_at(value, levels, rank) for value in inputs)
    difference = left - right
    dims = tuple(range(len(levels), difference._data.ndim))
    return _result(_apply(LinalgVectorNormBackward0, difference, ord=params["p"], dim=dims), levels)


def _batch_sizes(value, levels) -> tuple:
    return tuple(value._physical._data.shape[:len(levels)])


def _shape_rule(node_class, inputs, params, levels):
    from .. import shape as shape_ops

    physical = _unary_physical(inputs[0], levels)
    shape = _batch_sizes(inputs[0], levels) + tuple(params["shape"])
    if issubclass(node_class, shape_ops.ViewBackward0) and not shape_ops._can_view(physical._data, shape):
        node_class = shape_ops.UnsafeViewBackward0
    return _result(_apply(node_class, physical, **dict(params, shape=shape)), levels)


def _apply(node_class, *inputs, **params):
    from .._table import apply

    return apply(node_class, *inputs, **params)


def _expand_rule(node_class, inputs, params, levels):
    physical = _unary_physical(inputs[0], levels)
    target = tuple(params["shape"])
    logical = physical._data.shape[len(levels):]
    if len(target) > len(logical):
        physical = physical_at(inputs[0], levels, len(target))
    return _result(_apply(node_class, physical,
                          shape=_batch_sizes(inputs[0], levels) + target), levels)


def _transpose_rule(node_class, inputs, params, levels):
    count = len(levels)
    if _logical_rank(inputs[0]) == 0:
        return inputs[0]
    return _shifted(node_class, inputs, params, levels, dim0=params["dim0"] + count,
                    dim1=params["dim1"] + count)


def _t_rule(node_class, inputs, params, levels):
    from .. import shape

    count = len(levels)
    if _logical_rank(inputs[0]) < 2:
        return wrap(_apply(shape.AliasBackward0, inputs[0]._physical, key=(Ellipsis,)), levels)
    return _shifted(shape.TransposeBackward0, inputs, {}, levels, dim0=count, dim1=count + 1)


def _permute_rule(node_class, inputs, params, levels):
    count = len(levels)
    dims = tuple(range(count)) + tuple(d + count for d in params["dims"])
    return _shifted(node_class, inputs, params, levels, dims=dims)


def _squeeze_all_rule(node_class, inputs, params, levels):
    from .. import shape

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
    """Convolution, transposed or not: batched inputs join the convolution's own batch;
    batched weights (vmap of grad, ensembles) become groups, one per example, as functorch
    does (the weight's first dim, out channels or, transposed, in channels, is the grouped one)."""
    x, weight, bias = inputs
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
    """`x[key] = values` (and index_put): the same write on the physical tensors, the key given
    a full slice per batch dim. An advanced key whose index arrays are apart (NumPy would put
    the indexed dims first) goes example by example."""
    import dataclasses

    import numpy as np

    key = params["key"]
    count = len(levels)
    advanced = None
    if key.advanced is not None:
        arrays = [position for position, item in enumerate(key.advanced)
                  if isinstance(item, np.ndarray)]
        if arrays != list(range(arrays[0], arrays[-1] + 1)):
            return _fallback(node_class, inputs, params, levels)
        advanced = (slice(None),) * count + tuple(key.advanced)
    target, values = inputs
    physical = physical_at(target, levels, expand=True)
    region = physical._data[(slice(None),) * count + tuple(key.basic)]
    if advanced is not None:
        region = region[advanced]
    rank = region.ndim - count
    if isinstance(values, Tensor):
        values = physical_at(values, levels, rank) if type(values) is BatchedTensor else values
    new_key = dataclasses.replace(key, basic=(slice(None),) * count + tuple(key.basic),
                                  advanced=advanced)
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
