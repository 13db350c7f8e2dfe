"""Every differentiable operator, grouped by family; importing this fills the op table."""

from . import compare, fill, index, linalg, nn, pointwise, reduce, shape
from ._table import OpInfo, table

# The op modules whose public names become functions of the retrograd package.
MODULES = (compare, fill, index, linalg, nn, pointwise, reduce, shape)

__all__ = ["MODULES", "OpInfo", "table"]
