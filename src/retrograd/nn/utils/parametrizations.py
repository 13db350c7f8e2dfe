"""Ready-made parametrizations: `orthogonal`, `weight_norm` and `spectral_norm`.

Each registers a small module with `parametrize.register_parametrization`, so the tensor is
recomputed on every read and the module prints and saves as PyTorch's does
(`parametrizations.weight.original`, `original0`/`original1` for weight_norm,
`parametrizations.weight.0._u`/`_v` for spectral_norm's power-iteration vectors).
"""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from ..._creation import eye, randn, zeros_like
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...ops.linalg import matrix_exp, solve
from ...ops.shape import cat
from .. import functional as F
from ..modules.module import Module
from . import parametrize
from ._matrix_maps import geqrf, householder_product, sign_fixed_q
from .spectral_norm import _transposed_convolution_types
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _is_orthogonal(matrices: Tensor) -> bool:
    """Q^T Q equals the identity to a tolerance that grows with the size (PyTorch's test)."""
    rows, columns = matrices.shape[-2], matrices.shape[-1]
    identity = eye(columns, dtype=matrices.dtype)
    tolerance = 10.0 * rows * np.finfo(_array(matrices).dtype).eps
    return bool((matrices.mT @ matrices).allclose(identity, atol=tolerance))


def _array(tensor: Tensor) -> np.ndarray:
    return tensor.detach().numpy()


def _orthogonalized(matrices: Tensor) -> Tensor:
    """The orthogonal factor of `matrices`' QR factorisation, columns signed as R's diagonal."""
    return Tensor._make(sign_fixed_q(_array(matrices)).astype(_array(matrices).dtype))


class _Orthogonal(Module):
    """Maps a matrix to an orthogonal one (columns orthonormal when it is tall, rows when wide).

    With the trivialization (the default) the stored tensor is a point near the identity's
    preimage, and `base` holds the orthogonal matrix it is multiplied into; assigning a new
    weight only changes `base`.
    """

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        rows, columns = X.shape[-2], X.shape[-1]
        transposed = rows < columns
        if transposed:
            X = X.mT
            rows, columns = columns, rows
        if self.orthogonal_map is _OrthMaps.householder:
            Q = self._householder(X)
        else:
            Q = self._from_skew(X, rows, columns)
        if self._uses_base():
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def _uses_base(self) -> bool:
        return "base" in self._buffers

    def _from_skew(self, X: Tensor, rows: int, columns: int) -> Tensor:
        """exp or Cayley transform of the skew-symmetric matrix the lower triangle of X defines."""
        X = X.tril()
        if rows != columns:
            padding = X.new_zeros(rows, rows - columns).expand(*X.shape[:-2], -1, -1)
            X = _cat_columns(X, padding)
        skew = X - X.mT
        if self.orthogonal_map is _OrthMaps.matrix_exp:
            Q = matrix_exp(skew)
        else:
            identity = eye(rows, dtype=skew.dtype)
            Q = solve(identity - 0.5 * skew, identity + 0.5 * skew)
        return Q[..., :columns] if rows != columns else Q

    @staticmethod
    def _householder(X: Tensor) -> Tensor:
        reflectors = X.tril(diagonal=-1)
        tau = 2.0 / (1.0 + (reflectors * reflectors).sum(dim=-2))
        Q = householder_product(reflectors, tau)
        # The integer part of X's diagonal picks each column's sign (-1 after right_inverse).
        return Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)

    def right_inverse(self, Q: Tensor) -> Tensor:
        """A stored tensor whose image is `Q` (made orthogonal first if it is not)."""
        with grad_mode.no_grad():
            if Q.shape != self.shape:
                raise ValueError(
                    f"Expected a matrix or batch of matrices of shape {self.shape}. "
                    f"Got a tensor of shape {Q.shape}."
                )
            original = Q
            rows, columns = Q.shape[-2], Q.shape[-1]
            transposed = rows < columns
            if transposed:
                Q = Q.mT
                rows, columns = columns, rows
            if not self._uses_base():
                return self._compact_qr(Q, transposed)
            if rows == columns:
                Q = Q.clone() if _is_orthogonal(Q) else _orthogonalized(Q)
            else:
                extra = randn(*Q.shape[:-2], rows, rows - columns, dtype=Q.dtype)
                Q = _orthogonalized(_cat_columns(Q, extra))
            self.base = Q
            minus_identity = zeros_like(original)
            minus_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return minus_identity

    def _compact_qr(self, Q: Tensor, transposed: bool) -> Tensor:
        if self.orthogonal_map is not _OrthMaps.householder:
            raise NotImplementedError(
                "It is not possible to assign to the matrix exponential or the Cayley "
                "parametrizations when use_trivialization=False."
            )
        packed, tau = geqrf(_array(Q))
        packed = packed.astype(_array(Q).dtype)
        diagonal = np.diagonal(packed, axis1=-2, axis2=-1)
        signs = np.sign(diagonal) * np.where(tau == 0.0, -1.0, 1.0)
        index = np.arange(diagonal.shape[-1])
        packed[..., index, index] = signs
        result = Tensor._make(packed)
        return result.mT if transposed else result


