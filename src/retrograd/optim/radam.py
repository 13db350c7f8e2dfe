"""RAdam (PyTorch's torch.optim.radam).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .more import RAdam

__all__ = ["RAdam"]
