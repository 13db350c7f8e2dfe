"""Side-by-side benchmarks of retrograd, PyTorch, HIPS autograd, MyGrad, micrograd and NumPy.

Run every workload for every installed library with `python -m benchmarks` (see
`python -m benchmarks --help`); `docs/benchmarks.md` is regenerated from the run.
This package imports no NumPy at import time, so that thread settings can be pinned first.
"""
