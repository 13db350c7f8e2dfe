"""Operators made of other operators: no node of their own, so their gradients come from the
ops they are written with (the graph shows those ops, e.g. `MulBackward0` for `inner`).

Also the non-differentiable helpers PyTorch programs use for counting, searching and
indexing (`bincount`, `searchsorted`, `bucketize`, `isin`, `tril_indices`, ...), computed
directly on arrays.

Where a formula has a removable singularity, the inputs are first made safe with `where` so
that no NaN reaches the gradient of the unselected branch (DESIGN.md: select, never multiply
by a mask).

The package's modules, in the order their ops enter the op table: numeric, tensors, more.
"""

# isort: off
from . import numeric
from . import tensors
from . import more
from . import gradient as _gradient_module
# isort: on
from .gradient import gradient
from .more import (
    _name,
    cholesky_solve,
    diagflat,
    diagonal_scatter,
    eig,
    frexp,
    gcd,
    hardshrink,
    isreal,
    lcm,
    ldexp,
    lstsq,
    matrix_rank,
    nextafter,
    prelu,
    renorm,
    select_scatter,
    slice_scatter,
    solve,
    split_with_sizes,
    symeig,
    triangular_solve,
)
from .numeric import (
    _AminmaxResult,
    _as_tensor,
    _check_square,
    _float_dtype_of,
    _floating,
    _refuse_integers,
    _retrograd,
    _same_dtype,
    _trapezoid_parts,
    aminmax,
    cdist,
    corrcoef,
    cov,
    cumulative_trapezoid,
    diff,
    dist,
    heaviside,
    msort,
    nanmean,
    nansum,
    register,
    signbit,
    trapezoid,
    trapz,
)
from .tensors import (
    argwhere,
    bincount,
    block_diag,
    broadcast_shapes,
    bucketize,
    can_cast,
    cartesian_prod,
    column_stack,
    combinations,
    dsplit,
    finfo,
    histc,
    hsplit,
    iinfo,
    is_nonzero,
    is_same_size,
    is_signed,
    isin,
    logspace,
    ravel,
    scalar_tensor,
    searchsorted,
    tril_indices,
    triu_indices,
    vander,
    vsplit,
)

# The modules of this package, in import order.
MODULES = (numeric, tensors, more)

__all__ = [
    "aminmax",
    "argwhere",
    "bincount",
    "block_diag",
    "broadcast_shapes",
    "bucketize",
    "can_cast",
    "cartesian_prod",
    "cdist",
    "column_stack",
    "combinations",
    "corrcoef",
    "cov",
    "cumulative_trapezoid",
    "diff",
    "dist",
    "dsplit",
    "eig",
    "finfo",
    "gradient",
    "heaviside",
    "histc",
    "hsplit",
    "iinfo",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "isin",
    "logspace",
    "lstsq",
    "matrix_rank",
    "msort",
    "nanmean",
    "nansum",
    "ravel",
    "scalar_tensor",
    "searchsorted",
    "signbit",
    "solve",
    "symeig",
    "trapezoid",
    "trapz",
    "tril_indices",
    "triu_indices",
    "vander",
    "vsplit",
]
