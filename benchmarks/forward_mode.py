"""Forward mode against reverse mode, retrograd beside PyTorch, in one run.

    python -m benchmarks.forward_mode            # the full run (about a minute)
    python -m benchmarks.forward_mode --quick    # small sizes, one short sample (a smoke run)

A full run rewrites its own section of docs/benchmarks.md (between its markers, the rest of
the file kept), with the machine, its load and the command; `--markdown PATH` writes that
section into another file instead, `--no-markdown` only prints. A quick run writes nowhere
unless given `--markdown`.

Three comparisons, each computed both ways by each library, every result checked against the
other way (and against PyTorch's) before anything is timed:

1. a Hessian-vector product H·v of f(x) = sum(tanh(W x)²): forward-over-reverse (the tangent
   of the gradient of a dual input, `autograd.forward_ad`) versus double backward (the
   gradient of gradᵀv, `create_graph=True`);
2. the Jacobian of a tall function (few inputs, many outputs: x ↦ tanh(W x), W of shape
   m × n with m ≫ n) by `autograd.functional.jacobian` with strategy="forward-mode"
   (one Jacobian-vector product per input) versus "reverse-mode" (one vector-Jacobian
   product per output), both with vectorize=True;
3. the same on a wide function (W of shape n × m).

Reported: the median time per call (ms) over interleaved samples (retrograd forward,
retrograd reverse, PyTorch forward, PyTorch reverse, again...), 1 thread; wall-clock time,
or with `--clock cpu` the CPU time of this process (steadier on a shared machine).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import statistics
import sys
import time
from pathlib import Path

from .environment import REPOSITORY, cpu_name, load_average, pin_threads, use_repository_sources
from .sections import FORWARD_MODE_BEGIN, FORWARD_MODE_END, replace_section


def parse(arguments):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forward_mode",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one short sample")
    parser.add_argument("--repeats", type=int, help="samples per series (default 7, quick 1)")
    parser.add_argument("--sample-seconds", type=float, help="wall time of one sample (default 0.2 s)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/PyTorch threads")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time (default) or this process's CPU time")
    parser.add_argument("--markdown", type=Path,
                        help="the file whose forward-mode section is (re)written "
                             "(default: docs/benchmarks.md for a full run, none for --quick)")
    parser.add_argument("--no-markdown", action="store_true", help="print the table only")
    return parser.parse_args(arguments)


def _problems(quick: bool, np):
    rng = np.random.default_rng(0)
    hvp_size = 16 if quick else 256
    narrow, broad = (4, 32) if quick else (8, 512)
    return {
        "hvp": {"W": rng.normal(0, 1 / np.sqrt(hvp_size), (hvp_size, hvp_size)),
                "x": rng.normal(0, 1, hvp_size), "v": rng.normal(0, 1, hvp_size)},
        "tall": {"W": rng.normal(0, 1 / np.sqrt(narrow), (broad, narrow)), "x": rng.normal(0, 1, narrow)},
        "wide": {"W": rng.normal(0, 1 / np.sqrt(broad), (narrow, broad)), "x": rng.normal(0, 1, broad)},
    }


def _steps(library, problem_set):
    """{(comparison, way): step() -> numpy array} for one library (retrograd or torch)."""
    forward_ad = library.autograd.forward_ad
    functional = library.autograd.functional
    steps = {}

    hvp = problem_set["hvp"]
    weight = library.tensor(hvp["W"])
    x0, v = library.tensor(hvp["x"]), library.tensor(hvp["v"])

    def f(x):
        return (library.tanh(weight @ x) ** 2).sum()

    def forward_over_reverse():
        x = x0.detach().requires_grad_(True)
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(x, v)
            (gradient,) = library.autograd.grad(f(dual), x)
            return forward_ad.unpack_dual(gradient).tangent.numpy()

    def double_backward():
        x = x0.detach().requires_grad_(True)
        (gradient,) = library.autograd.grad(f(x), x, create_graph=True)
        (product,) = library.autograd.grad(gradient, x, v)
        return product.numpy()

    steps[("hvp", "forward")] = forward_over_reverse
    steps[("hvp", "reverse")] = double_backward

    for shape in ("tall", "wide"):
        problem = problem_set[shape]
        matrix, point = library.tensor(problem["W"]), library.tensor(problem["x"])

        def g(x, matrix=matrix):
            return library.tanh(matrix @ x)

        steps[(shape, "forward")] = lambda g=g, point=point: functional.jacobian(
            g, point, vectorize=True, strategy="forward-mode").numpy()
        steps[(shape, "reverse")] = lambda g=g, point=point: functional.jacobian(
            g, point, vectorize=True, strategy="reverse-mode").numpy()
    return steps


def _time(step, seconds: float, clock=time.perf_counter) -> float:
    """Time per call (ms) of one sample lasting about `seconds` on `clock`."""
    gc.collect()
    calls = 0
    start = clock()
    while True:
        step()
        calls += 1
        elapsed = clock() - start
        if elapsed >= seconds:
            return elapsed / calls * 1e3


def run(options) -> dict:
    import numpy as np

    import retrograd

    libraries = {"retrograd": retrograd}
    try:
        import torch

        libraries["PyTorch"] = torch  # float64 throughout: the problems are float64 arrays
    except ImportError:
        torch = None
    threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(options.threads)
    try:
        return _measure(options, libraries, np)
    finally:
        if torch is not None:
            torch.set_num_threads(threads)


def _measure(options, libraries: dict, np):
    problems = _problems(options.quick, np)
    steps = {name: _steps(library, problems) for name, library in libraries.items()}
    # Check: both ways agree within each library, and each library agrees with retrograd.
    for name, library_steps in steps.items():
        for comparison in ("hvp", "tall", "wide"):
            forward = library_steps[(comparison, "forward")]()
            reverse = library_steps[(comparison, "reverse")]()
            np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} {comparison}: forward and reverse differ")
            expected = steps["retrograd"][(comparison, "reverse")]()
            np.testing.assert_allclose(forward, expected, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} {comparison}: differs from retrograd")
    clock = time.process_time if getattr(options, "clock", "wall") == "cpu" else time.perf_counter
    repeats = options.repeats or (1 if options.quick else 7)
    seconds = options.sample_seconds or (0.01 if options.quick else 0.2)
    samples: dict = {(name, *step_key): [] for name, library_steps in steps.items()
                     for step_key in library_steps}
    for _ in range(repeats):
        for name, library_steps in steps.items():
            for step_key, step in library_steps.items():
                samples[(name, *step_key)].append(_time(step, seconds, clock))
    return {key: statistics.median(values) for key, values in samples.items()}, problems


_TITLES = {
    "hvp": "H·v, f(x) = sum(tanh(Wx)²), n = {n}",
    "tall": "Jacobian {m}×{n} (tall): tanh(Wx)",
    "wide": "Jacobian {m}×{n} (wide): tanh(Wx)",
}
_WAYS = {"hvp": ("forward-over-reverse", "double backward"),
         "tall": ("forward-mode", "reverse-mode"), "wide": ("forward-mode", "reverse-mode")}


def table(medians: dict, problems: dict) -> str:
    names = sorted({key[0] for key in medians}, key=lambda name: name != "retrograd")
    lines = ["| computation | way | " + " | ".join(f"{name} (ms)" for name in names)
             + (" | retrograd / PyTorch |" if "PyTorch" in names else " |"),
             "|---|---|" + "---|" * len(names) + ("---|" if "PyTorch" in names else "")]
    for comparison in ("hvp", "tall", "wide"):
        m, n = problems[comparison]["W"].shape
        title = _TITLES[comparison].format(m=m, n=n)
        for way, label in zip(("forward", "reverse"), _WAYS[comparison]):
            cells = [f"{medians[(name, comparison, way)]:.3f}" for name in names]
            ratio = ""
            if "PyTorch" in names:
                mine, theirs = medians[("retrograd", comparison, way)], medians[("PyTorch", comparison, way)]
                ratio = f" {mine / theirs:.1f}× |"
            lines.append(f"| {title} | {label} | " + " | ".join(cells) + " |" + ratio)
            title = ""
    return "\n".join(lines)


def command_line(arguments) -> str:
    """The command that reproduces a run, as written into the section."""
    shown = [argument for argument in arguments if argument != "--no-markdown"]
    markdown = [index for index, argument in enumerate(shown) if argument == "--markdown"]
    for index in reversed(markdown):  # where the section went is no setting of the run
        del shown[index:index + 2]
    shown = [argument for argument in shown if not argument.startswith("--markdown=")]
    return " ".join(["python -m benchmarks.forward_mode", *shown])


def section(medians: dict, problems: dict, options, arguments, load_before, load_after) -> str:
    """The docs/benchmarks.md section of one run: the table, then how it was measured."""
    import platform

    import numpy as np

    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    try:
        import torch

        versions.append(f"PyTorch {torch.__version__}")
    except ImportError:
        pass

    def load(values) -> str:
        return "unknown" if values is None else ", ".join(f"{value:.2f}" for value in values)

    cpus = os.cpu_count()
    busiest = max(value[0] for value in (load_before, load_after) if value is not None) \
        if load_before is not None or load_after is not None else None
    lines = [
        FORWARD_MODE_BEGIN, "",
        "Forward mode (dual tensors) against reverse mode, each computation both ways, retrograd "
        "beside PyTorch in one interleaved run (float64; median time per call; every result "
        "checked against the other way and against PyTorch's before timing).",
        "",
        table(medians, problems),
        "",
        f"- command: `{command_line(arguments)}` (from the repository root; "
        "`PYTHONPATH=src` in a worktree)",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu_name()} ({cpus} logical CPUs), {platform.platform()}",
        f"- load average (1, 5, 15 min) before / after: {load(load_before)} / {load(load_after)}",
        f"- {', '.join(versions)}; threads: {options.threads}; clock: {options.clock}; "
        f"samples per series: {options.repeats or (1 if options.quick else 7)} of "
        f"{options.sample_seconds or (0.01 if options.quick else 0.2)} s"
        + ("; quick (small sizes)" if options.quick else ""),
    ]
    if busiest is not None and cpus and busiest > 0.5 * cpus:
        lines.append(f"- warning: the machine was shared (load average up to {busiest:.1f} on {cpus} "
                     "CPUs): absolute times are inflated and noisy; the ratios, sampled "
                     "interleaved, are the result.")
    lines.append(FORWARD_MODE_END)
    return "\n".join(lines)


def main(arguments=None) -> int:
    arguments = list(sys.argv[1:] if arguments is None else arguments)
    options = parse(arguments)
    pin_threads(options.threads)
    use_repository_sources()
    load_before = load_average()
    medians, problems = run(options)
    load_after = load_average()
    print(table(medians, problems))
    markdown = options.markdown
    if markdown is None and not options.quick:
        markdown = REPOSITORY / "docs" / "benchmarks.md"
    if markdown is not None and not options.no_markdown:
        text = markdown.read_text() if markdown.exists() else "# Benchmarks\n"
        new = section(medians, problems, options, arguments, load_before, load_after)
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(replace_section(text, new, FORWARD_MODE_BEGIN, FORWARD_MODE_END))
        print(f"wrote the forward-mode section of {markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
