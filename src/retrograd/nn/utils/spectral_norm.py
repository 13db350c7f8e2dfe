"""The hook-based spectral normalisation (`nn.utils.spectral_norm`; PyTorch now prefers
`nn.utils.parametrizations.spectral_norm`).

`spectral_norm(module)` renames the parameter `weight` to `weight_orig`, keeps the power
iteration's vectors as buffers `weight_u` and `weight_v`, and a forward pre-hook sets
`module.weight = weight_orig / sigma` before every call, refining `u` and `v` first in
training mode.
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd import grad_mode
from .. import functional as F
from ..modules.module import Module
from ..parameter import Parameter

__all__ = [
    "SpectralNorm",
    "SpectralNormLoadStateDictPreHook",
    "SpectralNormStateDictHook",
    "remove_spectral_norm",
    "spectral_norm",
]


class SpectralNorm:
    """The forward pre-hook of one normalised tensor, and the arithmetic it needs."""

    _version = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """`dim` first, the remaining dimensions flattened into the columns."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """`weight_orig / sigma`, sigma = u . (W v), after refining u and v in place if asked."""
        weight = getattr(module, self.name + "_orig")
        left = getattr(module, self.name + "_u")
        right = getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with grad_mode.no_grad():
                for _ in range(self.n_power_iterations):
                    F.normalize(matrix.t().mv(left), dim=0, eps=self.eps, out=right)
                    F.normalize(matrix.mv(right), dim=0, eps=self.eps, out=left)
            # The buffers change in place on the next call; the graph keeps these copies.
            left, right = left.clone(), right.clone()
        sigma = left.dot(matrix.mv(right))
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Put back one parameter `<name>` holding the current normalised weight."""
        with grad_mode.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        hook = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with grad_mode.no_grad():
            matrix = hook.reshape_weight_to_matrix(weight)
            height, width = matrix.shape
            left = F.normalize(weight.new_empty(height).normal_(0, 1), dim=0, eps=hook.eps)
            right = F.normalize(weight.new_empty(width).normal_(0, 1), dim=0, eps=hook.eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", left)
        module.register_buffer(name + "_v", right)
        module.register_forward_pre_hook(hook)
        module.register_state_dict_post_hook(SpectralNormStateDictHook(hook))
        module.register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(hook))
        return hook


class SpectralNormStateDictHook:
    """Kept on the module so that `remove_spectral_norm` finds and removes it as PyTorch's does.

    PyTorch records a format version in the state dict's metadata here; retrograd's state
    dicts carry no metadata, so it records nothing.
    """

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata) -> None:
        return None


class SpectralNormLoadStateDictPreHook:
    """Accepts the state dicts this module saves (`<name>_orig`, `<name>_u`, `<name>_v`).

    PyTorch also converts checkpoints of its format version 0 (which stored `<name>` and no
    `<name>_v`); retrograd never wrote that format, so such a dict loads with `<name>_v`
    missing.
    """

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs) -> None:
        return None


def _transposed_convolution_types() -> tuple:
    """The transposed convolutions retrograd has (their output channels are dimension 1)."""
    from .. import modules

    names = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
    return tuple(getattr(modules, name) for name in names if hasattr(modules, name))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide `module.<name>` by its spectral norm, estimated by power iteration, before every call.

    `dim` is the output dimension: 1 for transposed convolutions, 0 otherwise.
    """
    if dim is None:
        dim = 1 if isinstance(module, _transposed_convolution_types()) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo `spectral_norm`: `<name>` becomes one parameter with the current normalised value."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for hooks, kind in ((module._state_dict_hooks, SpectralNormStateDictHook),
                        (module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook)):
        for key, hook in hooks.items():
            if isinstance(hook, kind) and hook.fn.name == name:
                del hooks[key]
                break
    return module
