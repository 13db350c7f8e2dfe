"""`retrograd.utils.dlpack`: DLPack capsules, as `torch.utils.dlpack`.

Most code needs only `retrograd.from_dlpack(x)` and the `__dlpack__` protocol that every
tensor has (`torch.from_dlpack(tensor)`, `numpy.from_dlpack(tensor)`); `to_dlpack` makes
the bare capsule that older libraries pass around.
"""

from __future__ import annotations

from .._creation import from_dlpack
from .._tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor: Tensor):
    """A DLPack capsule that shares `tensor`'s memory; it can be consumed once.

    >>> import retrograd
    >>> from retrograd.utils.dlpack import from_dlpack, to_dlpack
    >>> from_dlpack(to_dlpack(retrograd.ones(2)))
    tensor([1., 1.])
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack expects a Tensor, got {type(tensor).__name__}")
    return tensor.__dlpack__()
