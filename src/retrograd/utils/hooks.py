"""`retrograd.utils.hooks`: the handle `register_*hook` returns (PyTorch's torch.utils.hooks).

Written in autograd/graph.py; this module is where PyTorch programs import it from and the name
it shows (see Note [Public module names] in retrograd/_public.py)."""

from ..autograd.graph import RemovableHandle

__all__ = ["RemovableHandle"]
