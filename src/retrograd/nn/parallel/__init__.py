"""Parallel training wrappers: `DistributedDataParallel` (processes on MPI)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
