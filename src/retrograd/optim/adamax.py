"""Adamax (PyTorch's torch.optim.adamax).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .adam import Adamax

__all__ = ["Adamax"]
