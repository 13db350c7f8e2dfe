"""The channel shuffle layer (PyTorch's torch.nn.modules.channelshuffle).

Written elsewhere; this module is where PyTorch programs import them from and the name their
classes show (see Note [Public module names] in retrograd/_public.py)."""

from .simple import ChannelShuffle

__all__ = ["ChannelShuffle"]
