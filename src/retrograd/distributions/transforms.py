"""Invertible maps between constrained spaces, with the log-Jacobians that carry densities
through them (`retrograd.distributions.transforms`, as PyTorch's module).

A `Transform` maps values of its `domain` to its `codomain` (`t(x)`), goes back with
`t.inv(y)`, and gives `log_abs_det_jacobian(x, y)`, the log of |dy/dx| per event of the
domain. `TransformedDistribution` pushes a base distribution through a list of them;
`biject_to`/`transform_to` (`constraint_registry`) find one from the real line onto a
constraint.

Note [Transform caching]
~~~~~~~~~~~~~~~~~~~~~~~~
With `cache_size=1` a transform remembers its last (x, y) pair: calling it again on the same
tensor object `x` returns the same `y`, and inverting that `y` returns that `x` (not a
recomputed one). This makes `log_prob(rsample())` exact for transforms whose inverse loses
precision (tanh near +-1) and keeps the graph from y back to x. `cache_size=0` (the default)
computes every time; any other size is refused.
"""

from __future__ import annotations

import math
import numbers
import operator
import weakref
from functools import reduce

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .utils import _sum_rightmost, broadcast_all, lazy_property, tril_matrix_to_vec, vec_to_tril_matrix

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]


def _softplus(x: Tensor) -> Tensor:
    return retrograd.nn.functional.softplus(x)


class Transform:
    """An invertible map with a computable log-Jacobian (Note [Transform caching]).

    `bijective`: whether `inv` undoes it exactly on the whole codomain; `sign`: the sign of
    the derivative, for monotone maps of numbers; `domain`/`codomain`: the constraints of
    inputs and outputs."""

    bijective = False

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._inv = None
        self._cached_x_y = (None, None)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_inv"] = None  # a weak reference does not pickle
        return state

    @property
    def event_dim(self) -> int:
        """The event dimensions of domain and codomain, where they agree."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self) -> Transform:
        """The inverse transform (one object per transform while it is alive)."""
        inverse = None if self._inv is None else self._inv()
        if inverse is None:
            inverse = _InverseTransform(self)
            self._inv = weakref.ref(inverse)
        return inverse

    @property
    def sign(self):
        """The sign of the Jacobian's determinant (for bijective maps of numbers)."""
        raise NotImplementedError

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with the given cache size (itself if it has that size already)."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other) -> bool:
        return self is other

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __call__(self, x: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._call(x)
        cached_x, cached_y = self._cached_x_y
        if x is cached_x:
            return cached_y
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._inverse(y)
        cached_x, cached_y = self._cached_x_y
        if y is cached_y:
            return cached_x
        x = self._inverse(y)
        self._cached_x_y = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |dy/dx| for y = self(x), one value per event of the domain."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__ + "()"

    def forward_shape(self, shape):
        """The shape of `self(x)` for `x` of `shape`."""
        return shape

    def inverse_shape(self, shape):
        """The shape of `self.inv(y)` for `y` of `shape`."""
        return shape


class _InverseTransform(Transform):
    """`t.inv`: the transform run backwards (use the `inv` property, not this class)."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform  # a strong reference: the inverse keeps its forward alive

    @property
    def domain(self):
        """The constraint the inputs satisfy."""
        return self._inv.codomain

    @property
    def codomain(self):
        """The constraint the outputs satisfy."""
        return self._inv.domain

    @property
    def bijective(self) -> bool:
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self.inv.with_cache(cache_size).inv

    def __eq__(self, other) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inv!r})"

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)


class ComposeTransform(Transform):
    """`parts` applied in order; the empty composition is the identity."""

    def __init__(self, parts, cache_size: int = 0) -> None:
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def __eq__(self, other) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The constraint the inputs satisfy."""
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):  # the event dimensions the first part must see
            event_dim = max(event_dim + part.domain.event_dim - part.codomain.event_dim,
                            part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The constraint the outputs satisfy."""
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = max(event_dim + part.codomain.event_dim - part.domain.event_dim,
                            part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def bijective(self) -> bool:
        return all(part.bijective for part in self.parts)

    @property
    def sign(self):
        return reduce(operator.mul, (part.sign for part in self.parts), 1)

    @property
    def inv(self) -> Transform:
        inverse = None if self._inv is None else self._inv()
        if inverse is None:
            inverse = ComposeTransform([part.inv for part in reversed(self.parts)])
            self._inv = weakref.ref(inverse)
            inverse._inv = weakref.ref(self)
        return inverse

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x: Tensor) -> Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            return retrograd.zeros_like(x)
        values = [x]  # the intermediate values (free when the parts cache)
        for part in self.parts[:-1]:
            values.append(part(values[-1]))
        values.append(y)
        terms, event_dim = [], self.domain.event_dim
        for part, before, after in zip(self.parts, values[:-1], values[1:]):
            terms.append(_sum_rightmost(part.log_abs_det_jacobian(before, after),
                                        event_dim - part.domain.event_dim))
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return reduce(operator.add, terms)

    def forward_shape(self, shape):
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(part) for part in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """`base_transform` with `reinterpreted_batch_ndims` more rightmost dimensions in each
    event: its log-Jacobian is summed over them."""

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int,
                 cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims,
                                    cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The constraint the inputs satisfy."""
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The constraint the outputs satisfy."""
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x: Tensor) -> Tensor:
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                              self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


def _check_event_shape(shape, expected) -> int:
    """Where the event `expected` starts in `shape`; ValueError if `shape` does not end so."""
    if len(shape) < len(expected):
        raise ValueError("Too few dimensions on input")
    cut = len(shape) - len(expected)
    if tuple(shape[cut:]) != tuple(expected):
        raise ValueError(f"Shape mismatch: expected {Size(shape[cut:])} but got {expected}")
    return cut


class ReshapeTransform(Transform):
    """Reshapes the rightmost `in_shape` of a tensor to `out_shape` (unit Jacobian)."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size: int = 0) -> None:
        self.in_shape, self.out_shape = Size(in_shape), Size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        """The constraint the inputs satisfy."""
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        """The constraint the outputs satisfy."""
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[:x.dim() - len(self.in_shape)] + self.out_shape)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[:y.dim() - len(self.out_shape)] + self.in_shape)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x.new_zeros(x.shape[:x.dim() - len(self.in_shape)])

    def forward_shape(self, shape):
        return Size(shape[:_check_event_shape(shape, self.in_shape)]) + self.out_shape

    def inverse_shape(self, shape):
        return Size(shape[:_check_event_shape(shape, self.out_shape)]) + self.in_shape


