"""The hook-based weight normalisation (`nn.utils.weight_norm`, deprecated by PyTorch in favour
of `nn.utils.parametrizations.weight_norm`), and the norm both forms share.

`weight_norm(module)` replaces the parameter `weight` by `weight_g` (the norm of each
output slice) and `weight_v` (the direction), and a forward pre-hook recomputes
`module.weight = weight_g * weight_v / ||weight_v||` before every call.
"""

from __future__ import annotations

import warnings

from ..._tensor import Tensor
from ...ops.nn.weight_norm import fused_weight_norm, uses_the_fused_node
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The `pow`-norm of `v` over every dimension but `dim`, with `dim` kept (size 1 elsewhere);
    `dim=-1` means the norm of the whole tensor (a 0-d tensor), as in PyTorch."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.ndim
    others = [d for d in range(v.ndim) if d != dim]
    if not others:
        return v.abs() if pow != 0 else (v != 0).to(v.dtype)
    return v.norm(pow, dim=others, keepdim=True)


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """g * v / ||v||, the norm taken as `norm_except_dim(v, 2, dim)`: one node,
    WeightNormInterfaceBackward0, where PyTorch has one (`dim` the first or the last dim)."""
    if uses_the_fused_node(v, dim):
        return fused_weight_norm(v, g, dim)
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes `module.<name>` from `<name>_g` and `<name>_v`."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        magnitude = getattr(module, self.name + "_g")
        direction = getattr(module, self.name + "_v")
        return _weight_norm(direction, magnitude, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of "
            "`torch.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        hook = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, hook.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, hook.compute_weight(module))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module: Module) -> None:
        """Put back one parameter `<name>` holding the current weight."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize `module.<name>` as `<name>_g * <name>_v / ||<name>_v||` (hook-based).

    `dim` is the dimension kept by the norm (0: one magnitude per output); None normalises
    the whole tensor. Deprecated by PyTorch: prefer `parametrizations.weight_norm`.
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo `weight_norm`: `<name>` becomes one parameter again, with its current value."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
