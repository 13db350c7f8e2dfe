"""Converting convolution weights to a memory format (`channels_last`, `channels_last_3d`).

A retrograd tensor is a NumPy array whose element order follows its shape: there is no
channels-last layout to convert to. The functions keep PyTorch's contract (walk the module
tree, give each matching convolution a fresh copy of its weight, return the module), so a
program written for PyTorch runs unchanged and computes the same numbers.
"""

from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, memory_format, class_names: tuple[str, ...]):
    """Copy the weight of every module below `module` (itself included) that is an instance of
    one of the nn classes `class_names` (those retrograd has)."""
    from .. import modules

    classes = tuple(getattr(modules, name) for name in class_names if hasattr(modules, name))
    pending = [module]
    while pending:
        current = pending.pop()
        if isinstance(current, classes):
            current.weight.data = current.weight.detach().clone(memory_format=memory_format)
        pending.extend(current.children())
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Give every Conv2d / ConvTranspose2d weight in `module` `memory_format`; returns `module`.

    The layout is nominal in retrograd (see the module docstring): the values are unchanged.
    """
    return _convert(module, memory_format, ("Conv2d", "ConvTranspose2d"))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Give every Conv3d / ConvTranspose3d weight in `module` `memory_format`; returns `module`.

    The layout is nominal in retrograd (see the module docstring): the values are unchanged.
    """
    return _convert(module, memory_format, ("Conv3d", "ConvTranspose3d"))
