"""Whole programs as PyTorch users write them, timed with PyTorch and with retrograd.

    python -m benchmarks.programs            # the full run: the "Real programs" section of docs/benchmarks.md
    python -m benchmarks.programs --quick    # a smoke run (small sizes), printed only
    python -m benchmarks.programs --only lstm_lbfgs --repeats 3 --profile   # with cProfile's top entries

Each program is one function of the `torch` module it is given (PyTorch, or retrograd standing
in for it), written in the style of the tutorials and examples users learn from: an LSTMCell
model fitted to sine waves with LBFGS (as PyTorch's time-series example), a physics-informed
network whose loss holds second derivatives taken with `autograd.grad(create_graph=True)`,
and a 30,000-step loop of small scalar tensor ops with backward and a hand-written SGD update.
Whole-run wall time, the two libraries interleaved (PyTorch, retrograd, PyTorch, ...), one
thread for both; the ratio is retrograd's median over PyTorch's. Each run is timed in a fresh
process that imports only its own library, as a user's program does: in one process PyTorch's
~150,000 Python objects would be walked by every full collection the other library's graph
causes (see Note [One library per process]). Both runs start from the same seed and, since
retrograd draws PyTorch's random numbers, the same weights: each program returns its final
loss, and the two must agree to float32 rounding.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .environment import pin_threads, use_repository_sources
from .sections import REAL_PROGRAMS_BEGIN, REAL_PROGRAMS_END

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = REAL_PROGRAMS_BEGIN, REAL_PROGRAMS_END

# name -> (full size, quick size): the knob each program scales with
SIZES = {
    "lstm_lbfgs": ({"series": 8, "length": 60, "steps": 2}, {"series": 4, "length": 30, "steps": 1}),
    "pinn_second_derivatives": ({"points": 256, "hidden": 32, "steps": 150},
                                {"points": 32, "hidden": 8, "steps": 5}),
    "small_ops_loop": ({"steps": 30_000}, {"steps": 300}),
}


def lstm_lbfgs(torch, series: int, length: int, steps: int) -> float:
    """Two stacked LSTMCells and a linear read-out learn to continue sine waves (LBFGS)."""
    nn = torch.nn
    torch.manual_seed(0)

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.LSTMCell(1, 51)
            self.second = nn.LSTMCell(51, 51)
            self.read_out = nn.Linear(51, 1)

        def forward(self, signal):
            rows = signal.size(0)
            h1 = torch.zeros(rows, 51, dtype=torch.double)
            c1 = torch.zeros(rows, 51, dtype=torch.double)
            h2 = torch.zeros(rows, 51, dtype=torch.double)
            c2 = torch.zeros(rows, 51, dtype=torch.double)
            outputs = []
            for value in signal.split(1, dim=1):
                h1, c1 = self.first(value, (h1, c1))
                h2, c2 = self.second(h1, (h2, c2))
                outputs.append(self.read_out(h2))
            return torch.cat(outputs, dim=1)

    shifts = torch.randint(-40, 40, (series, 1)).double()
    waves = torch.sin((torch.arange(length + 1).double().unsqueeze(0) + shifts) / 8.0)
    inputs, targets = waves[:, :-1], waves[:, 1:]
    model = Sequence().double()
    loss_function = nn.MSELoss()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=0.8)
    loss = None
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            value = loss_function(model(inputs), targets)
            value.backward()
            return value

        loss = optimizer.step(closure)
    return loss.item()


def pinn_second_derivatives(torch, points: int, hidden: int, steps: int) -> float:
    """A network u(t, x) fitted to the heat equation u_t = u_xx with u(0, x) = sin(pi x)."""
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                          nn.Linear(hidden, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inside = torch.rand(points, 2, requires_grad=True)
    start_x = torch.rand(points, 1) * 2 - 1
    start = torch.cat([torch.zeros(points, 1), start_x], dim=1)
    loss = None
    for _ in range(steps):
        optimizer.zero_grad()
        u = model(inside)
        (du,) = torch.autograd.grad(u.sum(), inside, create_graph=True)
        u_t, u_x = du[:, 0:1], du[:, 1:2]
        (du_x,) = torch.autograd.grad(u_x.sum(), inside, create_graph=True)
        u_xx = du_x[:, 1:2]
        residual = u_t - u_xx
        initial = model(start) - torch.sin(math.pi * start_x)
        loss = (residual ** 2).mean() + (initial ** 2).mean()
        loss.backward()
        optimizer.step()
    return loss.item()


def small_ops_loop(torch, steps: int) -> float:
    """Scalar tensors, one small graph per step: fit y = w x + b by hand-written SGD."""
    torch.manual_seed(0)
    w = torch.tensor(0.5, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    loss = None
    for step in range(steps):
        x = torch.tensor(float(step % 10) / 10)
        target = 2.0 * x + 1.0
        loss = (w * x + b - target) ** 2
        loss.backward()
        with torch.no_grad():
            w -= 0.05 * w.grad
            b -= 0.05 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return loss.item()


PROGRAMS = {"lstm_lbfgs": lstm_lbfgs, "pinn_second_derivatives": pinn_second_derivatives,
            "small_ops_loop": small_ops_loop}
TITLES = {
    "lstm_lbfgs": "LSTMCell model trained with LBFGS",
    "pinn_second_derivatives": "physics-informed network with second derivatives",
    "small_ops_loop": "30,000-step loop of small tensor ops",
}


# Note [One library per process]
#     A recorded op leaves objects the cyclic garbage collector tracks (the node and its tuple of
#     next nodes); PyTorch's graph lives in C++ and leaves none. A full collection walks every
#     tracked object of the process, so in a process that has also imported PyTorch (about
#     150,000 objects more than retrograd's own 50,000) each full collection of a retrograd run
#     costs three to four times as much: 0.5 s instead of 0.25-0.29 s of the LSTM program, one
#     third of the gap to PyTorch (measured on this machine, 2026-12-02). A program
#     ported to retrograd does not import PyTorch, so each run here is timed in a child process
#     that imports its one library, warms it up on the quick size, then runs the program once.


def _timed_run(name: str, library_name: str, size: dict) -> tuple[float, float]:
    """In a fresh process: (seconds, final loss) of one run of program `name` on `library_name`
    ("torch" or "retrograd"), after a warm-up on the program's quick size."""
    code = (f"from benchmarks.programs import _child; _child({name!r}, {library_name!r}, {size!r})")
    finished = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                              check=False)
    if finished.returncode:
        raise RuntimeError(f"{name} on {library_name} failed:\n{finished.stderr}")
    seconds, loss = json.loads(finished.stdout.strip().splitlines()[-1])
    return seconds, loss


