"""Running a module on several devices or processes: `DataParallel` (one CPU process: it
wraps the module) and `DistributedDataParallel` (processes on MPI)."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
