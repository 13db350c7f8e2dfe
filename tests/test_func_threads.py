"""The transforms' state is per thread, as PyTorch's functorch interpreter stack is
thread-local: a vmap (or grad) running in one thread is not seen by another thread's ops."""

from __future__ import annotations

import threading

import numpy as np
import torch

import retrograd
from retrograd._vmap_state import vmap_state
from retrograd.func import grad, vmap


def _run_in_threads(*targets):
    errors = []

    def guarded(target):
        def run():
            try:
                target()
            except BaseException as error:  # reported by the main thread
                errors.append(error)
        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def test_a_vmap_in_one_thread_is_invisible_to_another():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def batched(x):
        inside.set()
        assert checked.wait(timeout=30)
        return x.sin() * 2

    def first():
        seen["vmap"] = vmap(batched)(retrograd.arange(6.0).reshape(3, 2))

    def second():
        assert inside.wait(timeout=30)
        try:
            seen["depth"] = vmap_state.depth
            # randomness='error' (vmap's default) refuses random draws inside vmap; this
            # thread is not inside one
            seen["random"] = retrograd.randn(2)
            seen["plain"] = retrograd.tensor([1.0, 2.0]).exp()
        finally:
            checked.set()

    _run_in_threads(first, second)
    assert seen["depth"] == 0
    assert tuple(seen["random"].shape) == (2,)
    np.testing.assert_allclose(seen["plain"].numpy(), np.exp([1.0, 2.0]))
    np.testing.assert_allclose(seen["vmap"].numpy(), np.sin(np.arange(6.0).reshape(3, 2)) * 2)
    assert vmap_state.depth == 0


def test_two_threads_vmap_grad_at_once_match_torch():
    barrier = threading.Barrier(2)
    results = {}

    def loss(w, x):
        barrier.wait(timeout=30)  # both threads are inside their transforms here
        return ((x * w).tanh() ** 2).sum()

    rng = np.random.default_rng(0)
    w = rng.standard_normal(4)
    batches = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal((5, 4))}

    def worker(name):
        def run():
            results[name] = vmap(grad(loss), in_dims=(None, 0))(
                retrograd.tensor(w), retrograd.tensor(batches[name]))
        return run

    # the function runs once per vmap (batched), so one barrier crossing per thread
    _run_in_threads(worker("a"), worker("b"))
    for name, x in batches.items():
        expected = torch.func.vmap(torch.func.grad(lambda w, x: ((x * w).tanh() ** 2).sum()),
                                   in_dims=(None, 0))(torch.tensor(w), torch.tensor(x))
        assert tuple(results[name].shape) == tuple(expected.shape)
        np.testing.assert_allclose(results[name].numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_two_threads_jacfwd_of_jacfwd_at_once_match_torch():
    """Forward-mode levels are per thread as functorch's: concurrent jvps do not mix."""
    barrier = threading.Barrier(2)
    results = {}
    rng = np.random.default_rng(1)
    points = {"a": rng.standard_normal(3), "b": rng.standard_normal(4)}

    def f(x):
        barrier.wait(timeout=30)  # both threads are inside their dual levels here
        return (x.sin() * x.exp()).sum() * x

    def worker(name):
        def run():
            results[name] = rfunc_jacfwd(rfunc_jacfwd(f))(retrograd.tensor(points[name]))
        return run

    from retrograd.func import jacfwd as rfunc_jacfwd

    _run_in_threads(worker("a"), worker("b"))
    for name, point in points.items():
        expected = torch.func.jacfwd(torch.func.jacfwd(
            lambda x: (x.sin() * x.exp()).sum() * x))(torch.tensor(point))
        np.testing.assert_allclose(results[name].numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_a_dual_level_is_process_wide_as_in_pytorch():
    import retrograd.autograd.forward_ad as fwAD

    opened = threading.Event()
    done = threading.Event()
    seen = {}

    def holder():
        with fwAD.dual_level():
            opened.set()
            assert done.wait(timeout=30)

    def other():
        assert opened.wait(timeout=30)
        try:
            try:
                fwAD.enter_dual_level()
            except RuntimeError as error:
                seen["error"] = str(error)
            seen["active"] = fwAD.is_active()  # this thread opened no level
            # its jvps still work: they open levels of this thread
            seen["jvp"] = rfunc_jvp(lambda x: x ** 2, (retrograd.tensor(3.0),), (retrograd.tensor(1.0),))
        finally:
            done.set()

    from retrograd.func import jvp as rfunc_jvp

    _run_in_threads(holder, other)
    assert seen["error"] == "Nested forward mode AD is not supported at the moment"
    assert seen["active"] is False
    assert float(seen["jvp"][1]) == 6.0
    with fwAD.dual_level() as level:  # released when the holder exited
        assert level == 0
