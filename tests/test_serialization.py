"""retrograd.save / retrograd.load: round trips, and refusal of pickles, foreign and corrupt files."""

import io
import json
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import retrograd
from retrograd import nn, optim


def _round_trip(obj):
    buffer = io.BytesIO()
    retrograd.save(obj, buffer)
    buffer.seek(0)
    return retrograd.load(buffer)


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(retrograd.randn(3, 2))
        self.register_buffer("count", retrograd.tensor([4], dtype=retrograd.int64))

    def forward(self, x):
        return x * self.weight


def test_nested_structure_round_trips_with_types():
    original = {
        "weights": OrderedDict(a=retrograd.randn(2, 3), b=retrograd.tensor([1.0], dtype=retrograd.float64)),
        "ints": retrograd.arange(4),
        "mask": retrograd.tensor([True, False]),
        "numbers": [1, 2.5, float("inf"), None, True, "text"],
        "betas": (0.9, 0.999),
        3: {"nested": {"deep": retrograd.zeros(0)}},
        "array": np.arange(3, dtype=np.int16),
        "dtype": retrograd.float64,
    }
    loaded = _round_trip(original)
    assert isinstance(loaded["weights"], OrderedDict)
    assert list(loaded["weights"]) == ["a", "b"]
    for key in ("a", "b"):
        assert loaded["weights"][key].dtype == original["weights"][key].dtype
        assert loaded["weights"][key].tolist() == original["weights"][key].tolist()
    assert loaded["ints"].dtype == retrograd.int64 and loaded["mask"].dtype == retrograd.bool
    assert loaded["numbers"] == [1, 2.5, float("inf"), None, True, "text"]
    assert loaded["betas"] == (0.9, 0.999)
    assert loaded[3]["nested"]["deep"].shape == retrograd.Size([0])
    assert loaded["array"].dtype == np.int16 and loaded["array"].tolist() == [0, 1, 2]
    assert loaded["dtype"] is retrograd.float64


def test_module_state_dict_round_trip(tmp_path):
    model = Scale()
    path = tmp_path / "model.npz"
    retrograd.save(model.state_dict(), path)
    other = Scale()
    other.load_state_dict(retrograd.load(path))
    assert other.weight.tolist() == model.weight.tolist()
    assert other.count.tolist() == [4]


def test_optimizer_state_dict_round_trip(tmp_path):
    parameter = nn.Parameter(retrograd.ones(3))
    optimizer = optim.Adam([parameter], lr=0.1, amsgrad=True)
    parameter.grad = retrograd.tensor([1.0, -2.0, 3.0])
    optimizer.step()
    retrograd.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    loaded = retrograd.load(tmp_path / "optimizer.npz")
    saved = optimizer.state_dict()
    assert loaded["param_groups"] == saved["param_groups"]
    assert set(loaded["state"]) == {0}
    for key, value in saved["state"][0].items():
        assert loaded["state"][0][key].tolist() == value.tolist()
    restored = optim.Adam([nn.Parameter(retrograd.ones(3))])
    restored.load_state_dict(loaded)
    assert restored.param_groups[0]["betas"] == (0.9, 0.999)


def test_parameters_and_requires_grad_survive():
    loaded = _round_trip({"p": nn.Parameter(retrograd.ones(2)), "t": retrograd.ones(2, requires_grad=True)})
    assert isinstance(loaded["p"], nn.Parameter) and loaded["p"].requires_grad
    assert loaded["t"].requires_grad and loaded["t"].is_leaf


def test_the_same_tensor_saved_twice_is_one_tensor_after_loading():
    shared = retrograd.ones(2)
    loaded = _round_trip({"a": shared, "b": shared})
    assert loaded["a"] is loaded["b"]


def test_loaded_tensors_do_not_share_memory_with_the_saved_ones():
    original = retrograd.ones(2)
    loaded = _round_trip(original)
    loaded.add_(1)
    assert original.tolist() == [1.0, 1.0]


def test_unsupported_objects_are_refused_when_saving():
    with pytest.raises(TypeError, match="cannot store an object of type Scale"):
        retrograd.save(Scale(), io.BytesIO())


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "plain.npz"
    retrograd.save({"w": retrograd.ones(2)}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["__retrograd__", "t0"]


def _load_bytes(data: bytes):
    return retrograd.load(io.BytesIO(data))


class _Exploit:
    ran = False

    def __reduce__(self):
        return (setattr, (_Exploit, "ran", True))


def test_a_pickle_is_refused_without_running_it():
    data = pickle.dumps({"w": _Exploit()})
    with pytest.raises(RuntimeError, match=r"pickle file; retrograd\.load never unpickles"):
        _load_bytes(data)
    assert not _Exploit.ran


def test_a_pytorch_checkpoint_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="PyTorch checkpoint"):
        retrograd.load(path)


def test_an_npz_holding_objects_is_refused():
    buffer = io.BytesIO()
    np.savez(buffer, __retrograd__=np.frombuffer(b"{}", np.uint8), t0=np.array([_Exploit()], dtype=object))
    with pytest.raises(RuntimeError, match="Python objects"):
        _load_bytes(buffer.getvalue())
    assert not _Exploit.ran


@pytest.mark.parametrize("cut", [10, 100, -30, -1])
def test_truncated_files_are_refused(cut):
    buffer = io.BytesIO()
    retrograd.save({"w": retrograd.ones(1000)}, buffer)
    with pytest.raises(RuntimeError, match=r"retrograd\.load cannot read"):
        _load_bytes(buffer.getvalue()[:cut])


def test_foreign_files_are_refused():
    with pytest.raises(RuntimeError, match="not a retrograd file"):
        _load_bytes(b"hello world, not an archive")
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(RuntimeError, match="not a retrograd file"):
        _load_bytes(other.getvalue())


