"""Transforms differentiate through closures over tensors that require grad, as PyTorch's
levels do: `g = grad(lambda x: (x * w).sin().sum())(x)` depends on `w`, so
`g.sum().backward()` fills `w.grad`. Each case runs in both libraries and compares what
requires grad, the values, and the gradients that reach the closed-over tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import retrograd
import retrograd.func as rfunc

X = np.array([0.3, -1.2, 0.8])
W = np.array([1.1, 0.4, -0.7])
V = np.array([0.5, -0.2, 1.5])


def _transforms(lib, func):
    """(name, how to compute the results from x, with w and v) for each transform."""
    def loss(w):
        return lambda x: ((x * w).sin() * x).sum()

    def vector(w):
        return lambda x: (x * w).sin() * x.exp()

    return {
        "grad": lambda x, w, v: (func.grad(loss(w))(x),),
        "grad_and_value": lambda x, w, v: func.grad_and_value(loss(w))(x),
        "grad_has_aux": lambda x, w, v: func.grad(
            lambda x: (loss(w)(x), {"aux": w * 2, "plain": x * 3}), has_aux=True)(x),
        "vjp": lambda x, w, v: (lambda out, fn: (out, fn(v)[0]))(*func.vjp(vector(w), x)),
        "jacrev": lambda x, w, v: (func.jacrev(vector(w))(x),),
        "jvp": lambda x, w, v: func.jvp(vector(w), (x,), (v,)),
        "jacfwd": lambda x, w, v: (func.jacfwd(vector(w))(x),),
        "hessian": lambda x, w, v: (func.hessian(loss(w))(x),),
        "vmap_grad": lambda x, w, v: (func.vmap(func.grad(loss(w)))(lib.stack([x, x * 2])),),
        "independent": lambda x, w, v: func.vjp(lambda x: x + w, x)[1](v),
    }


def _flat(tree):
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _flat(tree[key])]
    if isinstance(tree, tuple | list):
        return [leaf for item in tree for leaf in _flat(item)]
    return [tree]


@pytest.mark.parametrize("name", sorted(_transforms(torch, torch.func)))
def test_closure_over_a_tensor_that_requires_grad(name):
    results = {}
    for lib, func in ((torch, torch.func), (retrograd, rfunc)):
        w = lib.tensor(W, requires_grad=True)
        x, v = lib.tensor(X), lib.tensor(V)
        outputs = _flat(_transforms(lib, func)[name](x, w, v))
        flags = [output.requires_grad for output in outputs]
        total = sum((output * (index + 1)).sum() for index, output in enumerate(outputs)
                    if output.requires_grad)
        if any(flags):
            total.backward()
        results[lib.__name__] = (flags, [output.detach().numpy() for output in outputs],
                                 None if w.grad is None else w.grad.numpy())
    flags, values, w_grad = results["retrograd"]
    expected_flags, expected_values, expected_w_grad = results["torch"]
    assert flags == expected_flags
    for value, expected in zip(values, expected_values):
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    assert (w_grad is None) == (expected_w_grad is None)
    if w_grad is not None:
        np.testing.assert_allclose(w_grad, expected_w_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(_transforms(torch, torch.func)))
def test_closure_over_a_plain_tensor_gives_plain_results(name):
    w, x, v = retrograd.tensor(W), retrograd.tensor(X), retrograd.tensor(V)
    for output in _flat(_transforms(retrograd, rfunc)[name](x, w, v)):
        assert not output.requires_grad
        assert output.grad_fn is None


def test_grad_result_leads_back_to_the_closed_over_weight_only():
    w = retrograd.tensor(W, requires_grad=True)
    x = retrograd.tensor(X, requires_grad=False)
    g = rfunc.grad(lambda x: (x * w).sin().sum())(x)
    assert g.requires_grad
    (gw,) = retrograd.autograd.grad(g.sum(), [w])
    tw = torch.tensor(W, requires_grad=True)
    tg = torch.func.grad(lambda x: (x * tw).sin().sum())(torch.tensor(X))
    (expected,) = torch.autograd.grad(tg.sum(), [tw])
    np.testing.assert_allclose(gw.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
