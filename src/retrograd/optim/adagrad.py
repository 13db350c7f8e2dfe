"""Adagrad (PyTorch's torch.optim.adagrad).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .rmsprop import Adagrad

__all__ = ["Adagrad"]
