"""`retrograd.save` / `retrograd.load`: state dicts in a file that cannot run code when read.

The file is a NumPy `.npz` archive (an uncompressed zip of `.npy` arrays): one array per
tensor, plus `__retrograd__.npy`, a JSON description of the saved object's structure
(dicts, lists, tuples, numbers, strings, None, and which array each tensor is). Nothing
is ever unpickled.

Note [Reading untrusted files]
    `load` treats the file as hostile. It opens the zip itself and, before reading a
    member, checks that it is stored uncompressed, that its size fits in the file, that
    its `.npy` header (parsed by NumPy's literal-only parser) describes a plain dtype with
    no Python objects, and that the header's shape matches the member's size exactly. So
    a header that claims a huge array cannot make `load` allocate it, a truncated file is
    reported, and a pickle (PyTorch's own format included) is refused, never executed.
    Before any member is read, the zip directory must name each member once and its members
    must claim no more bytes in all than the file holds: the work `load` does is bounded by
    the file's size (a directory that names one large member thousands of times would
    otherwise have it read thousands of times). A member read as a tensor must have a dtype
    retrograd's tensors hold, in the machine's byte order; anything else is refused with
    the member's name.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import numpy.lib.format as npy_format

from ._tensor import Tensor

__all__ = ["load", "save"]

_STRUCTURE = "__retrograd__"
_FORMAT = "retrograd.save"
_VERSION = 1
_ARRAY_NAME = re.compile(r"^t[0-9]{1,9}$")
_MAPPING_TYPES = {"dict": dict, "OrderedDict": OrderedDict, "Counter": Counter}


# ---------------------------------------------------------------------------
# Saving


class _Encoder:
    """Turns an object into a JSON-able description plus a list of arrays."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self._names: dict[int, str] = {}

    def _array_name(self, value, array: np.ndarray) -> str:
        name = self._names.get(id(value))
        if name is None:
            name = f"t{len(self.arrays)}"
            self._names[id(value)] = name
            self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
        return name

    def encode(self, value):
        from .nn.parameter import Parameter

        if isinstance(value, Tensor):
            return {
                "tensor": self._array_name(value, value._data),
                "requires_grad": bool(value.requires_grad),
                "parameter": isinstance(value, Parameter),
            }
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError("retrograd.save cannot store NumPy arrays of Python objects")
            return {"ndarray": self._array_name(value, value)}
        if value is None or isinstance(value, bool | str):
            return {"value": value}
        if isinstance(value, int | np.integer):
            return {"value": int(value)}
        if isinstance(value, float | np.floating):
            value = float(value)
            return {"float": repr(value)} if not math.isfinite(value) else {"value": value}
        if isinstance(value, dict):
            kind = next(
                (name for name, mapping in reversed(_MAPPING_TYPES.items()) if type(value) is mapping),
                "dict",
            )
            return {kind: [[self.encode(key), self.encode(item)] for key, item in value.items()]}
        if isinstance(value, list | tuple):
            return {"list" if isinstance(value, list) else "tuple": [self.encode(item) for item in value]}
        from ._dtype import dtype

        if isinstance(value, dtype):
            return {"dtype": value.name}
        raise TypeError(
            f"retrograd.save cannot store an object of type {type(value).__name__}: it stores tensors, "
            "NumPy arrays, numbers, strings, None, dtypes and dicts, lists and tuples of them (save a "
            "model's or optimizer's state_dict(), not the object itself)"
        )


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True) -> None:
    """Write `obj` (typically a state dict) to the path or binary file `f`.

    >>> import retrograd, io
    >>> buffer = io.BytesIO()
    >>> retrograd.save({"w": retrograd.ones(2), "step": 3}, buffer)
    >>> _ = buffer.seek(0)
    >>> retrograd.load(buffer)
    {'w': tensor([1., 1.]), 'step': 3}
    """
    if pickle_module is not None:
        raise ValueError("retrograd.save never pickles; pickle_module is not supported")
    encoder = _Encoder()
    structure = {"format": _FORMAT, "version": _VERSION, "root": encoder.encode(obj)}
    text = json.dumps(structure).encode("utf-8")
    arrays = {_STRUCTURE: np.frombuffer(text, dtype=np.uint8), **encoder.arrays}
    if isinstance(f, str | os.PathLike):
        with open(f, "wb") as file:
            np.savez(file, **arrays)
    else:
        np.savez(f, **arrays)


