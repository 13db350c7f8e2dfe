"""Per-example gradients with function transforms: `vmap(grad(loss))` against a Python loop
of `grad(loss)` over the examples, retrograd and PyTorch's torch.func side by side.

The workload: a small MLP (32 -> 64 -> 64 -> 10, tanh, cross-entropy, float32) and a batch
of 256 examples; the result is every parameter's gradient for every example. Each
variant's gradients are checked against retrograd's loop before it is timed; variants
are sampled interleaved, one thread, median of the samples.

    python -m benchmarks.func                  # the full run: writes its section of
                                               # docs/benchmarks.md and benchmarks/func_results.json
    python -m benchmarks.func --quick          # a smoke run (batch 8, under build/)
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

from .environment import (
    REPOSITORY,
    cpu_name,
    limit_loaded_pools,
    load_average,
    pin_threads,
    use_repository_sources,
)
from .sections import FUNC_BEGIN, FUNC_END, replace_section

SIZES = (32, 64, 64, 10)


def _problem(batch: int):
    import numpy as np

    rng = np.random.default_rng(0)
    weights = {}
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(SIZES)):
        bound = 1 / np.sqrt(fan_in)
        weights[f"{2 * index}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        weights[f"{2 * index}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    inputs = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    targets = rng.integers(0, SIZES[-1], batch)
    return weights, inputs, targets


def _model(nn):
    layers = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(SIZES) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def _variants(library, problem):
    """name -> step() returning {parameter name: (batch, ...) array of per-example gradients}."""
    weights, inputs, targets = problem
    if library == "retrograd":
        import retrograd as T
        from retrograd.func import functional_call, grad, vmap
    else:
        import torch as T
        from torch.func import functional_call, grad, vmap

        T.set_num_threads(1)
    model = _model(T.nn)
    params = {name: T.tensor(value) for name, value in weights.items()}
    x, y = T.tensor(inputs), T.tensor(targets)

    def loss(p, xi, yi):
        return T.nn.functional.cross_entropy(functional_call(model, p, (xi,)), yi)

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))
    gradient = grad(loss)

    def batched():
        result = per_example(params, x, y)
        return {name: value.numpy() for name, value in result.items()}

    def loop():
        import numpy as np

        rows = [gradient(params, x[index], y[index]) for index in range(len(targets))]
        return {name: np.stack([row[name].numpy() for row in rows]) for name in params}

    return {f"{library} vmap(grad)": batched, f"{library} loop of grad": loop}


def _sample(step, seconds: float) -> float:
    step()
    calls = 0
    start = time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls * 1e3


def run(batch: int, repeats: int, seconds: float, libraries: list[str]) -> dict:
    import numpy as np

    problem = _problem(batch)
    steps = {}
    for library in libraries:
        try:
            steps.update(_variants(library, problem))
        except ImportError:
            continue
    reference = steps["retrograd loop of grad"]()
    for name, step in steps.items():
        result = step()
        for key, expected in reference.items():
            np.testing.assert_allclose(result[key], expected, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name}: {key}")
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(_sample(step, seconds))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {"batch": batch, "sizes": SIZES, "repeats": repeats, "milliseconds": medians}


def table(result: dict) -> str:
    times = result["milliseconds"]
    loop = times.get("retrograd loop of grad")
    fast = times.get("retrograd vmap(grad)")
    theirs = times.get("torch vmap(grad)")
    lines = [
        f"Per-example gradients, MLP {' -> '.join(map(str, result['sizes']))}, batch "
        f"{result['batch']}, float32, 1 thread (median ms per batch):",
        "",
        "| variant | ms | vs retrograd loop | vs torch.func vmap(grad) |",
        "|---|---:|---:|---:|",
    ]
    for name, value in times.items():
        speedup = f"{loop / value:.1f}x" if loop else ""
        relative = f"{value / theirs:.2f}" if theirs else ""
        lines.append(f"| {name} | {value:.2f} | {speedup} | {relative} |")
    if fast and loop:
        lines.append("")
        lines.append(f"retrograd vmap(grad) is {loop / fast:.0f}x faster than its loop"
                     + (f" and {fast / theirs:.2f}x torch.func's time." if theirs else "."))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: batch 8, one short sample")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample-seconds", type=float, default=0.5)
    parser.add_argument("--libraries", default="retrograd,torch")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--markdown", type=Path, help="the file whose section is (re)written")
    options = parser.parse_args(argv)
    pin_threads(1)
    use_repository_sources()
    limit_loaded_pools(1)
    batch, repeats, seconds = options.batch, options.repeats, options.sample_seconds
    folder = REPOSITORY / "build" / "benchmarks-quick"
    if options.quick:
        batch, repeats, seconds = 8, 1, 0.01
    json_path = options.json or (folder / "func_results.json" if options.quick
                                 else REPOSITORY / "benchmarks" / "func_results.json")
    markdown = options.markdown or (folder / "benchmarks.md" if options.quick
                                    else REPOSITORY / "docs" / "benchmarks.md")
    result = run(batch, repeats, seconds, options.libraries.split(","))
    result["machine"] = {"cpu": cpu_name(), "load_average": load_average()}
    print(table(result))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    markdown.parent.mkdir(parents=True, exist_ok=True)
    text = markdown.read_text() if markdown.exists() else "# Benchmarks\n"
    section = "\n".join([FUNC_BEGIN, "", table(result), "",
                          f"Measured with `python -m benchmarks.func` on {result['machine']['cpu']} "
                          f"(load average {_load(result)}).", FUNC_END])
    markdown.write_text(replace_section(text, section, FUNC_BEGIN, FUNC_END))


def _load(result: dict) -> str:
    load = result["machine"]["load_average"]
    return "unknown" if load is None else ", ".join(f"{value:.1f}" for value in load)


if __name__ == "__main__":
    main()
