"""`DataParallel`: PyTorch's single-process multi-GPU wrapper, as it behaves on a CPU.

PyTorch's DataParallel splits each batch over the visible GPUs; without any it simply calls
the wrapped module. retrograd computes on the CPU, so it always does the latter. Programs
that wrap their model (`model = nn.DataParallel(model)`) run unchanged: the wrapped module is
`model.module`, and the state dict's keys start with `module.` as in PyTorch.
"""

from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _check_devices(device_ids, output_device) -> None:
    from ..._creation import _check_device

    for device in [*(device_ids or ()), *([] if output_device is None else [output_device])]:
        _check_device(device if not isinstance(device, int) else f"cuda:{device}")


class DataParallel(Module):
    """Wraps `module`; on the CPU its forward is the module's forward."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        _check_devices(device_ids, output_device)
        self.module = module
        self.device_ids = []  # no GPU: PyTorch keeps only these two attributes then

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """The functional form of DataParallel: `module(*inputs, **module_kwargs)` on the CPU."""
    _check_devices(device_ids, output_device)
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