# ---------------------------------------------------------------------------
# Loading


class _Refused(RuntimeError):
    pass


def _describe(f) -> str:
    return f"'{os.fspath(f)}'" if isinstance(f, str | os.PathLike) else "the given file"


def _read_bytes(f) -> bytes:
    if isinstance(f, str | os.PathLike):
        with open(f, "rb") as file:
            return file.read()
    if not hasattr(f, "read"):
        raise TypeError(f"retrograd.load expects a path or a binary file, got {type(f).__name__}")
    data = f.read()
    if not isinstance(data, bytes):
        raise TypeError("retrograd.load needs a file opened in binary mode ('rb')")
    return data


def _check_not_pickle(data: bytes) -> None:
    if data[:1] == b"\x80" or data[:1] in (b"(", b"]", b"}", b"c"):
        raise _Refused(
            "it is a pickle file; retrograd.load never unpickles, because unpickling can run "
            "arbitrary code. Re-save the data with retrograd.save"
        )
    if not data.startswith(b"PK"):
        raise _Refused("it is not a retrograd file (not an .npz archive)")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int) -> np.ndarray:
    """One `.npy` member, validated before anything is allocated (Note [Reading untrusted files])."""
    if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
        raise _Refused(f"member {info.filename} is compressed; retrograd files store arrays uncompressed")
    if info.file_size > file_size:
        raise _Refused(f"member {info.filename} claims more bytes than the file holds (truncated?)")
    with archive.open(info) as member:
        try:
            major, _ = npy_format.read_magic(member)
            read_header = npy_format.read_array_header_1_0 if major == 1 else npy_format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(member, max_header_size=10_000)
        except (ValueError, SyntaxError) as error:
            raise _Refused(f"member {info.filename} is not a valid .npy array ({error})") from None
        if dtype.hasobject:
            raise _Refused(
                f"member {info.filename} holds Python objects, which could only be read by unpickling"
            )
        if dtype.itemsize == 0:
            raise _Refused(f"member {info.filename} has elements of size zero ({dtype.str})")
        count = math.prod(shape)
        header_size = member.tell()
        if header_size + count * dtype.itemsize != info.file_size:
            raise _Refused(
                f"member {info.filename} is corrupt: its header describes {count * dtype.itemsize} "
                f"bytes of data but it holds {info.file_size - header_size}"
            )
        data = member.read(count * dtype.itemsize)
    array = np.frombuffer(data, dtype=dtype).copy()
    return array.reshape(shape, order="F" if fortran_order else "C")


