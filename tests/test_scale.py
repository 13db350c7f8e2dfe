"""Scale without recursion or leaks, and concurrency: deep graphs, long training, threads."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import retrograd as rg


def _chain(length: int) -> tuple[rg.Tensor, rg.Tensor]:
    x = rg.tensor(0.5, dtype=rg.float64, requires_grad=True)
    y = x
    for _ in range(length):
        y = y * 1.0
    return x, y


@pytest.mark.slow
def test_a_million_node_chain_backpropagates():
    x, y = _chain(1_000_000)
    y.backward()
    assert x.grad.item() == 1.0


@pytest.mark.slow
def test_a_million_node_graph_can_be_dropped_without_backward():
    _, y = _chain(1_000_000)
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


def _train(steps: int, probe: list | None = None) -> float:
    rng = np.random.default_rng(0)
    inputs = rg.tensor(rng.standard_normal((16, 4)))
    targets = rg.tensor(rng.standard_normal((16, 1)))
    weight = rg.tensor(rng.standard_normal((1, 4)) * 0.1, requires_grad=True)
    bias = rg.zeros(1, dtype=rg.float64, requires_grad=True)
    loss = None
    for step in range(steps):
        prediction = (inputs * weight).sum(dim=1, keepdim=True) + bias
        loss = ((prediction - targets) ** 2).mean()
        weight.grad = None
        bias.grad = None
        loss.backward()
        with rg.no_grad():
            weight -= 0.05 * weight.grad
            bias -= 0.05 * bias.grad
        if probe is not None and step == 0:
            probe.extend([weakref.ref(prediction), weakref.ref(loss.grad_fn)])
    return loss.item()


def _memory_growth(steps: int) -> int:
    _train(50)
    tracemalloc.start()
    try:
        _train(steps // 10)
        baseline = tracemalloc.get_traced_memory()[0]
        _train(steps)
        return tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()


def test_training_leaves_no_tensor_or_node_behind():
    probe: list = []
    final_loss = _train(200, probe)
    assert final_loss < 2.0
    assert all(reference() is None for reference in probe)


def test_memory_stays_flat_over_2000_iterations():
    assert _memory_growth(2_000) < 64 * 1024


@pytest.mark.slow
def test_memory_stays_flat_over_10000_iterations():
    assert _memory_growth(10_000) < 64 * 1024


def test_the_create_graph_reference_cycle_is_collected_once_grads_are_dropped():
    x = rg.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="reference cycle"):
        (x * x * x).backward(create_graph=True)
    node = weakref.ref(x.grad.grad_fn)
    x.grad = None
    gc.collect()
    assert node() is None


def test_independent_graphs_backpropagate_concurrently_from_8_threads():
    errors: list[str] = []

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(1_000):
            values = rng.uniform(0.5, 2.0, 3)
            x = rg.tensor(values, dtype=rg.float64, requires_grad=True)
            ((x * x).sin() + x.log()).sum().backward()
            expected = np.cos(values**2) * 2 * values + 1 / values
            if not np.allclose(x.grad.numpy(), expected, rtol=1e-12):
                errors.append(f"thread {seed}: {x.grad} != {expected}")
                return
            with rg.no_grad():
                if (x * 2).requires_grad:
                    errors.append(f"thread {seed}: no_grad leaked")
                    return

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
