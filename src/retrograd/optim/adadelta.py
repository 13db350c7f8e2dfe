"""Adadelta (PyTorch's torch.optim.adadelta).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .more import Adadelta

__all__ = ["Adadelta"]