def _read_archive(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise _Refused(f"it is not a valid archive, or it is truncated ({error})") from None
    names = [info.filename for info in infos]
    _check_directory(infos, len(data))
    if f"{_STRUCTURE}.npy" not in names:
        if "data.pkl" in {name.rsplit("/", 1)[-1] for name in names}:
            raise _Refused(
                "it is a PyTorch checkpoint (a pickle inside a zip); retrograd.load never unpickles. "
                "Convert it in PyTorch with numpy arrays and retrograd.save, or load the arrays yourself"
            )
        raise _Refused("it is not a retrograd file (no structure record)")
    arrays = {}
    try:
        for info in infos:
            stem = info.filename.removesuffix(".npy")
            if not info.filename.endswith(".npy") or not (stem == _STRUCTURE or _ARRAY_NAME.match(stem)):
                raise _Refused(f"it holds an unexpected member {info.filename!r}")
            arrays[stem] = _read_member(archive, info, len(data))
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _Refused(f"it is truncated or corrupt ({error})") from None
    record = arrays.pop(_STRUCTURE)
    try:
        structure = json.loads(record.astype(np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise _Refused(f"its structure record is corrupt ({error})") from None
    if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
        raise _Refused("it is not a retrograd file (unknown structure record)")
    if structure.get("version") != _VERSION:
        raise _Refused(f"it was written by a newer format version ({structure.get('version')})")
    return structure, arrays


def _check_directory(infos: list[zipfile.ZipInfo], file_size: int) -> None:
    """Each member named once, all of them within the file (Note [Reading untrusted files])."""
    seen = set()
    claimed = 0
    for info in infos:
        if info.filename in seen:
            raise _Refused(f"its zip directory names the member {info.filename!r} more than once")
        seen.add(info.filename)
        claimed += info.compress_size
    if claimed > file_size:
        raise _Refused(
            f"its zip directory claims {claimed} bytes of members but the file holds {file_size} "
            "(members overlap, or the file is truncated)"
        )


def _tensor_dtype_error(name: str, array: np.ndarray) -> str | None:
    from . import _dtype

    if array.dtype in _dtype._BY_NUMPY:
        return None
    supported = ", ".join(str(dtype) for dtype in _dtype._BY_NUMPY.values())
    return (
        f"member {name}.npy holds {array.dtype.str} data ({array.dtype}), which a retrograd tensor "
        f"cannot hold (tensors are {supported}, in the machine's byte order)"
    )


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays
        self._tensors: dict[str, Tensor] = {}

    def _array(self, name) -> np.ndarray:
        if not isinstance(name, str) or name not in self.arrays:
            raise _Refused(f"its structure refers to a missing array {name!r}")
        return self.arrays[name]

    def decode(self, node):
        if not isinstance(node, dict) or len(node) not in (1, 3):
            raise _Refused("its structure record is malformed")
        if "tensor" in node:
            return self._tensor(node)
        (kind, payload), = node.items()
        if kind == "value":
            if payload is not None and not isinstance(payload, bool | int | float | str):
                raise _Refused("its structure record is malformed")
            return payload
        if kind == "float":
            return float(payload)
        if kind == "ndarray":
            return self._array(payload).copy()
        if kind == "dtype":
            from . import _dtype

            return _dtype._dtype_by_name(payload)
        if kind in ("list", "tuple") and isinstance(payload, list):
            items = [self.decode(item) for item in payload]
            return items if kind == "list" else tuple(items)
        if kind in _MAPPING_TYPES and isinstance(payload, list):
            return _MAPPING_TYPES[kind]({self.decode(key): self.decode(value) for key, value in payload})
        raise _Refused(f"its structure record has an unknown entry {kind!r}")

    def _tensor(self, node: dict) -> Tensor:
        from .nn.parameter import Parameter

        name = node["tensor"]
        tensor = self._tensors.get(name)
        if tensor is not None:
            return tensor
        array = self._array(name)
        refused = _tensor_dtype_error(name, array)
        if refused is not None:
            raise _Refused(refused)
        tensor = Tensor._make(array)
        if node.get("parameter"):
            tensor = Parameter(tensor, requires_grad=bool(node.get("requires_grad")))
        elif node.get("requires_grad"):
            tensor.requires_grad_(True)
        self._tensors[name] = tensor
        return tensor


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None, **kwargs):
    """Read what `save` wrote. Refuses (RuntimeError) pickles, foreign and corrupt files.

    `map_location` may only name the CPU; loading never runs code, whatever `weights_only` says.
    """
    if pickle_module is not None:
        raise ValueError("retrograd.load never unpickles; pickle_module is not supported")
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        from ._creation import _check_device

        _check_device(map_location)
    data = _read_bytes(f)
    try:
        _check_not_pickle(data)
        structure, arrays = _read_archive(data)
        return _Decoder(arrays).decode(structure.get("root"))
    except _Refused as refusal:
        raise RuntimeError(f"retrograd.load cannot read {_describe(f)}: {refusal}") from None
    except (ValueError, TypeError, KeyError) as error:
        raise RuntimeError(
            f"retrograd.load cannot read {_describe(f)}: its structure record is corrupt ({error})"
        ) from None
    except RecursionError:
        raise RuntimeError(
            f"retrograd.load cannot read {_describe(f)}: its structure is nested too deeply"
        ) from None