class _ElementwiseTransform(Transform):
    """A parameter-free map of numbers: any two instances are equal."""

    def __eq__(self, other) -> bool:
        return isinstance(other, type(self))

    __hash__ = object.__hash__


class ExpTransform(_ElementwiseTransform):
    """y = exp(x)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class PowerTransform(Transform):
    """y = x ** exponent, on positive numbers."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @lazy_property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other) -> bool:
        return isinstance(other, PowerTransform) and bool(self.exponent.eq(other.exponent).all())

    __hash__ = object.__hash__

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return retrograd.broadcast_shapes(shape, self.exponent.shape)

    def inverse_shape(self, shape):
        return retrograd.broadcast_shapes(shape, self.exponent.shape)


def _clipped_sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) kept in [tiny, 1 - eps], so its logit stays finite."""
    finfo = retrograd.finfo(x.dtype)
    return retrograd.clamp(retrograd.sigmoid(x), min=finfo.tiny, max=1.0 - finfo.eps)


class SigmoidTransform(_ElementwiseTransform):
    """y = 1 / (1 + exp(-x)); back by the logit."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def _call(self, x):
        return _clipped_sigmoid(x)

    def _inverse(self, y):
        finfo = retrograd.finfo(y.dtype)
        y = y.clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x) - _softplus(x)


class SoftplusTransform(_ElementwiseTransform):
    """y = log(1 + exp(x)) (x itself above 20)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return _softplus(x)

    def _inverse(self, y):
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x)


class TanhTransform(_ElementwiseTransform):
    """y = tanh(x). Its inverse loses precision near +-1: cache (cache_size=1) to keep x."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return retrograd.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)), stable for large |x|
        return 2.0 * (math.log(2.0) - x - _softplus(-2.0 * x))


class AbsTransform(_ElementwiseTransform):
    """y = |x| (not injective: the inverse returns y itself)."""

    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number)


def _same_parameter(mine, theirs) -> bool:
    if _is_number(mine) and _is_number(theirs):
        return mine == theirs
    return bool((mine == theirs).all())


