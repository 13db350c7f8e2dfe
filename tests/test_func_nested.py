"""Forward over forward: `retrograd.func.jvp` opens a level of its own, so jvps nest as
functorch's do (`jvp(jvp(f))`, `jacfwd(jacfwd(f))`, `jacfwd(jacrev(f))`, `hessian`), with
PyTorch's results; `autograd.forward_ad.dual_level` keeps PyTorch's own rules (no nesting,
and no jvp inside it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import retrograd
import retrograd.autograd.forward_ad as fwAD
import retrograd.func as rfunc
from retrograd.autograd import engine

RNG = np.random.default_rng(7)
X = RNG.standard_normal(3)
Y = RNG.standard_normal(3)
U = RNG.standard_normal(3)
V = RNG.standard_normal(3)
M = RNG.standard_normal((3, 3))


def _functions(lib):
    """Vector -> vector functions built from ops of several tangent rules."""
    matrix = lib.tensor(M)
    return {
        "sin_exp": lambda x: x.sin() * x.exp(),
        "tanh_matmul": lambda x: lib.tanh(matrix @ x) * x,
        "softmax": lambda x: lib.softmax(x * x, dim=0),
        "logsumexp_div": lambda x: lib.logsumexp(x, dim=0) / (x * x + 1),
        "pow_cumsum": lambda x: lib.cumsum(x ** 3, dim=0) + x.sqrt().nan_to_num(),
        "outer_norm": lambda x: lib.outer(x, x).norm(dim=1) * x.sigmoid(),
    }


def _scalar(lib, name):
    vector = _functions(lib)[name]
    return lambda x: (vector(x) * lib.tensor(Y)).sum()


NAMES = sorted(_functions(torch))


def _both(build):
    """`build(lib, func)` run with each library, as NumPy arrays (nested tuples kept)."""
    def numpy(tree):
        if isinstance(tree, tuple | list):
            return [numpy(item) for item in tree]
        return tree.detach().numpy()

    return numpy(build(retrograd, rfunc)), numpy(build(torch, torch.func))


def _close(mine, theirs):
    if isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            _close(a, b)
        return
    assert mine.shape == theirs.shape
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.fixture
def no_backward(monkeypatch):
    """Forward over forward runs no backward pass at all."""
    def refuse(*args, **kwargs):
        raise AssertionError("a backward pass ran")

    monkeypatch.setattr(engine, "execute", refuse)


@pytest.mark.parametrize("name", NAMES)
def test_jvp_of_jvp_matches_torch(name, no_backward):
    def build(lib, func):
        f = _functions(lib)[name]
        x, u, v = lib.tensor(X).abs() + 0.1, lib.tensor(U), lib.tensor(V)
        inner = lambda x: func.jvp(f, (x,), (v,))  # noqa: E731
        return func.jvp(inner, (x,), (u,))

    _close(*_both(build))


@pytest.mark.parametrize("name", NAMES)
def test_jacfwd_of_jacfwd_matches_torch(name, no_backward):
    def build(lib, func):
        return func.jacfwd(func.jacfwd(_functions(lib)[name]))(lib.tensor(X).abs() + 0.1)

    _close(*_both(build))


@pytest.mark.parametrize("name", NAMES)
def test_jacfwd_of_jacrev_and_jacrev_of_jacfwd_match_torch(name):
    def build(lib, func):
        f, x = _functions(lib)[name], lib.tensor(X).abs() + 0.1
        return func.jacfwd(func.jacrev(f))(x), func.jacrev(func.jacfwd(f))(x)

    _close(*_both(build))


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_torch(name):
    def build(lib, func):
        return func.hessian(_scalar(lib, name))(lib.tensor(X).abs() + 0.1)

    _close(*_both(build))


def test_third_order_and_argnums(no_backward):
    def build(lib, func):
        f = lambda x, y: (x.sin() * y.exp()).sum() * x  # noqa: E731
        x, y = lib.tensor(X), lib.tensor(Y)
        third = func.jacfwd(func.jacfwd(func.jacfwd(lambda x: x.sin() * x.cos().exp())))(x)
        both = func.jacfwd(func.jacfwd(f, argnums=(0, 1)), argnums=1)(x, y)
        return third, list(both)

    _close(*_both(build))


def test_vmap_of_jacfwd_of_jacfwd(no_backward):
    def build(lib, func):
        f = _functions(lib)["tanh_matmul"]
        batch = lib.tensor(np.stack([X, Y, U]))
        return func.vmap(func.jacfwd(func.jacfwd(f)))(batch)

    _close(*_both(build))


def test_inner_jvp_does_not_confuse_the_outer_perturbation(no_backward):
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (perturbation confusion would give 2)
    def build(lib, func):
        one = lib.tensor(1.0, dtype=lib.float64)

        def outer(x):
            return x * func.jvp(lambda y: x + y, (lib.tensor(2.0, dtype=lib.float64),), (one,))[1]

        return func.jvp(outer, (lib.tensor(3.0, dtype=lib.float64),), (one,))

    mine, theirs = _both(build)
    _close(mine, theirs)
    assert mine[1] == 1.0


def test_jvp_of_closure_over_the_outer_dual(no_backward):
    def build(lib, func):
        y0 = lib.tensor(Y)

        def outer(x):
            _, inner = func.jvp(lambda y: (y * x).sin() * x.exp(), (y0,), (lib.tensor(V),))
            return inner * x

        return func.jvp(outer, (lib.tensor(X),), (lib.tensor(U),))

    _close(*_both(build))


def test_forward_over_forward_over_reverse():
    def build(lib, func):
        g = func.grad(_scalar(lib, "sin_exp"))
        return func.jacfwd(func.jacfwd(g))(lib.tensor(X))

    _close(*_both(build))


def test_jvp_inside_a_dual_level_raises_as_pytorch():
    for lib, func, ad in ((retrograd, rfunc, fwAD), (torch, torch.func, torch.autograd.forward_ad)):
        x = lib.tensor(X)
        nested = pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment")
        with ad.dual_level(), nested:
            func.jvp(lambda x: x.sin(), (x,), (x,))
        assert not fwAD.is_active()


def test_dual_level_inside_jvp_raises_as_pytorch():
    for lib, func, ad in ((retrograd, rfunc, fwAD), (torch, torch.func, torch.autograd.forward_ad)):
        def f(x, ad=ad):
            with ad.dual_level():
                return x.sin()

        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment"):
            func.jvp(f, (lib.tensor(X),), (lib.tensor(U),))
    assert not fwAD.is_active()
    with fwAD.dual_level() as level:  # the state is clean afterwards
        assert level == 0


def test_dual_levels_still_do_not_nest():
    nested = pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment")
    with fwAD.dual_level(), nested:
        fwAD.enter_dual_level()
    assert not fwAD.is_active()


def test_tangents_of_a_level_are_dropped_when_it_exits():
    kept = {}

    def inner(y):
        kept["dual"] = y
        return y * 2

    def outer(x):
        return rfunc.jvp(inner, (x,), (retrograd.tensor(V),))[1]

    rfunc.jvp(outer, (retrograd.tensor(X),), (retrograd.tensor(U),))
    assert fwAD.tangent_levels(kept["dual"]) == []
    assert not fwAD.is_active()
