"""Samples for the ops of `retrograd.ops.pointwise.special` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _positive_and_negative(low: float, high: float):
    """unary samples on [low, high), and one between the poles at -3 and -2."""

    def samples(rng):
        return [*_samples.unary(low, high)(rng), ((_samples.make(rng, (3,), -2.75, -2.25),), {})]

    return samples


def _polygamma(rng):
    cases = [((n, _samples.make(rng, (2, 3), 0.3, 4.0)), {}) for n in (0, 1, 2, 3)]
    cases += [((1, _samples.make(rng, shape, 0.3, 4.0)), {}) for shape in ((), (0,))]
    cases.append(((2, _samples.make(rng, (3,), -1.75, -1.25)), {}))  # (well inside: steep near the poles)
    return cases


def _mvlgamma(rng):
    return [((_samples.make(rng, shape, 1.6, 4.0), p), {}) for shape, p in (((3,), 1), ((2, 3), 2), ((), 3))]


def _first_argument_fixed(low: float, high: float, shapes=((2, 3), (3,))):
    """(a, x) pairs whose first argument is an int64 tensor: the ops differentiate in x only, so
    the gradient tests must not make `a` require grad; the wrapper (gradcheck_wrapper of the op)
    turns it into floats in (low, high)."""

    def samples(rng):
        first, second = shapes
        return [((_samples.integers(rng, first, 0, 8), _samples.make(rng, second, low, high)), {}),
                ((_samples.integers(rng, (), 0, 8), _samples.make(rng, (2, 2), low, high)), {})]

    return samples


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "lgamma": _positive_and_negative(0.2, 4.0),
    "digamma": _positive_and_negative(0.2, 4.0),
    "polygamma": _polygamma,
    "mvlgamma": _mvlgamma,
    "igamma": _first_argument_fixed(0.2, 4.0),
    "igammac": _first_argument_fixed(0.2, 4.0),
    "special.zeta": _first_argument_fixed(0.3, 3.0),
    "special.i0e": _samples.unary(-3.0, 3.0),
    "special.i1": _samples.unary(-3.0, 3.0),
    "special.i1e": _samples.unary(-3.0, 3.0),
    "special.ndtri": _samples.unary(0.05, 0.95),
    "special.log_ndtr": _samples.unary(-3.0, 3.0),
    "special.entr": _samples.unary(0.2, 2.0),
    "special.erfcx": _samples.unary(-2.0, 3.0),
    "special.xlog1py": _samples.binary(0.5, 2.0, scalar=1.5),
}
