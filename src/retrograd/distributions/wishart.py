"""The Wishart distribution over positive-definite matrices.

Note [Wishart's resampling]
~~~~~~~~~~~~~~~~~~~~~~~~~~~
PyTorch's `Wishart.rsample` checks its Bartlett draws with `support.check` and treats the
draws that pass (the positive-definite ones) as the ones to replace: it warns "Singular
sample detected." and draws them again, up to `max_try_correction` times, until the new draws
fail the check. So nearly every call draws twice and warns. retrograd does the same, so that
a seeded program gets PyTorch's matrices and leaves the generator where PyTorch leaves it.
"""

from __future__ import annotations

import math
import numbers
import warnings

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from ._special import digamma
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .lkj_cholesky import _mvlgamma
from .multivariate_normal import _precision_to_scale_tril
from .utils import lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """The multivariate digamma: sum_j digamma(x - j/2), j = 0..p-1."""
    if not bool(x.gt((p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return digamma(x.unsqueeze(-1) - retrograd.arange(p, dtype=x.dtype) / 2).sum(-1)


def _clamp_above_eps(x: Tensor) -> Tensor:
    return x.clamp(min=retrograd.finfo(x.dtype).eps)


class Wishart(ExponentialFamily):
    """Positive-definite p x p matrices: the scatter matrix of `df` normal vectors with the
    given covariance. Parameterised by one of covariance_matrix, precision_matrix or
    scale_tril; drawn by Bartlett's decomposition (chi-squared diagonal, normal below it)."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args: bool | None = None) -> None:
        given = [matrix for matrix in (covariance_matrix, precision_matrix, scale_tril) if matrix is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                                 "may be specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = Size(param.shape[:-2])
            self.df = retrograd.tensor(df, dtype=param.dtype)
        else:
            batch_shape = retrograd.broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df.expand(batch_shape)
        event_shape = param.shape[-2:]
        if bool(self.df.le(event_shape[-1] - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than "
                             f"ndim - 1 = {event_shape[-1] - 1}.")
        name = "scale_tril" if scale_tril is not None else (
            "covariance_matrix" if covariance_matrix is not None else "precision_matrix")
        setattr(self, name, param.expand((*batch_shape, -1, -1)))
        if bool(self.df.lt(event_shape[-1]).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.",
                          stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(index + 1) for index in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = retrograd.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._diagonal_chi2(batch_shape)

    def _diagonal_chi2(self, batch_shape) -> Chi2:
        """The chi-squared laws of Bartlett's squared diagonal: df - i degrees of freedom."""
        steps = retrograd.arange(self._event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype)
        return Chi2(df=self.df.unsqueeze(-1) - steps.expand((*Size(batch_shape), -1)))

    def expand(self, batch_shape, _instance=None) -> Wishart:
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        matrix_shape = batch_shape + self.event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(matrix_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(index + 1) for index in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(matrix_shape))
        new._event_shape = self._event_shape
        new._dist_chi2 = new._diagonal_chi2(batch_shape)
        return self._validated_copy(new, batch_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        factor = self._unbroadcasted_scale_tril
        return (factor @ factor.transpose(-2, -1)).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        identity = retrograd.eye(self._event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype)
        return retrograd.cholesky_solve(identity, self._unbroadcasted_scale_tril).expand(
            self._batch_shape + self._event_shape)

    def _per_batch(self, values: Tensor) -> Tensor:
        return values.view((*self._batch_shape, 1, 1))

    @property
    def mean(self) -> Tensor:
        return self._per_batch(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        return self._per_batch(retrograd.where(factor <= 0, math.nan, factor)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        V = self.covariance_matrix
        diagonal = V.diagonal(dim1=-2, dim2=-1)
        return self._per_batch(self.df) * (V.pow(2) + diagonal.unsqueeze(-1) * diagonal.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=()) -> Tensor:
        """L A A^T L^T with A lower-triangular: sqrt of chi-squared draws on the diagonal,
        standard normals below it (drawn in that order)."""
        p = self._event_shape[-1]
        diagonal = _clamp_above_eps(self._dist_chi2.rsample(sample_shape).sqrt()).diag_embed(dim1=-2, dim2=-1)
        rows, columns = retrograd.tril_indices(p, p, offset=-1)
        below_shape = Size(sample_shape) + self._batch_shape + (p * (p - 1) // 2,)
        below = retrograd.randn(below_shape, dtype=diagonal.dtype)
        mask = retrograd.zeros((p, p), dtype=retrograd.bool)
        mask[rows, columns] = True
        scattered = retrograd.zeros(diagonal.shape, dtype=diagonal.dtype).masked_scatter(
            mask.expand(diagonal.shape), below)
        chol = self._unbroadcasted_scale_tril @ (diagonal + scattered)
        return chol @ chol.transpose(-2, -1)

    def _flagged(self, sample: Tensor) -> Tensor:
        """Which draws PyTorch redraws: those that pass the support's check, per sample index
        (Note [Wishart's resampling])."""
        passed = self.support.check(sample)
        return passed.amax(self._batch_dims) if self._batch_shape else passed

    def rsample(self, sample_shape=(), max_try_correction=None) -> Tensor:
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        flagged = self._flagged(sample)
        if bool(flagged.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                redrawn = self._bartlett_sampling(Size((int(flagged.sum()),)))
                sample = sample.clone()
                sample[flagged] = redrawn
                still = ~self.support.check(redrawn)
                if self._batch_shape:
                    still = still.amax(self._batch_dims)
                flagged = flagged.clone()
                flagged[flagged.clone()] = still
                if not bool(flagged.any()):
                    break
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        log_det_scale = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        solved = retrograd.cholesky_solve(value, self._unbroadcasted_scale_tril)
        trace = solved.diagonal(dim1=-2, dim2=-1).sum(dim=-1)
        return (-nu * (p * _LOG_2 / 2 + log_det_scale) - _mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * retrograd.linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        log_det_scale = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return ((p + 1) * (p * _LOG_2 / 2 + log_det_scale) + _mvlgamma(nu / 2, p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self) -> tuple:
        nu, p = self.df, self._event_shape[-1]
        return (-self.precision_matrix / 2, (nu - p - 1) / 2)

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-retrograd.linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + _mvlgamma(y + (p + 1) / 2, p))