def _child(name: str, library_name: str, size: dict) -> None:
    """The child process of `_timed_run`: prints `[seconds, loss]`."""
    if library_name == "torch":
        import torch as library

        library.set_num_threads(1)
    else:
        use_repository_sources()
        import retrograd as library
    program = PROGRAMS[name]
    program(library, **SIZES[name][1])  # warm up: first-call costs, caches
    started = time.perf_counter()
    loss = program(library, **size)
    print(json.dumps([time.perf_counter() - started, loss]))


def measure(names, quick: bool, repeats: int, profile: bool = False) -> dict:
    """{name: {"torch": [seconds...], "retrograd": [...], "losses": (torch, retrograd)}}."""
    results = {}
    for name in names:
        size = SIZES[name][1 if quick else 0]
        times = {"torch": [], "retrograd": []}
        losses = {}
        for _ in range(repeats):
            for label in ("torch", "retrograd"):
                seconds, losses[label] = _timed_run(name, label, size)
                times[label].append(seconds)
        results[name] = {**times, "losses": (losses["torch"], losses["retrograd"]), "size": size}
        if profile:
            import retrograd

            _profile(PROGRAMS[name], retrograd, size)
    return results


def _profile(program, library, size) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(program, library, **size)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def section(results: dict, repeats: int) -> str:
    lines = [
        BEGIN,
        "",
        "Whole programs as PyTorch users write them (`benchmarks/programs.py`), run once with PyTorch",
        "and once with `torch` being retrograd: wall time of the whole run, median of "
        f"{repeats} interleaved runs, one thread for both, each run in a process of its own that",
        "imports only its library (Note [One library per process] in `benchmarks/programs.py`). Both",
        "start from the same seed and draw the same random numbers, so they compute the same thing;",
        "the final losses agree to rounding. The ratio's spread is that of the runs taken in pairs",
        "(each retrograd run over the PyTorch run just before it): how far one run can stray on",
        "this machine.",
        "",
        "| program | size | PyTorch (s) | retrograd (s) | retrograd / PyTorch | spread of the pairs "
        "| final loss (PyTorch, retrograd) |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, result in results.items():
        theirs, ours = statistics.median(result["torch"]), statistics.median(result["retrograd"])
        size = ", ".join(f"{key} {value:,}" for key, value in result["size"].items())
        loss_torch, loss_ours = result["losses"]
        pairs = [mine / other for other, mine in zip(result["torch"], result["retrograd"], strict=True)]
        lines.append(f"| {TITLES[name]} | {size} | {theirs:.3f} | {ours:.3f} | {ours / theirs:.2f}x | "
                     f"{min(pairs):.2f}-{max(pairs):.2f}x | {loss_torch:.6g}, {loss_ours:.6g} |")
    lines += ["", f"Command: `python -m benchmarks.programs --repeats {repeats}`.", "", END]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; print, write nothing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default=",".join(PROGRAMS), help="comma-separated program names")
    parser.add_argument("--profile", action="store_true", help="cProfile retrograd's run of each")
    arguments = parser.parse_args(argv)
    pin_threads(1)
    names = [name.strip() for name in arguments.only.split(",") if name.strip()]
    results = measure(names, arguments.quick, arguments.repeats, arguments.profile)
    text = section(results, arguments.repeats)
    print(text)
    for name, result in results.items():
        theirs, ours = result["losses"]
        if not math.isclose(theirs, ours, rel_tol=1e-3, abs_tol=1e-6):
            print(f"{name}: final losses differ: PyTorch {theirs!r}, retrograd {ours!r}", file=sys.stderr)
            return 1
    if not arguments.quick and set(names) == set(PROGRAMS):
        from .sections import replace_section

        page = ROOT / "docs" / "benchmarks.md"
        page.write_text(replace_section(page.read_text(), text, BEGIN, END))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
