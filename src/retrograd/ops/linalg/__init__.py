"""Linear algebra: matrix products, einsum, decompositions, solvers and norms.

Forwards call NumPy's BLAS/LAPACK (`np.matmul`, `np.linalg.*`), batched over leading dims.
Backwards are written with differentiable tensor operations, mostly `matmul` of the
incoming gradient, so second derivatives come for free. Node classes are named as PyTorch
names the grad_fn; where PyTorch composes a call of several ops (einsum, tensordot, a
batched matmul: Note [Contractions as PyTorch composes them]) we run the same ops.

Note [Symmetric inputs]
    cholesky, eigh and eigvalsh read one triangle of their input, as LAPACK does, but
    PyTorch returns the symmetric gradient (the derivative along symmetric perturbations).
    We do the same; their op-table samples therefore differentiate through a symmetrizing
    wrapper, exactly as PyTorch's own gradient tests do.

Note [Gauge freedom]
    Eigenvectors and singular vectors are defined up to the sign of each vector, so values
    computed by two LAPACK builds may differ by those signs. The op-table samples compare
    sign-free functions of them (each vector squared elementwise).

The package's modules, in the order their ops enter the op table: contraction, products,
solvers, decompositions, norms.
"""

# isort: off
from . import contraction
from . import products
from . import solvers
from . import decompositions
from . import norms
from . import lu as _lu_module
# isort: on
from .contraction import (
    LinAlgError,
    _batch_prefix,
    _check_floating,
    _check_same_scalar_type,
    _check_square_batches,
    _check_term_rank,
    _checked_output,
    _constant,
    _contracted,
    _EighResult,
    _identity,
    _implicit_output,
    _letter,
    _parse_equation,
    _parse_sublists,
    _parse_term,
    _promoted,
    _QrResult,
    _require_tensor,
    _shape_text,
    _SlogdetResult,
    _SvdResult,
    _tensordot_dims,
    _TorchQrResult,
    _TorchSlogdetResult,
    _TorchSvdResult,
    _type_name,
    _without_float_warnings,
    einsum,
    tensordot,
)
from .decompositions import (
    _QR_MODES,
    CholeskyBackward0,
    LinalgCholeskyExBackward0,
    LinalgEighBackward0,
    LinalgPinvBackward0,
    LinalgQrBackward0,
    LinalgSvdBackward0,
    _check_matrix_input,
    _check_uplo,
    _cholesky_tangent,
    _qr_square_or_tall_grad,
    _raise_not_positive_definite,
    _refuse_nan_pivot,
    _scalar_tolerance,
    _sign_free,
    _symmetrized,
    cholesky,
    eigh,
    eigvalsh,
    linalg_cholesky,
    linalg_qr,
    linalg_svd,
    pinv,
    pinverse,
    qr,
    svd,
    svdvals,
)
from .lu import (
    LinalgLuBackward0,
    LinalgLuFactorExBackward0,
    LinalgLuSolveBackward0,
    LuUnpackBackward0,
    linalg_lu,
    linalg_lu_factor,
    linalg_lu_factor_ex,
    linalg_lu_solve,
    lu,
    lu_solve,
    lu_unpack,
)
from .norms import (
    _MATRIX_ORDERS,
    Tensor,
    _with_kept_dims,
    linalg_norm,
    matrix_norm,
    matrix_power,
    multi_dot,
    vector_norm,
)
from .products import (
    AddbmmBackward0,
    AddmmBackward0,
    AddmvBackward0,
    AddrBackward0,
    BaddbmmBackward0,
    BmmBackward0,
    DotBackward0,
    LinalgCrossBackward0,
    MmBackward0,
    MvBackward0,
    TraceBackward0,
    VdotBackward0,
    _broadcast_batch,
    _check_batches,
    _check_bmm,
    _check_dot,
    _check_expandable,
    _check_matrix_vector,
    _check_mm,
    _check_mv,
    _check_product_dtypes,
    _dtype_pair_name,
    _matmul_node,
    _matmul_operator,
    _matrix_product,
    _MatrixProduct,
    _rmatmul_operator,
    _scaled,
    _scaled_product_plus,
    _summed_matmul,
    _trace,
    addbmm,
    addmm,
    addmv,
    addr,
    baddbmm,
    bmm,
    chain_matmul,
    cross,
    dot,
    ger,
    grad_of_first_factor,
    grad_of_second_factor,
    inner,
    kron,
    linalg_cross,
    matmul,
    mm,
    mv,
    outer,
    trace,
    vdot,
)
from .solvers import (
    CholeskyInverseBackward0,
    LinalgDetBackward0,
    LinalgInvExBackward0,
    LinalgMatrixExpBackward0,
    LinalgSlogdetBackward0,
    LinalgSolveExBackward0,
    LinalgSolveTriangularBackward0,
    _raise_singular,
    _singular_replaced,
    _slogdet_tangent,
    _solve_tangent,
    _triangle,
    cholesky_inverse,
    cond,
    det,
    inv,
    inverse,
    linalg_diagonal,
    linalg_slogdet,
    logdet,
    matrix_exp,
    matrix_rank,
    slogdet,
    solve,
    solve_triangular,
    vecdot,
)

# The modules of this package, in import order.
MODULES = (contraction, products, solvers, decompositions, norms)

__all__ = [
    "addbmm",
    "addmm",
    "addmv",
    "addr",
    "baddbmm",
    "bmm",
    "chain_matmul",
    "cholesky",
    "cholesky_inverse",
    "cross",
    "det",
    "dot",
    "einsum",
    "ger",
    "inner",
    "inverse",
    "kron",
    "logdet",
    "lu",
    "lu_solve",
    "lu_unpack",
    "matmul",
    "matrix_exp",
    "matrix_power",
    "mm",
    "mv",
    "outer",
    "pinverse",
    "qr",
    "slogdet",
    "svd",
    "tensordot",
    "trace",
    "vdot",
]
