"""`retrograd.backends`: the switches PyTorch scripts set for their GPU libraries.

retrograd computes on the CPU with NumPy, so there is no cuDNN, MPS or TF32 to configure. The
namespaces exist so that the usual reproducibility preamble runs unchanged:

>>> import retrograd as torch
>>> torch.backends.cudnn.deterministic = True
>>> torch.backends.cudnn.benchmark = False
>>> torch.backends.mps.is_available()
False

Settings are stored and read back, as in PyTorch built without those libraries; they change
nothing (retrograd's results are deterministic on every run).
"""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
