"""`retrograd.utils.safetensors`: tensors and state dicts in the safetensors format.

safetensors (https://github.com/huggingface/safetensors) is the format in which PyTorch
users share weights: a JSON header and the raw bytes of each tensor, nothing that runs code
when read. This module speaks it with the names of `safetensors.torch`, so moving code or
weights between PyTorch and retrograd changes only the import:

    PyTorch                                      retrograd
    from safetensors.torch import save_file      from retrograd.utils.safetensors import save_file
    save_file(model.state_dict(), "m.safetensors")
    model.load_state_dict(load_file("m.safetensors"))

A file written here loads with `safetensors.torch.load_file` (and the reverse); every dtype
retrograd has (float16/32/64, int8/16/32/64, uint8, bool) keeps its exact bits. Reading and
writing use the `safetensors` package: `pip install 'retrograd[safetensors]'`.

When to use which: `retrograd.save`/`retrograd.load` store whole Python structures (an
optimizer's state_dict with its step counts and hyperparameters, nested dicts and lists) in
an `.npz` file that only retrograd reads; safetensors stores a flat dict of named tensors that
PyTorch, JAX, NumPy and the Hugging Face tools all read. Use safetensors for model weights you
exchange, `retrograd.save` for checkpoints you resume.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from .. import _dtype
from .._device import check_device
from .._tensor import Tensor

__all__ = ["load", "load_file", "load_model", "save", "save_file", "save_model"]

# The dtype names in a safetensors header for every dtype retrograd has.
_FORMAT_NAMES = {
    "float16": "F16", "float32": "F32", "float64": "F64", "uint8": "U8", "int8": "I8",
    "int16": "I16", "int32": "I32", "int64": "I64", "bool": "BOOL",
}
_READABLE = set(_FORMAT_NAMES.values())


def _numpy_backend():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(
            "retrograd.utils.safetensors needs the safetensors package: "
            "pip install 'retrograd[safetensors]' (or pip install safetensors)"
        ) from None
    return safetensors.numpy


# ---------------------------------------------------------------------------
# Saving


def _arrays_to_save(tensors: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """The arrays behind `tensors`, with the checks `safetensors.torch` makes before it writes."""
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors must be a dict of name -> Tensor, got {type(tensors).__name__}")
    arrays = {}
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, got {type(name).__name__} ({name!r})")
        if not isinstance(tensor, Tensor):
            raise ValueError(
                f"Key `{name}` is invalid, expected retrograd.Tensor but received {type(tensor)}"
            )
        if not tensor._data.flags.c_contiguous:
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either "
                "means you are trying to save tensors which are views of each other, in which case save "
                "only the full tensors and slice them again after loading, or simply call "
                "`.contiguous()` on your tensor to pack it before saving."
            )
        arrays[name] = tensor._data
    shared = _shared_groups(arrays)
    if shared:
        listed = ", ".join("{" + ", ".join(repr(name) for name in sorted(group)) + "}" for group in shared)
        raise RuntimeError(
            f"Some tensors share memory, which would be stored twice and come back as separate "
            f"tensors: [{listed}]. Save the model with retrograd.utils.safetensors.save_model, which "
            "stores each shared tensor once, or save only one name of each group."
        )
    return arrays


def _memory(array: np.ndarray) -> tuple[int, int]:
    """The first byte of `array` and one past its last, as addresses."""
    low = high = array.__array_interface__["data"][0]
    for size, step in zip(array.shape, array.strides):
        if step < 0:
            low += (size - 1) * step
        else:
            high += (size - 1) * step
    return low, high + array.itemsize


def _shared_groups(arrays: Mapping[str, np.ndarray]) -> list[set[str]]:
    """Groups of names whose arrays overlap in memory (tied weights), each with two names or more."""
    spans = sorted((*_memory(array), name) for name, array in arrays.items() if array.nbytes)
    groups: list[set[str]] = []
    group: set[str] = set()
    group_end = -1
    for low, high, name in spans:
        if group and low < group_end:
            group.add(name)
            group_end = max(group_end, high)
            continue
        if len(group) > 1:
            groups.append(group)
        group, group_end = {name}, high
    if len(group) > 1:
        groups.append(group)
    return groups


def save(tensors: Mapping[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of a dict of tensors (contiguous, none sharing memory).

    >>> import retrograd
    >>> from retrograd.utils.safetensors import load, save
    >>> load(save({"w": retrograd.ones(2, dtype=retrograd.float16)}))
    {'w': tensor([1., 1.], dtype=retrograd.float16)}
    """
    return _numpy_backend().save(_arrays_to_save(tensors), metadata=metadata)


