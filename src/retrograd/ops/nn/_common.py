"""Helpers shared by the nn operator modules: dtype names, argument tuples, input arrays.

Note [Array kernels of the heavy nn ops]
    Convolution, pooling, linear and normalisation keep hand-written node classes (their
    backward is several linear maps, not one formula per input), with `_runs_on_arrays`:
    when backward builds no graph the engine hands them NumPy arrays and they answer with
    a few NumPy calls (the adjoint products, a bincount, a col2im); with create_graph they
    get Tensors and run the same maps as recorded ops, so higher derivatives still work.
    Both paths must agree; tests/test_nn_declared.py checks them against each other.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._tensor import Tensor

# The C type names PyTorch's kernels print in some dtype errors.
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half"}


def _torch_name(name: str) -> str:
    return f"nn.functional.{name}"


# ---------------------------------------------------------------------------
# Helpers shared by the backward formulas


def _c_type_name(dtype) -> str:
    return _C_TYPE_NAMES.get(dtype.name, dtype.name)


def _tuple(value, count: int, name: str) -> tuple:
    if isinstance(value, numbers.Integral):
        return (int(value),) * count
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * count
    if len(value) != count:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {count} values")
    return value


def _tensor_data(x, op_name: str) -> np.ndarray:
    """The input's array, integer or floating (ops that keep integers: relu, hardtanh,
    threshold); a bool input is refused, as PyTorch's kernels refuse it."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if x._data.dtype == np.bool_:
        if op_name == "threshold":
            raise NotImplementedError(f'"{op_name}" not implemented for \'Bool\'')
        raise RuntimeError(f"Boolean inputs not supported for {op_name}")
    return x._data