class AffineTransform(Transform):
    """y = loc + scale * x; `event_dim` rightmost dimensions make one event (1 for vectors)."""

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.loc, self.scale = loc, scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    def _reals(self):
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The constraint the inputs satisfy."""
        return self._reals()

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The constraint the outputs satisfy."""
        return self._reals()

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    def __eq__(self, other) -> bool:
        return (isinstance(other, AffineTransform) and _same_parameter(self.loc, other.loc)
                and _same_parameter(self.scale, other.scale))

    __hash__ = object.__hash__

    @property
    def sign(self):
        if _is_number(self.scale):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = x.shape
        if _is_number(self.scale):
            result = retrograd.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self.event_dim:
            result = result.reshape((*result.shape[:result.dim() - self.event_dim], -1)).sum(-1)
            shape = shape[:len(shape) - self.event_dim]
        return result.expand(shape)

    def _parameter_shapes(self) -> tuple:
        return tuple(getattr(value, "shape", ()) for value in (self.loc, self.scale))

    def forward_shape(self, shape):
        return retrograd.broadcast_shapes(shape, *self._parameter_shapes())

    def inverse_shape(self, shape):
        return retrograd.broadcast_shapes(shape, *self._parameter_shapes())


def _last_dims_at_least(shape, count: int) -> None:
    if len(shape) < count:
        raise ValueError("Too few dimensions on input")


