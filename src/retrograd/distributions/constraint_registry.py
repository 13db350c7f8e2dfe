"""From the real line onto a constraint: `biject_to(constraint)` gives a bijective transform
(for samplers that move in unconstrained space), `transform_to(constraint)` one that need not
be (for optimisers), as PyTorch's `constraint_registry`.

    >>> from retrograd.distributions import biject_to, constraints
    >>> biject_to(constraints.unit_interval)
    SigmoidTransform()

A registry is keyed by the constraint's class, so `register(constraints.positive, factory)`
applies to every `_GreaterThan` constraint, as in PyTorch (where the later registration of
`greater_than` is the one that stands).
"""

from __future__ import annotations

import numbers

from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Constraint class -> a factory that builds the transform onto such a constraint."""

    def __init__(self) -> None:
        self._registry = {}

    def register(self, constraint, factory=None):
        """Register `factory(constraint) -> Transform` for the class of `constraint` (a
        Constraint subclass or instance); without `factory`, a decorator."""
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError("Expected constraint to be either a Constraint subclass or instance, "
                            f"but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint) -> transforms.Transform:
        """The transform onto `constraint`; NotImplementedError if none is registered."""
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _register_both(*registered, biject=True, transform=True):
    """Register the decorated factory for each constraint in the chosen registries."""
    def decorate(factory):
        for constraint in registered:
            if biject:
                biject_to.register(constraint, factory)
            if transform:
                transform_to.register(constraint, factory)
        return factory
    return decorate


@_register_both(constraints.real)
def _onto_real(constraint):
    return transforms.identity_transform


@biject_to.register(constraints.independent)
def _biject_to_independent(constraint):
    return transforms.IndependentTransform(biject_to(constraint.base_constraint),
                                           constraint.reinterpreted_batch_ndims)


@transform_to.register(constraints.independent)
def _transform_to_independent(constraint):
    return transforms.IndependentTransform(transform_to(constraint.base_constraint),
                                           constraint.reinterpreted_batch_ndims)


@_register_both(constraints.greater_than, constraints.greater_than_eq)
def _onto_greater_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.lower_bound, 1)])


@_register_both(constraints.less_than)
def _onto_less_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.upper_bound, -1)])


def _is(value, number) -> bool:
    return isinstance(value, numbers.Number) and value == number


@_register_both(constraints.interval, constraints.half_open_interval)
def _onto_interval(constraint):
    if _is(constraint.lower_bound, 0) and _is(constraint.upper_bound, 1):
        return transforms.SigmoidTransform()
    scale = constraint.upper_bound - constraint.lower_bound
    return transforms.ComposeTransform([transforms.SigmoidTransform(),
                                        transforms.AffineTransform(constraint.lower_bound, scale)])


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint):
    return transforms.StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint):
    return transforms.SoftmaxTransform()


@transform_to.register(constraints.lower_cholesky)
def _transform_to_lower_cholesky(constraint):
    return transforms.LowerCholeskyTransform()


@_register_both(constraints.positive_definite, constraints.positive_semidefinite, biject=False)
def _transform_to_positive_definite(constraint):
    return transforms.PositiveDefiniteTransform()


@_register_both(constraints.corr_cholesky)
def _onto_corr_cholesky(constraint):
    return transforms.CorrCholeskyTransform()


@biject_to.register(constraints.cat)
def _biject_to_cat(constraint):
    return transforms.CatTransform([biject_to(part) for part in constraint.cseq], constraint.dim,
                                   constraint.lengths)


@transform_to.register(constraints.cat)
def _transform_to_cat(constraint):
    return transforms.CatTransform([transform_to(part) for part in constraint.cseq], constraint.dim,
                                   constraint.lengths)


@biject_to.register(constraints.stack)
def _biject_to_stack(constraint):
    return transforms.StackTransform([biject_to(part) for part in constraint.cseq], constraint.dim)


@transform_to.register(constraints.stack)
def _transform_to_stack(constraint):
    return transforms.StackTransform([transform_to(part) for part in constraint.cseq], constraint.dim)
