"""Test-suite settings that must be in place before NumPy is imported."""

import os

# Small matrix products are much slower with several BLAS threads on a shared 2-core
# machine; the tests measure correctness, never speed, so one thread is the right setting.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
