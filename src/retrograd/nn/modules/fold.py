"""Fold and Unfold (PyTorch's torch.nn.modules.fold).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .simple import Fold, Unfold

__all__ = ["Fold", "Unfold"]
