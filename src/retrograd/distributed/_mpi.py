"""The one place that imports mpi4py, lazily: `import retrograd` never starts MPI.

Note [Why MPI, and which MPI]
    retrograd does not ship a transport of its own: collectives, process launch and
    failure handling are MPI's, reached through mpi4py. The `distributed` extra
    installs mpi4py and MPICH from PyPI (the `mpich` wheel). MPICH rather than Open MPI
    because (1) its `mpiexec` (Hydra) runs as root without extra flags, which CI and
    containers need, where Open MPI refuses unless told --allow-run-as-root; (2) it is
    ABI-compatible with the MPIs clusters ship (Intel MPI, Cray MPICH, MVAPICH), so the
    same mpi4py works against the cluster's own library; (3) its shared-memory path
    works out of the box on one machine, with no network interface to configure.
    Nothing here depends on MPICH: mpi4py on a cluster's Open MPI works the same.

Importing `mpi4py.MPI` initialises MPI (MPI_Init_thread). That happens on the first
call that needs it: `init_process_group`, or the launcher's bootstrap.
"""

from __future__ import annotations

import numpy as np

_MPI = None


def is_available() -> bool:
    """Whether mpi4py (and so an MPI library) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def mpi():
    """The `mpi4py.MPI` module; importing it initialises MPI."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise RuntimeError(
                "retrograd.distributed needs mpi4py and an MPI library: "
                "pip install 'retrograd[distributed]' (installs mpi4py and MPICH)"
            ) from error
        _MPI = MPI
    return _MPI


# NumPy dtypes MPI cannot reduce natively are reduced in a wider type.
_REDUCE_AS = {np.dtype(np.float16): np.dtype(np.float32)}
