"""`skip_init`: a module whose parameters and buffers are left for the caller to fill."""

from __future__ import annotations

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """`module_cls(*args, **kwargs)` with its parameters and buffers given new memory, for a
    program that will set every value itself.

    PyTorch builds the module on the meta device, so no initialiser runs. retrograd has no
    meta device: the module is built on the CPU (its initialisers do run) and `to_empty` then
    replaces every tensor, so the values are zeros rather than uninitialised memory. As in
    PyTorch, the class must accept a `device` argument.
    """
    from ..modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    device = kwargs.pop("device", "cpu")
    return module_cls(*args, device=device, **kwargs).to_empty(device=device)
