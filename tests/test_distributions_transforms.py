"""retrograd.distributions.transforms, constraint_registry and TransformedDistribution against
PyTorch's, with the Jacobians checked by autograd and the gradients by gradcheck."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from test_distributions import _close, _numpy

T = retrograd.distributions.transforms
D = retrograd.distributions


def _t(lib, values, dtype="float64"):
    return lib.tensor(values, dtype=getattr(lib, dtype))


# name -> (build(library) -> transform, input values of its domain)
TRANSFORMS = {
    "exp": (lambda lib: lib.distributions.transforms.ExpTransform(), [[-1.0, 0.5, 2.0]]),
    "affine": (lambda lib: lib.distributions.transforms.AffineTransform(1.5, -2.0), [[-1.0, 0.5, 2.0]]),
    "affine_tensor": (lambda lib: lib.distributions.transforms.AffineTransform(
        _t(lib, [1.0, 2.0, 3.0]), _t(lib, [0.5, -1.0, 4.0]), event_dim=1), [[-1.0, 0.5, 2.0], [0.0, 1.0, 1.0]]),
    "sigmoid": (lambda lib: lib.distributions.transforms.SigmoidTransform(), [[-3.0, 0.1, 2.0]]),
    "tanh": (lambda lib: lib.distributions.transforms.TanhTransform(), [[-3.0, 0.1, 2.0]]),
    "softplus": (lambda lib: lib.distributions.transforms.SoftplusTransform(), [[-3.0, 0.1, 15.0]]),
    "power": (lambda lib: lib.distributions.transforms.PowerTransform(_t(lib, [2.0, -0.5, 3.0])), [[0.5, 1.5, 2.0]]),
    "abs": (lambda lib: lib.distributions.transforms.AbsTransform(), [[-1.0, 0.5, -2.0]]),
    "softmax": (lambda lib: lib.distributions.transforms.SoftmaxTransform(), [[-1.0, 0.5, 2.0]]),
    "stick_breaking": (lambda lib: lib.distributions.transforms.StickBreakingTransform(), [[-1.0, 0.5, 2.0]]),
    "lower_cholesky": (lambda lib: lib.distributions.transforms.LowerCholeskyTransform(),
                       [[[0.3, 1.0], [-0.5, -0.2]]]),
    "positive_definite": (lambda lib: lib.distributions.transforms.PositiveDefiniteTransform(),
                          [[[0.3, 1.0], [-0.5, -0.2]]]),
    "corr_cholesky": (lambda lib: lib.distributions.transforms.CorrCholeskyTransform(), [[0.3, -1.2, 0.7]]),
    "reshape": (lambda lib: lib.distributions.transforms.ReshapeTransform((2, 2), (4,)),
                [[[1.0, 2.0], [3.0, 4.0]]]),
    "independent": (lambda lib: lib.distributions.transforms.IndependentTransform(
        lib.distributions.transforms.ExpTransform(), 1), [[-1.0, 0.5, 2.0]]),
    "compose": (lambda lib: lib.distributions.transforms.ComposeTransform([
        lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.AffineTransform(1.0, 3.0),
        lib.distributions.transforms.PowerTransform(_t(lib, 0.5))]), [[-1.0, 0.5, 2.0]]),
    "compose_event": (lambda lib: lib.distributions.transforms.ComposeTransform([
        lib.distributions.transforms.AffineTransform(0.5, 2.0),
        lib.distributions.transforms.StickBreakingTransform()]), [[-1.0, 0.5, 2.0]]),
    "identity": (lambda lib: lib.distributions.transforms.identity_transform, [[-1.0, 0.5]]),
    "inverse_sigmoid": (lambda lib: lib.distributions.transforms.SigmoidTransform().inv, [[0.2, 0.5, 0.9]]),
    "cat": (lambda lib: lib.distributions.transforms.CatTransform([
        lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.AffineTransform(1.0, 2.0)],
        dim=1, lengths=[2, 1]), [[-1.0, 0.5, 2.0], [0.0, 1.0, 3.0]]),
    "stack": (lambda lib: lib.distributions.transforms.StackTransform([
        lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.SigmoidTransform()], dim=0),
        [[-1.0, 0.5, 2.0], [0.0, 1.0, 3.0]]),
    "cdf": (lambda lib: lib.distributions.transforms.CumulativeDistributionTransform(
        lib.distributions.Normal(_t(lib, 0.5), _t(lib, 2.0))), [[-1.0, 0.5, 2.0]]),
}
NOT_BIJECTIVE_INVERSE = {"abs", "softmax"}  # inv(t(x)) is not x
NO_JACOBIAN = {"abs", "softmax", "positive_definite", "lower_cholesky"}  # PyTorch has none


def _both_transforms(name):
    build, values = TRANSFORMS[name]
    return build(retrograd), build(torch), values


@needs_torch
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_match_pytorch(name):
    ours, theirs, values = _both_transforms(name)
    x_ours, x_theirs = _t(retrograd, values), _t(torch, values)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    _close(y_ours, y_theirs, rtol=1e-12, atol=1e-12)
    _close(ours.inv(y_ours), theirs.inv(y_theirs), rtol=1e-9, atol=1e-9)
    if name not in NO_JACOBIAN:
        _close(ours.log_abs_det_jacobian(x_ours, y_ours), theirs.log_abs_det_jacobian(x_theirs, y_theirs),
               rtol=1e-9, atol=1e-9)
    else:
        with pytest.raises(NotImplementedError):
            ours.log_abs_det_jacobian(x_ours, y_ours)
    assert repr(ours) == repr(theirs).replace("torch.", "retrograd.")
    assert repr(ours.inv) == repr(theirs.inv)
    assert ours.bijective == theirs.bijective
    for side in ("domain", "codomain"):
        assert repr(getattr(ours, side)) == repr(getattr(theirs, side)).replace("torch.", "retrograd.")
        assert getattr(ours, side).event_dim == getattr(theirs, side).event_dim
    shape = tuple(x_theirs.shape)
    assert tuple(ours.forward_shape(shape)) == tuple(theirs.forward_shape(shape))
    assert tuple(ours.inverse_shape(tuple(y_theirs.shape))) == tuple(theirs.inverse_shape(tuple(y_theirs.shape)))
    try:
        expected_sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign
    else:
        assert np.array_equal(_numpy(ours.sign), _numpy(expected_sign))


@needs_torch
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_equality_and_with_cache_match_pytorch(name):
    ours, theirs, _ = _both_transforms(name)
    assert (ours == TRANSFORMS[name][0](retrograd)) == (theirs == TRANSFORMS[name][0](torch))
    assert ours.inv.inv is ours
    try:
        cached_theirs = theirs.with_cache(1)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.with_cache(1)
        return
    cached = ours.with_cache(1)
    assert cached._cache_size == cached_theirs._cache_size == 1
    assert ours.with_cache(0) is ours


@pytest.mark.parametrize("name", sorted(set(TRANSFORMS) - NO_JACOBIAN - {"cdf", "cat", "stack"}))
def test_log_abs_det_jacobian_is_autograds(name):
    """For maps of numbers: log |dy/dx| from autograd; for vectors: the log-determinant of the
    Jacobian matrix (square maps) or of J^T J / 2 (StickBreaking, CorrCholesky, as their
    codomains are embedded in a larger space; skipped here)."""
    transform, values = TRANSFORMS[name][0](retrograd), TRANSFORMS[name][1]
    x = _t(retrograd, values)
    if transform.domain.event_dim == 0 and transform.codomain.event_dim == 0:
        x.requires_grad_(True)
        (gradient,) = retrograd.autograd.grad(transform(x).sum(), x)
        expected = gradient.abs().log()
        np.testing.assert_allclose(transform.log_abs_det_jacobian(x, transform(x)).detach().numpy(),
                                   expected.numpy(), rtol=1e-10, atol=1e-12)
        return
    if name in {"affine_tensor", "reshape", "independent", "compose"}:
        row = x.reshape(-1, *x.shape[x.dim() - transform.domain.event_dim:])[0]
        jacobian = retrograd.autograd.functional.jacobian(lambda v: transform(v).reshape(-1), row)
        _, expected = retrograd.linalg.slogdet(jacobian.reshape(row.numel(), -1))
        computed = transform.log_abs_det_jacobian(row, transform(row))
        np.testing.assert_allclose(computed.detach().numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(TRANSFORMS) - {"identity", "reshape"}))
def test_transform_gradients_pass_gradcheck(name):
    transform, values = TRANSFORMS[name][0](retrograd), TRANSFORMS[name][1]
    x = _t(retrograd, values).requires_grad_(True)
    assert retrograd.autograd.gradcheck(lambda v: transform(v), (x,))
    y = transform(x).detach().requires_grad_(True)
    if name not in NOT_BIJECTIVE_INVERSE | {"positive_definite"}:
        assert retrograd.autograd.gradcheck(lambda v: transform.inv(v), (y,))
    if name not in NO_JACOBIAN:
        assert retrograd.autograd.gradcheck(lambda v: transform.log_abs_det_jacobian(v, transform(v)), (x,))


def test_cache_returns_the_last_pair_and_only_sizes_0_and_1_exist():
    x = retrograd.tensor([0.5, 30.0], dtype=retrograd.float64)
    cached = T.TanhTransform(cache_size=1)
    y = cached(x)
    assert cached(x) is y and cached.inv(y) is x  # tanh(30) is 1: only the cache recovers 30
    assert not retrograd.isfinite(T.TanhTransform().inv(y)).all()
    assert T.ExpTransform()(x) is not T.ExpTransform()(x)
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)

    class Custom(T.Transform):
        def __init__(self, scale=1.0):
            super().__init__()
            self.scale = scale

    with pytest.raises(NotImplementedError, match="with_cache is not implemented"):
        Custom().with_cache(1)


def test_transforms_pickle_without_their_inverse():
    transform = T.AffineTransform(1.0, 2.0)
    _ = transform.inv
    copy = pickle.loads(pickle.dumps(transform))
    assert copy == transform and copy.inv.inv is copy


def test_shape_errors():
    with pytest.raises(ValueError, match="different numbers of elements"):
        T.ReshapeTransform((2, 2), (3,))
    with pytest.raises(ValueError, match="Too few dimensions on input"):
        T.StickBreakingTransform().forward_shape(())
    with pytest.raises(ValueError, match="Input is not a flattened lower-diagonal number"):
        T.CorrCholeskyTransform().forward_shape((4,))
    with pytest.raises(ValueError, match="Input is not square"):
        T.CorrCholeskyTransform().inverse_shape((2, 3))
    with pytest.raises(ValueError, match="Shape mismatch"):
        T.ReshapeTransform((2, 2), (4,)).forward_shape((3, 4))
    with pytest.raises(AssertionError, match="must equal length"):
        T.CatTransform([T.ExpTransform()], lengths=[2])(retrograd.zeros(3))
    with pytest.raises(ValueError, match="Please use either"):
        T.CorrCholeskyTransform().event_dim


# ---------------------------------------------------------------------------
# constraint_registry

CONSTRAINTS = {
    "real": lambda c: c.real, "positive": lambda c: c.positive, "nonnegative": lambda c: c.nonnegative,
    "greater_than": lambda c: c.greater_than(2.0), "greater_than_eq": lambda c: c.greater_than_eq(-1.0),
    "less_than": lambda c: c.less_than(3.0), "unit_interval": lambda c: c.unit_interval,
    "interval": lambda c: c.interval(-2.0, 5.0), "half_open_interval": lambda c: c.half_open_interval(0.0, 2.0),
    "simplex": lambda c: c.simplex, "real_vector": lambda c: c.real_vector,
    "lower_cholesky": lambda c: c.lower_cholesky, "positive_definite": lambda c: c.positive_definite,
    "positive_semidefinite": lambda c: c.positive_semidefinite, "corr_cholesky": lambda c: c.corr_cholesky,
    "cat": lambda c: c.cat([c.positive, c.real], 0, [2, 1]), "stack": lambda c: c.stack([c.positive, c.real], 0),
    "boolean": lambda c: c.boolean, "independent_positive": lambda c: c.independent(c.positive, 1),
}
# unconstrained inputs of the right shape for each constraint
UNCONSTRAINED = {"lower_cholesky": [[0.5, 0.0], [0.3, -1.0]], "positive_definite": [[0.5, 0.0], [0.3, -1.0]],
                 "positive_semidefinite": [[0.5, 0.0], [0.3, -1.0]], "corr_cholesky": [0.3, -0.4, 0.9],
                 "stack": [[0.3, -2.0], [0.5, 1.0]]}


@needs_torch
@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_biject_to_and_transform_to_match_pytorch(name, registry):
    ours_registry, theirs_registry = getattr(D, registry), getattr(torch.distributions, registry)
    constraint_theirs = CONSTRAINTS[name](torch.distributions.constraints)
    constraint_ours = CONSTRAINTS[name](D.constraints)
    try:
        theirs = theirs_registry(constraint_theirs)
    except NotImplementedError as error:
        with pytest.raises(NotImplementedError) as raised:
            ours_registry(constraint_ours)
        assert str(raised.value) == str(error)
        return
    ours = ours_registry(constraint_ours)
    assert repr(ours) == repr(theirs)
    values = UNCONSTRAINED.get(name, [0.3, -2.0, 1.5])
    mapped = ours(_t(retrograd, values))
    _close(mapped, theirs(_t(torch, values)), rtol=1e-12, atol=1e-12)
    assert bool(constraint_ours.check(mapped).all())


def test_register_a_constraint_and_refuse_what_is_not_one():
    registry = D.constraint_registry.ConstraintRegistry()

    @registry.register(D.constraints.positive)
    def _softplus(constraint):
        return T.SoftplusTransform()

    assert isinstance(registry(D.constraints.greater_than(0.0)), T.SoftplusTransform)
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(D.constraints.real)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
        registry.register(int, _softplus)


# ---------------------------------------------------------------------------
# TransformedDistribution


def _logistic(lib, validate_args=None):
    transforms = lib.distributions.transforms
    base = lib.distributions.Uniform(_t(lib, [0.0, 0.0]), _t(lib, [1.0, 1.0]))
    return lib.distributions.TransformedDistribution(
        base, [transforms.SigmoidTransform().inv, transforms.AffineTransform(_t(lib, [0.5, -1.0]), -2.0)],
        validate_args=validate_args)


def _simplex_of_normals(lib):
    base = lib.distributions.Normal(_t(lib, [[0.0, 1.0], [0.5, -0.5]]), _t(lib, 1.0))
    return lib.distributions.TransformedDistribution(base, lib.distributions.transforms.StickBreakingTransform())


@needs_torch
@pytest.mark.parametrize("build", [_logistic, _simplex_of_normals])
def test_transformed_distribution_matches_pytorch(build):
    ours, theirs = build(retrograd), build(torch)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert repr(ours.support) == repr(theirs.support)
    assert ours.has_rsample == theirs.has_rsample
    for seed in (0, 5):
        retrograd.manual_seed(seed)
        torch.manual_seed(seed)
        drawn, expected = ours.rsample((3,)), theirs.rsample((3,))
        _close(drawn, expected, rtol=1e-12, atol=1e-12)
    _close(ours.log_prob(_t(retrograd, expected.tolist())), theirs.log_prob(expected), rtol=1e-10, atol=1e-10)
    if build is _logistic:
        quantiles = theirs.cdf(expected)
        _close(ours.cdf(_t(retrograd, expected.tolist())), quantiles, rtol=1e-10, atol=1e-12)
        _close(ours.icdf(_t(retrograd, quantiles.tolist())), theirs.icdf(quantiles), rtol=1e-9, atol=1e-9)
    bigger = (4, *tuple(theirs.batch_shape))
    assert tuple(ours.expand(bigger).batch_shape) == tuple(theirs.expand(bigger).batch_shape)


def test_transformed_distribution_refuses_what_is_not_a_transform():
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [T.ExpTransform(), "exp"])
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")
    with pytest.raises(ValueError, match="needs to have shape with size at least 1"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), T.StickBreakingTransform())


def test_transformed_log_prob_is_the_change_of_variables():
    loc, scale = 0.3, 1.7
    lognormal = D.TransformedDistribution(D.Normal(_t(retrograd, loc), scale), T.ExpTransform())
    y = np.array([0.2, 1.0, 4.0])
    expected = (-np.log(y) - math.log(scale) - 0.5 * math.log(2 * math.pi)
                - (np.log(y) - loc) ** 2 / (2 * scale**2))
    np.testing.assert_allclose(lognormal.log_prob(_t(retrograd, y.tolist())).numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="within the support"):
        lognormal.log_prob(_t(retrograd, [-1.0]))