class CorrCholeskyTransform(Transform):
    """A vector of D (D - 1) / 2 reals to the Cholesky factor of a D x D correlation matrix:
    the entries below the diagonal, row by row, are tanh(x); each row is then made of unit
    length by a signed stick-breaking (each entry scaled by the square root of what the
    earlier entries of its row left), the diagonal taking the rest."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = retrograd.finfo(x.dtype).eps
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        remaining = (1 - r.square()).sqrt().cumprod(-1)
        r = r + retrograd.eye(r.shape[-1], dtype=r.dtype)
        return r * retrograd.nn.functional.pad(remaining[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        left = 1 - retrograd.cumsum(y * y, dim=-1)
        left_before = retrograd.nn.functional.pad(left[..., :-1], [1, 0], value=1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(left_before, diag=-1).sqrt()
        return (t.log1p() - t.neg().log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        left = 1 - (y * y).cumsum(dim=-1)
        stick_breaking = 0.5 * tril_matrix_to_vec(left, diag=-2).log().sum(-1)
        tanh = -2 * (x + _softplus(-2 * x) - math.log(2.0)).sum(dim=-1)
        return stick_breaking + tanh

    def forward_shape(self, shape):
        _last_dims_at_least(shape, 1)
        entries = shape[-1]
        size = round((0.25 + 2 * entries) ** 0.5 + 0.5)
        if size * (size - 1) // 2 != entries:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return Size((*shape[:-1], size, size))

    def inverse_shape(self, shape):
        _last_dims_at_least(shape, 2)
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        size = shape[-1]
        return Size((*shape[:-2], size * (size - 1) // 2))


class SoftmaxTransform(_ElementwiseTransform):
    """Reals to the simplex: exp, then divide by the sum (not bijective; back by log)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        unnormalised = (x - x.max(-1, True)[0]).exp()
        return unnormalised / unnormalised.sum(-1, True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        _last_dims_at_least(shape, 1)
        return shape

    def inverse_shape(self, shape):
        _last_dims_at_least(shape, 1)
        return shape


def _stick_offsets(x: Tensor, size: int) -> Tensor:
    """log(size), log(size - 1), ..., log(size - n + 1) for the n = x.shape[-1] sticks: the
    shift that maps x = 0 to equal pieces."""
    return (size - x.new_ones(x.shape[-1]).cumsum(-1)).log()


class StickBreakingTransform(_ElementwiseTransform):
    """K - 1 reals to the K-simplex by stick breaking: entry i takes the fraction
    sigmoid(x_i - log(K - 1 - i)) of what the earlier entries left."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def _call(self, x):
        pad = retrograd.nn.functional.pad
        z = _clipped_sigmoid(x - _stick_offsets(x, x.shape[-1] + 1))
        left = (1 - z).cumprod(-1)
        return pad(z, [0, 1], value=1) * pad(left, [1, 0], value=1)

    def _inverse(self, y):
        head = y[..., :-1]
        left = (1 - head.cumsum(-1)).clamp(min=retrograd.finfo(y.dtype).tiny)
        return head.log() - left.log() + _stick_offsets(head, y.shape[-1])

    def log_abs_det_jacobian(self, x, y):
        shifted = x - _stick_offsets(x, x.shape[-1] + 1)
        return (-shifted + retrograd.nn.functional.logsigmoid(shifted) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        _last_dims_at_least(shape, 1)
        return Size((*shape[:-1], shape[-1] + 1))

    def inverse_shape(self, shape):
        _last_dims_at_least(shape, 1)
        return Size((*shape[:-1], shape[-1] - 1))


class LowerCholeskyTransform(_ElementwiseTransform):
    """Square matrices to lower-triangular ones with a positive diagonal (exp of it)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(_ElementwiseTransform):
    """Square matrices to positive-definite ones, L L^T of their LowerCholeskyTransform."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        factor = LowerCholeskyTransform()(x)
        return factor @ factor.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(retrograd.linalg.cholesky(y))


def _check_along(value: Tensor, dim: int, length: int, name: str, what: str) -> None:
    """`value` has dimension `dim`, of size `length` (the sum of a CatTransform's lengths or a
    StackTransform's count of transforms)."""
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"dim {dim} out of range for {name} with {value.dim()} dimensions")
    if value.size(dim) != length:
        raise AssertionError(f"{name.split()[0]}.size({dim}) = {value.size(dim)} must equal {what} {length}")


def _with_cache_all(transforms, cache_size: int) -> list:
    if not all(isinstance(transform, Transform) for transform in transforms):
        raise AssertionError("All elements of tseq must be Transform instances")
    return [transform.with_cache(cache_size) for transform in transforms] if cache_size else list(transforms)


class CatTransform(Transform):
    """`tseq[i]` applied to the i-th slice along `dim` (of `lengths[i]` entries), the
    results concatenated as `cat` does."""

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0) -> None:
        transforms = _with_cache_all(tseq, cache_size)
        super().__init__(cache_size=cache_size)
        self.transforms = transforms
        self.lengths = [1] * len(transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match transforms "
                                 f"({len(self.transforms)})")
        self.dim = dim

    @lazy_property
    def event_dim(self) -> int:
        return max(transform.event_dim for transform in self.transforms)

    @lazy_property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _slices(self, value: Tensor):
        start = 0
        for transform, length in zip(self.transforms, self.lengths):
            yield transform, value.narrow(self.dim, start, length)
            start += length

    def _call(self, x):
        _check_along(x, self.dim, self.length, "tensor", "length")
        return retrograd.cat([transform(part) for transform, part in self._slices(x)], dim=self.dim)

    def _inverse(self, y):
        _check_along(y, self.dim, self.length, "tensor", "length")
        return retrograd.cat([transform.inv(part) for transform, part in self._slices(y)], dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        _check_along(x, self.dim, self.length, "x", "length")
        _check_along(y, self.dim, self.length, "y", "length")
        terms = []
        for (transform, x_part), (_, y_part) in zip(self._slices(x), self._slices(y)):
            term = transform.log_abs_det_jacobian(x_part, y_part)
            terms.append(_sum_rightmost(term, self.event_dim - transform.event_dim))
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        if dim < 0:  # the slices are batch dimensions: their terms stay apart
            return retrograd.cat(terms, dim=dim)
        return sum(terms)

    @property
    def bijective(self) -> bool:
        return all(transform.bijective for transform in self.transforms)

    @constraints.dependent_property
    def domain(self):
        """The constraint the inputs satisfy."""
        return constraints.cat([transform.domain for transform in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        """The constraint the outputs satisfy."""
        return constraints.cat([transform.codomain for transform in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """`tseq[i]` applied to index i along `dim`, the results stacked as `stack` does."""

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0) -> None:
        transforms = _with_cache_all(tseq, cache_size)
        super().__init__(cache_size=cache_size)
        self.transforms = transforms
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slice(self, value: Tensor) -> list:
        return [value.select(self.dim, index) for index in range(value.size(self.dim))]

    def _call(self, x):
        _check_along(x, self.dim, len(self.transforms), "tensor", "len(transforms)")
        parts = [transform(part) for part, transform in zip(self._slice(x), self.transforms)]
        return retrograd.stack(parts, dim=self.dim)

    def _inverse(self, y):
        _check_along(y, self.dim, len(self.transforms), "tensor", "len(transforms)")
        parts = [transform.inv(part) for part, transform in zip(self._slice(y), self.transforms)]
        return retrograd.stack(parts, dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        _check_along(x, self.dim, len(self.transforms), "x", "len(transforms)")
        _check_along(y, self.dim, len(self.transforms), "y", "len(transforms)")
        terms = [transform.log_abs_det_jacobian(x_part, y_part)
                 for x_part, y_part, transform in zip(self._slice(x), self._slice(y), self.transforms)]
        return retrograd.stack(terms, dim=self.dim)

    @property
    def bijective(self) -> bool:
        return all(transform.bijective for transform in self.transforms)

    @constraints.dependent_property
    def domain(self):
        """The constraint the inputs satisfy."""
        return constraints.stack([transform.domain for transform in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        """The constraint the outputs satisfy."""
        return constraints.stack([transform.codomain for transform in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """x to `distribution.cdf(x)` in [0, 1] (back by its icdf; log-Jacobian: its log_prob)."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        """The constraint the inputs satisfy."""
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
