"""`Distribution`: the shapes, the sampling entry points and the checks every family shares.

Note [Batch and event shapes]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
A distribution holds a batch of independent distributions (`batch_shape`, the broadcast
shape of its parameters) over events of `event_shape` (empty for a scalar family, `(k,)` for
a k-dimensional one). `sample(sample_shape)` returns `sample_shape + batch_shape +
event_shape`; `log_prob(value)` reduces the event dimensions and gives one number per batch
entry (and per sample). `Independent` moves batch dimensions into the event.

Note [Validation]
~~~~~~~~~~~~~~~~~
With validation on (the default, as PyTorch: on unless Python runs with -O), a distribution
checks its parameters against `arg_constraints` when it is made, and `log_prob`/`cdf` check
their value's shape and `support`; both raise ValueError naming the parameter or value, the
constraint and the offending values. `validate_args=False` (per distribution) or
`Distribution.set_default_validate_args(False)` (for all) turns the checks off.
"""

from __future__ import annotations

import warnings

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]


def _as_size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(shape)


class Distribution:
    """The base class of the probability distributions (see Note [Batch and event shapes])."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    def __init_subclass__(cls, **kwargs) -> None:
        """A family's property without a docstring of its own (`mean`, `variance`...) takes the
        docstring of the property it overrides, so the API reference describes every one."""
        super().__init_subclass__(**kwargs)
        for name, value in vars(cls).items():
            if isinstance(value, property) and not value.__doc__:
                inherited = getattr(cls.__mro__[1], name, None)
                if isinstance(inherited, property) and inherited.__doc__:
                    value.__doc__ = inherited.__doc__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn validation of parameters and values on or off for every distribution."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args expects True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None) -> None:
        self._batch_shape = _as_size(batch_shape)
        self._event_shape = _as_size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self) -> None:
        """Each parameter the instance holds, against its constraint (Note [Validation])."""
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set "
                          "`arg_constraints = {}` or initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=3)
            return
        for name, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name not in self.__dict__ and isinstance(getattr(type(self), name, None), lazy_property):
                continue  # given in another form; computed only if used
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                    f"but found invalid values:\n{value}"
                )

    def _validated_copy(self, new: Distribution, batch_shape) -> Distribution:
        """Finish an `expand`: `new` gets the shapes, without checking again, and this
        instance's validation setting."""
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """The same distribution over a larger batch (parameters expanded, not copied)."""
        raise NotImplementedError

    def _get_checked_instance(self, cls, _instance=None):
        """The blank instance an `expand` fills: `_instance`, or a new one of this type."""
        if _instance is None and type(self).__init__ is not cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom __init__ "
                "method must also define a custom .expand() method."
            )
        return type(self).__new__(type(self)) if _instance is None else _instance

    @property
    def batch_shape(self) -> Size:
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of one sample, without batching."""
        return self._event_shape

    @property
    def arg_constraints(self) -> dict:
        """Parameter name -> the Constraint its values satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The Constraint samples satisfy."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        """The most likely value of each distribution of the batch."""
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """The standard deviation: the square root of the variance."""
        return self.variance.sqrt()

    def sample(self, sample_shape=()) -> Tensor:
        """Draws of shape `sample_shape + batch_shape + event_shape`, outside autograd."""
        with retrograd.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """Reparameterised draws: the gradient flows back to the parameters."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        """`sample((n,))` (deprecated in PyTorch, with a FutureWarning)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def log_prob(self, value: Tensor) -> Tensor:
        """The log of the density (or mass) at `value`."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at `value`."""
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse of the cumulative distribution function at `value`."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All values of a discrete distribution, along dimension 0."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy of each distribution of the batch."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return retrograd.exp(self.entropy())

    def _extended_shape(self, sample_shape=()) -> Size:
        """sample_shape + batch_shape + event_shape."""
        return Size(tuple(sample_shape) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value) -> None:
        """`value`'s shape against the batch and event shapes, its values against the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape = value.size()
        event_start = len(shape) - len(self._event_shape)
        if shape[event_start:] != self._event_shape:
            raise ValueError(
                f"The right-most size of value must match event_shape: {shape} vs {self._event_shape}."
            )
        expected = self._batch_shape + self._event_shape
        for actual_size, expected_size in zip(reversed(shape), reversed(expected)):
            if actual_size != 1 and expected_size != 1 and actual_size != expected_size:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: {shape} vs {expected}."
                )
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample validation. "
                          "Please initialize the distribution with `validate_args=False` to turn "
                          "off validation.", stacklevel=3)
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({support!r}) of the distribution {self!r}, "
                f"but found invalid values:\n{value}"
            )

    def __repr__(self) -> str:
        shown = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                value = self.__dict__[name]
                shown.append(f"{name}: {value if value.numel() == 1 else value.size()}")
        return f"{type(self).__name__}({', '.join(shown)})"