def _cat_columns(left: Tensor, right: Tensor) -> Tensor:
    return cat([left, right], dim=-1)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep `module.<name>` orthogonal (or with orthonormal rows/columns) while training.

    `orthogonal_map` is "matrix_exp" or "cayley" (square matrices; the default for them) or
    "householder" (the default for rectangular ones). The weight starts as the orthogonal
    matrix nearest the module's current one.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    chosen = _OrthMaps.__members__.get(orthogonal_map)
    if chosen is None:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    parametrization = _Orthogonal(weight, chosen, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, parametrization, unsafe=True)
    return module


class _WeightNorm(Module):
    """w = g * v / ||v||, the norm taken over every dimension but `dim` (all of them for None)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split `module.<name>` into a magnitude (`original0`) and a direction (`original1`).

    A state dict saved with the old hook-based `nn.utils.weight_norm` (`weight_g`,
    `weight_v`) still loads: its keys are renamed on the way in.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def rename_old_keys(module, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs) -> None:
        magnitude, direction = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if magnitude in state_dict and direction in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(magnitude)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(direction)

    module.register_load_state_dict_pre_hook(rename_old_keys)
    return module


class _SpectralNorm(Module):
    """Divides the weight by its largest singular value, estimated by power iteration.

    The vectors `_u` and `_v` are buffers: each forward in training mode refines them by
    `n_power_iterations` steps (15 at creation); in eval mode they are used as they are. A
    1-d weight is simply normalised.
    """

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._as_matrix(weight)
            height, width = matrix.shape
            left = matrix.new_empty(height).normal_(0, 1)
            right = matrix.new_empty(width).normal_(0, 1)
            self.register_buffer("_u", F.normalize(left, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(right, dim=0, eps=self.eps))
            self._power_method(matrix, 15)

    def _as_matrix(self, weight: Tensor) -> Tensor:
        """`dim` first, every other dimension flattened into the columns."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, matrix: Tensor, iterations: int) -> None:
        """Refine `_u` and `_v` in place (their identity is kept, as buffers must)."""
        with grad_mode.no_grad():
            for _ in range(iterations):
                F.normalize(matrix @ self._v, dim=0, eps=self.eps, out=self._u)
                F.normalize(matrix.mT @ self._u, dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._as_matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        left, right = self._u.clone(), self._v.clone()
        sigma = left.vdot(matrix.mv(right))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide `module.<name>` by its spectral norm on every read (a Lipschitz constraint).

    `dim` is the output dimension: 1 for transposed convolutions, 0 otherwise.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, _transposed_convolution_types()) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module
