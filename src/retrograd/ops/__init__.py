"""Every differentiable operator, grouped by family; importing this fills the op table."""

from . import fill, pointwise, reduce, shape
from ._table import OpInfo, table

__all__ = ["OpInfo", "fill", "pointwise", "reduce", "shape", "table"]
