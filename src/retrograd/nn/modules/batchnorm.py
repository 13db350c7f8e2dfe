"""Batch normalisation layers (PyTorch's torch.nn.modules.batchnorm).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .normalization import BatchNorm1d, BatchNorm2d
from .simple import BatchNorm3d

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]
