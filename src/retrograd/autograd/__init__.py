"""Reverse-mode automatic differentiation: `backward` fills `.grad`, `grad` returns gradients."""

from __future__ import annotations

import importlib as _importlib

from . import grad_mode, graph
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

# Note [Two layers in one package]
#     The autograd package holds two layers: below Tensor, what a tensor reads (grad_mode, graph,
#     anomaly), imported here; above it, what works on tensors (function, gradcheck, variable,
#     functional, profiler), which import `retrograd._tensor`. `_tensor` imports this package,
#     so importing the upper layer here would make the two import each other. Its names are bound
#     on first use instead (`__getattr__` below); `retrograd/__init__.py` binds them all once
#     Tensor exists, so after `import retrograd` this namespace is complete. `backward` and
#     `grad` are of the upper layer too (`_passes`): they import Tensor, the creation functions
#     and the engine once, at the top of their module, rather than on each call.
_UPPER_LAYER = {
    "Function": ("function", "Function"),
    "backward": ("_passes", "backward"),
    "grad": ("_passes", "grad"),
    "Variable": ("variable", "Variable"),
    "gradcheck": ("gradcheck", "gradcheck"),
    "gradgradcheck": ("gradcheck", "gradgradcheck"),
    "functional": ("functional", None),
    "profiler": ("profiler", None),
}


def _bind(name: str):
    module_name, attribute = _UPPER_LAYER[name]
    module = _importlib.import_module(f"{__name__}.{module_name}")
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # (importing a submodule binds its name here: the public name wins)
    return value


def __getattr__(name: str):
    if name not in _UPPER_LAYER:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _bind(name)


def _bind_upper_layer() -> None:
    """Bind every name of the upper layer (Note [Two layers in one package])."""
    for name in _UPPER_LAYER:
        _bind(name)


__all__ = [
    "Function",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]

__all__ += ["functional", "grad_mode", "graph", "profiler"]