def _structure(array_name: str) -> bytes:
    root = {"tensor": array_name, "requires_grad": False, "parameter": False}
    return json.dumps({"format": "retrograd.save", "version": 1, "root": root}).encode()


def _archive_with(t0_bytes: bytes, structure: bytes | None = None) -> bytes:
    """A hand-built archive whose t0.npy member holds exactly `t0_bytes`."""
    if structure is None:
        structure = _structure("t0")
    record = io.BytesIO()
    np.save(record, np.frombuffer(structure, np.uint8))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__retrograd__.npy", record.getvalue())
        archive.writestr("t0.npy", t0_bytes)
    return buffer.getvalue()


def _npy_header(shape) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return header.getvalue()


def test_a_header_claiming_a_huge_array_is_refused_without_allocating():
    data = _archive_with(_npy_header((10**12, 10**6)) + b"\x00" * 16)
    with pytest.raises(RuntimeError, match="corrupt: its header describes"):
        _load_bytes(data)


def test_a_malformed_structure_record_is_refused():
    good = io.BytesIO()
    np.save(good, np.ones(2, np.float32))
    with pytest.raises(RuntimeError, match="structure record is corrupt"):
        _load_bytes(_archive_with(good.getvalue(), structure=b"{not json"))
    with pytest.raises(RuntimeError, match="missing array"):
        _load_bytes(_archive_with(good.getvalue(), structure=_structure("t7")))


def test_map_location_must_be_the_cpu(tmp_path):
    path = tmp_path / "w.npz"
    retrograd.save(retrograd.ones(1), path)
    assert retrograd.load(path, map_location="cpu").tolist() == [1.0]
    with pytest.raises(RuntimeError):
        retrograd.load(path, map_location="cuda")


# -- directories that name a member more than once, members of dtypes a tensor lacks (issue 12)


def _with_repeated_directory_entry(data: bytes, member: str, times: int) -> bytes:
    """`data` with its zip directory entry for `member` repeated `times` times (all pointing at the
    one stored copy), and the end-of-directory record counting them: what a hostile file does."""
    end = data.rindex(b"PK\x05\x06")
    count, size, offset = int.from_bytes(data[end + 10:end + 12], "little"), \
        int.from_bytes(data[end + 12:end + 16], "little"), int.from_bytes(data[end + 16:end + 20], "little")
    directory = data[offset:offset + size]
    entries, position = [], 0
    for _ in range(count):
        name_length, extra_length, comment_length = (
            int.from_bytes(directory[position + at:position + at + 2], "little") for at in (28, 30, 32))
        length = 46 + name_length + extra_length + comment_length
        entries.append(directory[position:position + length])
        position += length
    repeated = [entry for entry in entries if entry[46:46 + len(member)] == member.encode()]
    new_directory = b"".join(entries + repeated * (times - 1))
    total = count + len(repeated) * (times - 1)
    record = bytearray(data[end:])
    record[8:10] = record[10:12] = min(total, 0xFFFF).to_bytes(2, "little")
    record[12:16] = len(new_directory).to_bytes(4, "little")
    return data[:offset] + new_directory + bytes(record)


def test_a_directory_naming_a_member_twice_is_refused_before_reading(monkeypatch):
    buffer = io.BytesIO()
    retrograd.save({"w": retrograd.zeros(2_000_000)}, buffer)  # an 8 MB member
    hostile = _with_repeated_directory_entry(buffer.getvalue(), "t0.npy", 5_000)
    assert len(hostile) < 9_000_000
    read = []
    real_read = retrograd.serialization._read_member
    monkeypatch.setattr(retrograd.serialization, "_read_member",
                        lambda *args: read.append(args) or real_read(*args))
    with pytest.raises(RuntimeError, match="names the member 't0.npy' more than once"):
        _load_bytes(hostile)
    assert read == []
    with pytest.raises(RuntimeError, match="more than once"):
        _load_bytes(_with_repeated_directory_entry(buffer.getvalue(), "t0.npy", 2))


def test_members_claiming_more_bytes_than_the_file_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__retrograd__.npy", b"x" * 100)
        archive.writestr("t0.npy", b"y" * 100)
    data = bytearray(buffer.getvalue())
    entry = data.rindex(b"PK\x01\x02")  # the last directory entry: claim 10**6 bytes
    data[entry + 20:entry + 24] = data[entry + 24:entry + 28] = (10**6).to_bytes(4, "little")
    with pytest.raises(RuntimeError, match=r"retrograd\.load cannot read.*(claims|truncated)"):
        _load_bytes(bytes(data))


@pytest.mark.parametrize("dtype", [">f4", "<u2", "<c8", "<U3", "|S3", "<M8[s]", [("a", "<f4")], "<m8[D]"])
def test_a_tensor_of_a_dtype_retrograd_lacks_is_refused_by_name(dtype):
    record = io.BytesIO()
    np.save(record, np.zeros(3, dtype=dtype))
    with pytest.raises(RuntimeError, match=r"member t0\.npy holds .* which a retrograd tensor cannot hold"):
        _load_bytes(_archive_with(record.getvalue()))


def test_a_zero_size_element_dtype_is_refused():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|V0", "fortran_order": False, "shape": (10**9,)})
    with pytest.raises(RuntimeError, match="elements of size zero"):
        _load_bytes(_archive_with(header.getvalue()))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64",
                                   "bool"])
def test_every_tensor_dtype_loads(dtype):
    loaded = _round_trip({"t": retrograd.zeros(2, dtype=getattr(retrograd, dtype))})["t"]
    assert loaded.dtype is getattr(retrograd, dtype)
