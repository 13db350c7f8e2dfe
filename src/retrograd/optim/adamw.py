"""AdamW (PyTorch's torch.optim.adamw).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .adam import AdamW

__all__ = ["AdamW"]
