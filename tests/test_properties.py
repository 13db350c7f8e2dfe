"""Property tests: random compositions of the core ops, differentiated three ways.

Each program is a random sequence of unary and binary steps over a pool of intermediate
values (so nodes get several consumers). Its gradient must match finite differences, agree
between backward() and autograd.grad(), and, where PyTorch is installed, match PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd.autograd import gradcheck

UNARY = {
    "exp": lambda t: (t * 0.3).exp(),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "square": lambda t: t * t,
    "soft_sqrt": lambda t: (t * t + 1).sqrt(),
    "soft_log": lambda t: (t * t + 1).log(),
    "neg": lambda t: -t,
    "cube": lambda t: t**3,
    "scale": lambda t: 2.5 * t - 1,
    "soft_div": lambda t: 1 / (t * t + 1),
    "mean_keep": lambda t: t - t.mean(dim=-1, keepdim=True),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.integers(0, 10)),
        st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), st.integers(0, 10), st.integers(0, 10)),
    ),
    min_size=1,
    max_size=8,
)
shapes = st.sampled_from([(3,), (2, 3), (1, 3), ()])


def run_program(program, inputs):
    pool = list(inputs)
    for step in program:
        if step[0] == "unary":
            pool.append(UNARY[step[1]](pool[step[2] % len(pool)]))
        else:
            pool.append(BINARY[step[1]](pool[step[2] % len(pool)], pool[step[3] % len(pool)]))
    return pool[-1].sum() + pool[-2].sum() * 0.5 if len(pool) > 2 else pool[-1].sum()


@settings(max_examples=40, deadline=None)
@given(program=steps, shape_a=shapes, shape_b=shapes, seed=st.integers(0, 2**16))
def test_random_programs_match_finite_differences(program, shape_a, shape_b, seed):
    rng = np.random.default_rng(seed)
    a = rg.tensor(rng.uniform(-1.5, 1.5, shape_a), requires_grad=True)
    b = rg.tensor(rng.uniform(-1.5, 1.5, shape_b), requires_grad=True)
    assert gradcheck(lambda x, y: run_program(program, (x, y)), (a, b))


@settings(max_examples=40, deadline=None)
@given(program=steps, seed=st.integers(0, 2**16))
def test_backward_and_autograd_grad_agree(program, seed):
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.5, 1.5, (2, 3))
    a = rg.tensor(values, requires_grad=True)
    run_program(program, (a, a * 2)).backward()
    b = rg.tensor(values, requires_grad=True)
    (grad,) = rg.autograd.grad(run_program(program, (b, b * 2)), b)
    np.testing.assert_allclose(a.grad.numpy(), grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(program=steps, seed=st.integers(0, 2**16))
def test_random_programs_match_pytorch_to_second_order(program, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.5, 1.5, (2, 3))

    def derivatives(lib, x):
        out = run_program(program, (x, x * 0.5 + 1))
        (first,) = lib.autograd.grad(out, x, create_graph=True)
        if not first.requires_grad:
            return out, first, None
        (second,) = lib.autograd.grad(first.sum(), x, allow_unused=True)
        return out, first, second

    ours = derivatives(rg, rg.tensor(values, requires_grad=True))
    theirs = derivatives(torch, torch.tensor(values, requires_grad=True))
    for mine, reference in zip(ours, theirs):
        if reference is None or mine is None:
            assert mine is None or not mine.detach().numpy().any()
            continue
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-10, atol=1e-10)
