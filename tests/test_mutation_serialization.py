"""`save` / `load`: every kind of value comes back as it went, every bad file is refused with
the reason (found by mutation testing). The file format is retrograd's own (PyTorch's is a
pickle, which retrograd never reads), so these tests state the behaviour directly.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest

import retrograd
from retrograd import nn


def _round_trip(value):
    buffer = io.BytesIO()
    retrograd.save(value, buffer)
    buffer.seek(0)
    return retrograd.load(buffer)


def _archive(structure, arrays=None, compressed=False) -> io.BytesIO:
    """An .npz written by NumPy with a hand-made structure record."""
    record = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, __retrograd__=record, **(arrays or {}))
    buffer.seek(0)
    return buffer


def _refusal(f) -> str:
    with pytest.raises(RuntimeError) as error:
        retrograd.load(f)
    return str(error.value)


def _valid(root, arrays=None, **extra):
    return _archive({"format": "retrograd.save", "version": 1, "root": root, **extra}, arrays)


def test_scalars_keep_their_python_types():
    loaded = _round_trip([True, False, 0, -7, 2.5, None, "text", np.int64(3), np.float32(0.5)])
    assert loaded == [True, False, 0, -7, 2.5, None, "text", 3, 0.5]
    assert [type(value) for value in loaded] == [bool, bool, int, int, float, type(None), str, int, float]


def test_non_finite_floats_round_trip():
    nan, inf, minus_inf = _round_trip((math.nan, math.inf, -math.inf))
    assert math.isnan(nan) and inf == math.inf and minus_inf == -math.inf


def test_containers_keep_their_types_and_order():
    value = {
        "plain": {"b": 1, "a": 2},
        "ordered": OrderedDict([("z", 1), ("y", 2)]),
        "list": [1, [2, (3,)]],
        "tuple": (1, 2),
        7: "integer key",
        (1, 2): "tuple key",
    }
    loaded = _round_trip(value)
    assert loaded == value
    assert type(loaded["plain"]) is dict and list(loaded["plain"]) == ["b", "a"]
    assert type(loaded["ordered"]) is OrderedDict and list(loaded["ordered"]) == ["z", "y"]
    assert type(loaded["list"][1][1]) is tuple and type(loaded["tuple"]) is tuple


def test_an_empty_counter_round_trips():
    loaded = _round_trip(Counter())
    assert type(loaded) is Counter and loaded == Counter()


def test_a_counter_round_trips():
    loaded = _round_trip(Counter({"x": 3, "y": 1}))
    assert type(loaded) is Counter and loaded == Counter({"x": 3, "y": 1})


def test_a_dict_subclass_is_saved_as_a_dict():
    class Settings(dict):
        pass

    loaded = _round_trip(Settings(a=1))
    assert type(loaded) is dict and loaded == {"a": 1}


def test_dtypes_and_arrays_round_trip():
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    strided = np.arange(10, dtype=np.int32)[::3]
    loaded = _round_trip({"dtype": retrograd.float64, "fortran": fortran, "strided": strided,
                          "bool": np.array([True, False])})
    assert loaded["dtype"] is retrograd.float64
    np.testing.assert_array_equal(loaded["fortran"], fortran)
    np.testing.assert_array_equal(loaded["strided"], [0, 3, 6, 9])
    assert loaded["strided"].dtype == np.int32 and loaded["bool"].dtype == np.bool_


def test_tensors_keep_dtype_requires_grad_and_parameter_kind():
    frozen = nn.Parameter(retrograd.ones(2), requires_grad=False)
    loaded = _round_trip({
        "long": retrograd.tensor([1, 2]),
        "leaf": retrograd.tensor([1.5], requires_grad=True),
        "parameter": nn.Parameter(retrograd.zeros(2, 2, dtype=retrograd.float64)),
        "frozen": frozen,
        "transposed": retrograd.arange(6.0).reshape(2, 3).t(),
    })
    assert loaded["long"].dtype == retrograd.int64 and loaded["long"].tolist() == [1, 2]
    assert loaded["leaf"].requires_grad and type(loaded["leaf"]) is retrograd.Tensor
    assert type(loaded["parameter"]) is nn.Parameter and loaded["parameter"].requires_grad
    assert loaded["parameter"].dtype == retrograd.float64
    assert type(loaded["frozen"]) is nn.Parameter and not loaded["frozen"].requires_grad
    assert loaded["transposed"].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert loaded["leaf"].is_leaf and loaded["parameter"].is_leaf


def test_shared_tensors_and_arrays_stay_shared_once_loaded():
    tensor = retrograd.ones(2)
    array = np.zeros(3)
    loaded = _round_trip({"a": tensor, "b": tensor, "c": retrograd.ones(2), "x": array, "y": array})
    assert loaded["a"] is loaded["b"] and loaded["a"] is not loaded["c"]
    np.testing.assert_array_equal(loaded["x"], loaded["y"])


def test_save_and_load_by_path(tmp_path):
    path = tmp_path / "weights.pt"
    retrograd.save({"w": retrograd.tensor([1.0, 2.0])}, path)
    assert retrograd.load(path)["w"].tolist() == [1.0, 2.0]
    assert retrograd.load(str(path))["w"].tolist() == [1.0, 2.0]
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["__retrograd__.npy", "t0.npy"]
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_unsupported_values_are_refused_when_saving():
    def refusal(kind, *args, **kwargs):
        with pytest.raises(kind) as error:
            (retrograd.load if kind is ValueError and not args else retrograd.save)(*args, **kwargs)
        return str(error.value)

    assert refusal(TypeError, np.array([object()]), io.BytesIO()) == (
        "retrograd.save cannot store NumPy arrays of Python objects"
    )
    assert refusal(TypeError, {1, 2}, io.BytesIO()) == (
        "retrograd.save cannot store an object of type set: it stores tensors, NumPy arrays, numbers, strings, "
        "None, dtypes and dicts, lists and tuples of them (save a model's or optimizer's state_dict(), not the "
        "object itself)"
    )
    assert refusal(ValueError, {}, io.BytesIO(), pickle_module=object()) == (
        "retrograd.save never pickles; pickle_module is not supported"
    )
    with pytest.raises(ValueError) as error:
        retrograd.load(io.BytesIO(), pickle_module=object())
    assert str(error.value) == "retrograd.load never unpickles; pickle_module is not supported"


def test_load_needs_a_binary_file():
    with pytest.raises(TypeError, match="retrograd.load expects a path or a binary file, got int"):
        retrograd.load(3)
    with pytest.raises(TypeError, match=r"needs a file opened in binary mode \('rb'\)"):
        retrograd.load(io.StringIO("text"))


@pytest.mark.parametrize("first", [b"\x80", b"(", b"]", b"}", b"c"])
def test_files_that_start_like_a_pickle_are_refused(first):
    message = _refusal(io.BytesIO(first + b"rest"))
    assert message == (
        "retrograd.load cannot read the given file: it is a pickle file; retrograd.load never unpickles, "
        "because unpickling can run arbitrary code. Re-save the data with retrograd.save"
    )


def test_a_path_is_named_in_the_refusal(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    assert _refusal(path) == (
        f"retrograd.load cannot read '{path}': it is not a retrograd file (not an .npz archive)"
    )


def test_archives_that_are_not_retrograd_files_are_refused():
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.zeros(2))
    buffer.seek(0)
    assert _refusal(buffer).endswith("it is not a retrograd file (no structure record)")
    assert _refusal(io.BytesIO(b"PK\x03\x04 broken")).startswith(
        "retrograd.load cannot read the given file: it is not a valid archive, or it is truncated ("
    )
    assert _refusal(_archive({"format": "other", "version": 1, "root": None})).endswith(
        "it is not a retrograd file (unknown structure record)"
    )
    assert _refusal(_archive(["not", "a", "dict"])).endswith("it is not a retrograd file (unknown structure record)")
    assert _refusal(_archive({"format": "retrograd.save", "version": 2, "root": None})).endswith(
        "it was written by a newer format version (2)"
    )


def test_unexpected_and_compressed_members_are_refused():
    assert _refusal(_valid(None, {"extra": np.zeros(1)})).endswith("it holds an unexpected member 'extra.npy'")
    assert _refusal(_valid(None, {"t1234567890": np.zeros(1)})).endswith(
        "it holds an unexpected member 't1234567890.npy'"
    )
    compressed = _archive({"format": "retrograd.save", "version": 1, "root": None}, compressed=True)
    assert _refusal(compressed).endswith(
        "member __retrograd__.npy is compressed; retrograd files store arrays uncompressed"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__retrograd__.npy", b"\x93NUMPY not really")
    buffer.seek(0)
    assert "member __retrograd__.npy is not a valid .npy array (" in _refusal(buffer)


def test_a_member_whose_header_disagrees_with_its_size_is_refused():
    record = json.dumps({"format": "retrograd.save", "version": 1, "root": {"tensor": "t0"}}).encode()
    member = io.BytesIO()
    np.lib.format.write_array(member, np.zeros(4, dtype=np.float64))
    data = member.getvalue()[:-8]  # one float64 short
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        structure = io.BytesIO()
        np.lib.format.write_array(structure, np.frombuffer(record, dtype=np.uint8))
        archive.writestr("__retrograd__.npy", structure.getvalue())
        archive.writestr("t0.npy", data)
    buffer.seek(0)
    assert _refusal(buffer).endswith("member t0.npy is corrupt: its header describes 32 bytes of data but it holds 24")


def test_a_version_2_npy_header_is_read():
    record = json.dumps({"format": "retrograd.save", "version": 1, "root": {"ndarray": "t0"}}).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        structure = io.BytesIO()
        np.lib.format.write_array(structure, np.frombuffer(record, dtype=np.uint8))
        archive.writestr("__retrograd__.npy", structure.getvalue())
        member = io.BytesIO()
        np.lib.format.write_array(member, np.arange(3.0), version=(2, 0))
        archive.writestr("t0.npy", member.getvalue())
    buffer.seek(0)
    assert retrograd.load(buffer).tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("root", "arrays", "reason"),
    [
        ({"value": [1]}, None, "its structure record is malformed"),
        ({"value": 1, "float": "1"}, None, "its structure record is malformed"),
        ([1], None, "its structure record is malformed"),
        ({"set": [1]}, None, "its structure record has an unknown entry 'set'"),
        ({"list": "abc"}, None, "its structure record has an unknown entry 'list'"),
        ({"dict": "abc"}, None, "its structure record has an unknown entry 'dict'"),
        ({"tensor": "t5", "requires_grad": False, "parameter": False}, None,
         "its structure refers to a missing array 't5'"),
        ({"ndarray": 3}, None, "its structure refers to a missing array 3"),
        ({"float": "not a number"}, None,
         "its structure record is corrupt (could not convert string to float: 'not a number')"),
    ],
)
def test_malformed_structures_are_refused(root, arrays, reason):
    assert _refusal(_valid(root, arrays)) == f"retrograd.load cannot read the given file: {reason}"


def test_a_corrupt_structure_record_is_refused():
    buffer = io.BytesIO()
    np.savez(buffer, __retrograd__=np.frombuffer(b"\xff\xfe not json", dtype=np.uint8))
    buffer.seek(0)
    assert _refusal(buffer).startswith("retrograd.load cannot read the given file: its structure record is corrupt (")


def test_a_structure_nested_too_deeply_is_refused():
    depth = 100_000
    root = '{"list": [' * depth + '{"value": null}' + "]}" * depth
    text = '{"format": "retrograd.save", "version": 1, "root": ' + root + "}"
    buffer = io.BytesIO()
    np.savez(buffer, __retrograd__=np.frombuffer(text.encode(), dtype=np.uint8))
    buffer.seek(0)
    assert _refusal(buffer) == "retrograd.load cannot read the given file: its structure is nested too deeply"


def test_loaded_values_carry_requires_grad_from_the_record():
    loaded = retrograd.load(_valid({"list": [
        {"tensor": "t0", "requires_grad": True, "parameter": False},
        {"tensor": "t1", "requires_grad": False, "parameter": True},
        {"tensor": "t0", "requires_grad": True, "parameter": False},
    ]}, {"t0": np.ones(2), "t1": np.zeros(1)}))
    assert loaded[0].requires_grad and type(loaded[0]) is retrograd.Tensor
    assert type(loaded[1]) is nn.Parameter and not loaded[1].requires_grad
    assert loaded[2] is loaded[0]


@pytest.mark.parametrize("location", [None, "cpu", retrograd.device("cpu"), {"cuda:0": "cpu"}, lambda s, _: s])
def test_map_location_may_name_the_cpu(location):
    buffer = io.BytesIO()
    retrograd.save([retrograd.ones(1)], buffer)
    buffer.seek(0)
    assert retrograd.load(buffer, map_location=location)[0].tolist() == [1.0]


def test_map_location_of_another_device_is_refused():
    with pytest.raises(Exception, match="CUDA|cuda"):
        retrograd.load(io.BytesIO(), map_location="cuda")


def test_the_structure_record_is_strict_json():
    buffer = io.BytesIO()
    retrograd.save({"values": [math.nan, math.inf, -math.inf, 2.5]}, buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        member = io.BytesIO(archive.read("__retrograd__.npy"))
    text = np.lib.format.read_array(member).tobytes().decode("utf-8")

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    structure = json.loads(text, parse_constant=refuse)
    assert structure["format"] == "retrograd.save" and structure["version"] == 1


def test_a_fortran_ordered_member_is_read_in_its_order():
    values = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    member = io.BytesIO()
    np.lib.format.write_array(member, values)
    record = json.dumps({"format": "retrograd.save", "version": 1, "root": {"list": [
        {"ndarray": "t0"}, {"tensor": "t0", "requires_grad": False, "parameter": False}]}}).encode()
    structure = io.BytesIO()
    np.lib.format.write_array(structure, np.frombuffer(record, dtype=np.uint8))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__retrograd__.npy", structure.getvalue())
        archive.writestr("t0.npy", member.getvalue())
    buffer.seek(0)
    array, tensor = retrograd.load(buffer)
    np.testing.assert_array_equal(array, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert tensor.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_a_tensor_of_a_dtype_retrograd_lacks_is_refused_with_the_list():
    buffer = _valid({"tensor": "t0", "requires_grad": False, "parameter": False},
                    {"t0": np.zeros(2, dtype=">f8")})
    message = _refusal(buffer)
    assert message.startswith("retrograd.load cannot read the given file: member t0.npy holds >f8 data")
    listed = message.split("(tensors are ", 1)[1].removesuffix(", in the machine's byte order)")
    names = listed.split(", ")
    assert {"retrograd.float32", "retrograd.float64", "retrograd.int64", "retrograd.bool"} <= set(names)


def _two_member_archive() -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__retrograd__.npy", b"x" * 100)
        archive.writestr("t0.npy", b"y" * 100)
    return bytearray(buffer.getvalue())


def test_members_that_overlap_are_refused_by_their_total():
    data = _two_member_archive()
    claim = len(data) * 3 // 5  # each member alone fits in the file; the two together do not
    for entry in (data.index(b"PK\x01\x02"), data.rindex(b"PK\x01\x02")):
        data[entry + 20:entry + 24] = data[entry + 24:entry + 28] = claim.to_bytes(4, "little")
    assert _refusal(io.BytesIO(bytes(data))) == (
        f"retrograd.load cannot read the given file: its zip directory claims {2 * claim} bytes of members but "
        f"the file holds {len(data)} (members overlap, or the file is truncated)"
    )


def test_a_nested_pytorch_checkpoint_is_named():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("outer/archive/data.pkl", b"\x80\x02.")
    buffer.seek(0)
    assert _refusal(buffer) == (
        "retrograd.load cannot read the given file: it is a PyTorch checkpoint (a pickle inside a zip); "
        "retrograd.load never unpickles. Convert it in PyTorch with numpy arrays and retrograd.save, or load "
        "the arrays yourself"
    )


def test_a_member_with_a_bad_checksum_is_refused():
    buffer = io.BytesIO()
    retrograd.save({"w": retrograd.arange(64.0)}, buffer)
    data = bytearray(buffer.getvalue())
    data[data.index(b"t0.npy") + 200] ^= 0xFF  # a byte of t0's values, past its .npy header
    message = _refusal(io.BytesIO(bytes(data)))
    assert message.startswith("retrograd.load cannot read the given file: it is truncated or corrupt (Bad CRC")


def test_refusals_by_path_name_the_path(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(_valid({"float": "not a number"}).getvalue())
    assert _refusal(path) == (
        f"retrograd.load cannot read '{path}': its structure record is corrupt (could not convert string to "
        "float: 'not a number')"
    )
    depth = 100_000
    text = '{"format": "retrograd.save", "version": 1, "root": ' + '{"list": [' * depth + "null" + "]}" * depth + "}"
    buffer = io.BytesIO()
    np.savez(buffer, __retrograd__=np.frombuffer(text.encode(), dtype=np.uint8))
    path.write_bytes(buffer.getvalue())
    assert _refusal(path) == f"retrograd.load cannot read '{path}': its structure is nested too deeply"


def test_a_text_file_is_refused_with_the_fix():
    with pytest.raises(TypeError) as error:
        retrograd.load(io.StringIO("text"))
    assert str(error.value) == "retrograd.load needs a file opened in binary mode ('rb')"
