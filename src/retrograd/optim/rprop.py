"""Rprop (PyTorch's torch.optim.rprop).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .more import Rprop

__all__ = ["Rprop"]
