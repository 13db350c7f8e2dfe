"""Every differentiable operator, grouped by family; importing this fills the op table."""

from .. import _creation, _legacy
from ..random import functions as _random_functions
from ._table import OpInfo, table
from ._table import register_methods as _register_methods

# The Tensor methods of modules below the op layer, which cannot import the table (it imports
# them): see Note [Where Tensor methods come from] (_table.py).
for _module in (_creation, _legacy, _random_functions):
    _register_methods(_module.TENSOR_METHODS, _module.__name__)

from . import compare, fill, index, linalg, nn, pointwise, reduce, shape  # noqa: E402

# The op modules whose public names become functions of the retrograd package.
MODULES = (compare, fill, index, linalg, nn, pointwise, reduce, shape)

__all__ = ["MODULES", "OpInfo", "table"]
