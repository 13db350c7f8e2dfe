"""Pixel shuffle layers (PyTorch's torch.nn.modules.pixelshuffle).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .simple import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
