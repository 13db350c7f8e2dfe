"""The profiler's event lists (PyTorch's torch.autograd.profiler_util).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .profiler import EventList, FunctionEvent

__all__ = ["EventList", "FunctionEvent"]
