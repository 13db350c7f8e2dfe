"""Thread pinning and a description of the machine a run happened on.

`pin_threads` must run before NumPy (or any BLAS user) is imported: the BLAS libraries
read their thread counts from the environment once, when they load.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

# Set on some processors to work around old OpenBLAS builds; they slow a current NumPy.
# The suite never changes them (see docs/benchmarks.md for how the published run unset them).
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

REPOSITORY = Path(__file__).resolve().parent.parent


def pin_threads(threads: int) -> None:
    """Ask every BLAS and OpenMP runtime for `threads` threads (call before importing NumPy)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def use_repository_sources() -> None:
    """Import retrograd from this checkout's src/, whatever copy is installed."""
    source = str(REPOSITORY / "src")
    if source not in sys.path:
        sys.path.insert(0, source)


def limit_loaded_pools(threads: int) -> None:
    """Also cap thread pools that are already loaded (threadpoolctl), where available."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(threads)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def blas_description() -> list[dict]:
    """NumPy's BLAS as threadpoolctl sees it (library, version, threads, kernel)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed", **_numpy_build_blas()}]
    keys = ("user_api", "internal_api", "version", "num_threads", "architecture", "prefix")
    return [{key: pool.get(key) for key in keys} for pool in threadpool_info()]


def _numpy_build_blas() -> dict:
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {"internal_api": blas.get("name"), "version": blas.get("version")}
    except (KeyError, TypeError, AttributeError):  # show_config's layout differs by version
        return {}


def describe(threads: int) -> dict:
    """Everything docs/benchmarks.md prints about the run's machine and settings."""
    import numpy as np

    return {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "threads": threads,
        "thread_variables": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "openblas_overrides": {name: os.environ.get(name) for name in OPENBLAS_OVERRIDES},
        "blas": blas_description(),
    }
