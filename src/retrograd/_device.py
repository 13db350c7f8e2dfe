"""Devices: `retrograd.device`, the default device, and the one place that refuses a GPU.

retrograd computes on the CPU with NumPy. A `device` object can name any device type that
PyTorch knows (so `torch.device("cuda")` in a script still runs), but making a tensor or
moving one anywhere other than the CPU raises `NoDeviceError`, whose message says that
this build computes on the CPU and how to write device-independent code.

Note [Why NoDeviceError is two exceptions]
    PyTorch built without CUDA raises AssertionError ("Torch not compiled with CUDA
    enabled") for `.cuda()`, `.to("cuda")` and `device="cuda"`; scripts that guard GPU code
    catch that. retrograd has always raised RuntimeError for an unavailable device, and
    users of `except RuntimeError` should keep working. The error derives from both, so
    either `except` clause catches it.
"""

from __future__ import annotations

import builtins

__all__ = ["device", "get_default_device", "set_default_device"]

# Every device type PyTorch 2.13 accepts in a device string, in the order its error lists them.
_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


class NoDeviceError(AssertionError, RuntimeError):
    """A device other than the CPU was asked for (see Note [Why NoDeviceError is two exceptions])."""


def _no_device_message(requested) -> str:
    name = str(requested)
    kind = name.partition(":")[0]
    backend = "CUDA (GPU)" if kind == "cuda" else f"'{kind}'"
    return (
        f"retrograd computes on the CPU with NumPy: this build has no {backend} backend, so "
        f"device '{name}' is not available (retrograd.cuda.is_available() is False). Leave the "
        "device out, use 'cpu', or choose it with "
        "`device = 'cuda' if retrograd.cuda.is_available() else 'cpu'`."
    )


class device:
    """Where a tensor's data lives, as `retrograd.device("cpu")` or `device("cuda", 0)`.

    Every device type PyTorch names can be described; retrograd computes on the CPU, so a
    tensor can only be placed on `device("cpu")`. Used as a context manager, a device
    becomes the default device of the tensors created inside the block.

    >>> import retrograd
    >>> retrograd.device("cuda:1")
    device(type='cuda', index=1)
    >>> retrograd.zeros(2).device
    device(type='cpu')
    """

    __slots__ = ("_previous", "index", "type")

    def __init__(self, type: str | device | builtins.int, index: builtins.int | None = None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device() received an invalid combination of arguments")
            type, index = type.type, type.index
        elif isinstance(type, builtins.int) and not isinstance(type, builtins.bool):
            # PyTorch reads a bare number as an index of the current accelerator.
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            kind = builtins.type(type).__name__
            raise TypeError(f"device() received an invalid combination of arguments - got ({kind})")
        name, colon, number = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: {type}"
            )
        if colon:
            if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            if index is not None:
                raise RuntimeError(
                    "type (string) must not include an index because index was passed explicitly: "
                    f"{type}"
                )
            index = builtins.int(number)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = name
        self.index = index
        self._previous = None

    def __eq__(self, other) -> bool:
        # As PyTorch: a device equals only a device (device("cpu") == "cpu" is False).
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> builtins.int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self) -> device:
        self._previous = get_default_device()
        set_default_device(self)
        return self

    def __exit__(self, *exc_info) -> None:
        set_default_device(self._previous)


CPU = device("cpu")


def check_device(requested) -> None:
    """Accept None and the CPU (in any spelling); refuse every other device with NoDeviceError."""
    if requested is None:
        return
    if isinstance(requested, builtins.int) and not isinstance(requested, builtins.bool):
        requested = f"cuda:{requested}"  # .to(0) and device=0 mean the first GPU in PyTorch
    resolved = requested if isinstance(requested, device) else device(requested)
    if resolved.type != "cpu":
        raise NoDeviceError(_no_device_message(resolved))


def get_default_device() -> device:
    """The device new tensors are made on: always `device(type='cpu')` in retrograd."""
    return CPU


def set_default_device(device) -> None:
    """Make `device` the default for new tensors; only the CPU (or None, which resets) is accepted."""
    check_device(device)
