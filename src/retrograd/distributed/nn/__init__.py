"""Collectives that autograd differentiates through (`torch.distributed.nn`)."""

from . import functional
from .functional import all_gather, all_reduce

__all__ = ["all_gather", "all_reduce", "functional"]