def save_file(
    tensors: Mapping[str, Tensor], filename: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write a dict of tensors (typically `model.state_dict()`) to a safetensors file.

    `metadata` is a dict of strings stored in the header. As `safetensors.torch.save_file`,
    tensors must be contiguous and must not share memory (use `save_model` for a model with
    tied weights).
    """
    _numpy_backend().save_file(_arrays_to_save(tensors), filename, metadata=metadata)


def save_model(model, filename: str | os.PathLike, metadata: dict[str, str] | None = None,
               force_contiguous: bool = True) -> None:
    """Write `model.state_dict()`, storing each group of tied (shared) tensors once.

    The names left out are recorded in the metadata (`{left_out: kept}`), as
    `safetensors.torch.save_model` does; `load_model` ties them again.
    """
    state = model.state_dict()
    for kept, left_out in _names_to_drop(state, preferred=()).items():
        for name in left_out:
            metadata = {} if metadata is None else metadata
            metadata.setdefault(name, kept)
            del state[name]
    if force_contiguous:
        state = {name: tensor.contiguous() for name, tensor in state.items()}
    try:
        save_file(state, filename, metadata=metadata)
    except ValueError as error:
        raise ValueError(f"{error} Or use save_model(..., force_contiguous=True).") from None


def _names_to_drop(state: Mapping[str, Tensor], preferred) -> dict[str, list[str]]:
    """For each group of names on one memory, the name kept and the names dropped.

    Only a name whose tensor covers the group's whole memory can be kept (a view of part of
    it would lose the rest); the kept name is one of `preferred` when possible, else the first
    in sorted order (the rule `safetensors.torch` follows, so both write the same names).
    """
    arrays = {name: tensor._data for name, tensor in state.items()}
    drops: dict[str, list[str]] = {}
    for group in _shared_groups(arrays):
        low = min(_memory(arrays[name])[0] for name in group)
        high = max(_memory(arrays[name])[1] for name in group)
        complete = sorted(
            name for name in group
            if _memory(arrays[name]) == (low, high) and arrays[name].flags.c_contiguous
        )
        if not complete:
            raise RuntimeError(
                f"Cannot save the tensors {sorted(group)}: they share memory but none covers all of "
                "it, so keeping one would lose data. Save contiguous copies instead."
            )
        kept = next((name for name in complete if name in preferred), complete[0])
        drops[kept] = sorted(name for name in group if name != kept)
    return drops


# ---------------------------------------------------------------------------
# Loading


def _refuse_unknown_dtypes(dtypes: Mapping[str, str]) -> None:
    for name, format_name in dtypes.items():
        if format_name not in _READABLE:
            raise TypeError(
                f"tensor '{name}' is stored as {format_name}, which retrograd has no dtype for (it holds "
                "float16, float32, float64, int8 to int64, uint8 and bool). Convert it before saving, "
                "e.g. in PyTorch: {k: v.float() for k, v in state_dict.items()}"
            )


def _to_tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, Tensor]:
    tensors = {}
    for name, array in arrays.items():
        _dtype.from_numpy_dtype(array.dtype)
        if not array.flags.writeable:
            array = array.copy()
        tensors[name] = Tensor._make(array)
    return tensors


def load(data: bytes) -> dict[str, Tensor]:
    """The dict of tensors in safetensors bytes (as `save` returns them)."""
    backend = _numpy_backend()
    from safetensors import deserialize

    _refuse_unknown_dtypes({name: info["dtype"].upper() for name, info in deserialize(data)})
    return _to_tensors(backend.load(data))


def load_file(filename: str | os.PathLike, device="cpu") -> dict[str, Tensor]:
    """The dict of tensors in a safetensors file, in the file's order of names.

    The file may come from `safetensors.torch.save_file`, from retrograd or from any other
    library; `device` must be the CPU.
    """
    check_device(device)
    backend = _numpy_backend()
    from safetensors import safe_open

    with safe_open(filename, framework="np") as file:
        _refuse_unknown_dtypes({name: file.get_slice(name).get_dtype() for name in file.keys()})  # noqa: SIM118
    return _to_tensors(backend.load_file(filename))


def load_model(
    model, filename: str | os.PathLike, strict: bool = True, device="cpu"
) -> tuple[list[str], list[str]]:
    """Load a safetensors file into `model`, tying shared weights as `save_model` left them.

    Returns `(missing, unexpected)` names; with `strict` either being non-empty is a
    RuntimeError, as `Module.load_state_dict` says it.
    """
    state = load_file(filename, device=device)
    drops = _names_to_drop(model.state_dict(), preferred=set(state))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing, unexpected = list(missing), list(unexpected)
    for left_out in drops.values():
        for name in left_out:
            if name in missing:
                missing.remove(name)
            else:
                unexpected.append(name)
    if strict and (missing or unexpected):
        messages = []
        for label, names in (("Missing", missing), ("Unexpected", unexpected)):
            if names:
                listed = ", ".join(f'"{name}"' for name in names)
                messages.append(f"{label} key(s) in state_dict: {listed}. ")
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(model).__name__}:\n\t" + "\n\t".join(messages)
        )
    return missing, unexpected
