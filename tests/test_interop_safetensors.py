"""Weights through safetensors files, both ways between retrograd and PyTorch.

A state_dict written by retrograd loads with `safetensors.torch.load_file` into the same
architecture in PyTorch and gives the same outputs; one written by PyTorch loads into
retrograd; every dtype keeps its exact bits. Needs the `safetensors` package (and PyTorch for
the cross-checks); each test skips cleanly without them.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils import safetensors as rst

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


def _safetensors():
    return pytest.importorskip("safetensors")


def _torch_backend():
    """`(torch, safetensors.torch)`, or a skip when either is missing."""
    _safetensors()
    torch = pytest.importorskip("torch")
    import safetensors.torch

    return torch, safetensors.torch


def _sample(dtype_name: str, shape=(3, 4)) -> np.ndarray:
    rng = np.random.default_rng(1)
    if dtype_name == "bool":
        return rng.random(shape) > 0.5
    kind = np.dtype(dtype_name)
    if kind.kind == "f":
        values = rng.standard_normal(shape).astype(kind)
        values.flat[:4] = [np.nan, np.inf, -0.0, np.finfo(kind).tiny]
        return values
    info = np.iinfo(kind)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=kind)


def _all_dtypes() -> dict[str, rg.Tensor]:
    tensors = {name: rg.from_numpy(_sample(name)) for name in DTYPES}
    tensors["scalar"] = rg.tensor(2.5)
    tensors["empty"] = rg.zeros(0, 3)
    return tensors


def _bits(tensor) -> tuple:
    array = tensor.numpy()
    return (str(array.dtype), array.shape, array.tobytes())


# ---------------------------------------------------------------------------
# retrograd alone


def test_file_round_trip_keeps_every_dtype_bit_for_bit(tmp_path):
    _safetensors()
    tensors = _all_dtypes()
    rst.save_file(tensors, tmp_path / "all.safetensors")
    loaded = rst.load_file(tmp_path / "all.safetensors")
    assert sorted(loaded) == sorted(tensors)
    for name, tensor in tensors.items():
        assert loaded[name].dtype is tensor.dtype
        assert _bits(loaded[name]) == _bits(tensor), name


def test_bytes_round_trip():
    _safetensors()
    tensors = _all_dtypes()
    loaded = rst.load(rst.save(tensors))
    for name, tensor in tensors.items():
        assert _bits(loaded[name]) == _bits(tensor), name


def test_loaded_tensors_are_writable_leaves(tmp_path):
    _safetensors()
    rst.save_file({"w": rg.ones(2)}, tmp_path / "w.safetensors")
    w = rst.load_file(tmp_path / "w.safetensors")["w"]
    assert w.is_leaf and not w.requires_grad
    w.add_(1.0)
    assert w.tolist() == [2.0, 2.0]


def test_metadata_is_stored(tmp_path):
    safetensors = _safetensors()
    rst.save_file({"w": rg.ones(1)}, tmp_path / "w.safetensors", metadata={"format": "pt"})
    with safetensors.safe_open(tmp_path / "w.safetensors", framework="np") as file:
        assert file.metadata() == {"format": "pt"}


def test_state_dict_round_trip_restores_a_model(tmp_path):
    _safetensors()
    rg.manual_seed(0)
    model = _retrograd_cnn()
    x = rg.randn(2, 1, 4, 4)
    expected = model(x)
    rst.save_file(model.state_dict(), tmp_path / "cnn.safetensors")
    rg.manual_seed(1)
    other = _retrograd_cnn()
    assert other.load_state_dict(rst.load_file(tmp_path / "cnn.safetensors")) == ([], [])
    assert other(x).tolist() == expected.tolist()


def test_parameters_that_require_grad_can_be_saved():
    _safetensors()
    model = rg.nn.Linear(2, 2)
    loaded = rst.load(rst.save(model.state_dict(keep_vars=True)))
    assert loaded["weight"].tolist() == model.weight.tolist()


def test_save_refuses_a_non_contiguous_tensor():
    _safetensors()
    with pytest.raises(ValueError, match=r"non contiguous tensor: `t`.*contiguous\(\)"):
        rst.save({"t": rg.ones(2, 3).t()})
    assert rst.load(rst.save({"t": rg.ones(2, 3).t().contiguous()}))["t"].shape == (3, 2)


def test_save_file_refuses_tensors_that_share_memory(tmp_path):
    _safetensors()
    layer = rg.nn.Linear(2, 2)
    tied = rg.nn.Sequential(layer, rg.nn.Tanh(), layer)
    with pytest.raises(RuntimeError, match="share memory.*save_model"):
        rst.save_file(tied.state_dict(), tmp_path / "tied.safetensors")


def test_save_refuses_values_that_are_not_tensors_and_names_that_are_not_strings():
    _safetensors()
    with pytest.raises(ValueError, match="Key `w` is invalid"):
        rst.save({"w": np.ones(2)})
    with pytest.raises(TypeError, match="names must be str"):
        rst.save({1: rg.ones(1)})
    with pytest.raises(TypeError, match="dict"):
        rst.save([rg.ones(1)])


def test_save_model_stores_tied_weights_once_and_load_model_ties_them_again(tmp_path):
    safetensors = _safetensors()
    layer = rg.nn.Linear(2, 2)
    tied = rg.nn.Sequential(layer, rg.nn.Tanh(), layer)
    rst.save_model(tied, tmp_path / "tied.safetensors")
    with safetensors.safe_open(tmp_path / "tied.safetensors", framework="np") as file:
        assert sorted(file.keys()) == ["0.bias", "0.weight"]
        assert file.metadata() == {"2.bias": "0.bias", "2.weight": "0.weight"}
    fresh_layer = rg.nn.Linear(2, 2)
    fresh = rg.nn.Sequential(fresh_layer, rg.nn.Tanh(), fresh_layer)
    assert rst.load_model(fresh, tmp_path / "tied.safetensors") == ([], [])
    assert fresh[2].weight.tolist() == layer.weight.tolist()
    assert fresh[0].weight is fresh[2].weight


def test_load_model_strict_reports_missing_and_unexpected_names(tmp_path):
    _safetensors()
    rst.save_file({"weight": rg.ones(2, 2), "extra": rg.ones(1)}, tmp_path / "w.safetensors")
    model = rg.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match='Missing key.*"bias"') as error:
        rst.load_model(model, tmp_path / "w.safetensors")
    assert '"extra"' in str(error.value)
    assert rst.load_model(model, tmp_path / "w.safetensors", strict=False) == (["bias"], ["extra"])


def test_load_file_refuses_a_gpu_device(tmp_path):
    _safetensors()
    rst.save_file({"w": rg.ones(1)}, tmp_path / "w.safetensors")
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        rst.load_file(tmp_path / "w.safetensors", device="cuda")


def test_a_corrupt_file_is_refused(tmp_path):
    _safetensors()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(Exception, match="(?i)header|deserializ"):
        rst.load_file(path)


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    with pytest.raises(ImportError, match=r"retrograd\[safetensors\]"):
        rst.save({"w": rg.ones(1)})


# ---------------------------------------------------------------------------
# Against PyTorch


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_retrograd_file_loads_in_pytorch_with_the_same_bits(tmp_path, dtype_name):
    torch, st = _torch_backend()
    tensor = rg.from_numpy(_sample(dtype_name))
    rst.save_file({"t": tensor}, tmp_path / "t.safetensors")
    theirs = st.load_file(tmp_path / "t.safetensors")["t"]
    assert theirs.dtype == getattr(torch, dtype_name)
    assert _bits(theirs) == _bits(tensor)


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_pytorch_file_loads_in_retrograd_with_the_same_bits(tmp_path, dtype_name):
    torch, st = _torch_backend()
    theirs = torch.from_numpy(_sample(dtype_name))
    st.save_file({"t": theirs, "scalar": torch.tensor(3, dtype=theirs.dtype)}, tmp_path / "t.safetensors")
    mine = rst.load_file(tmp_path / "t.safetensors")
    assert mine["t"].dtype is getattr(rg, dtype_name)
    assert _bits(mine["t"]) == _bits(theirs)
    assert _bits(mine["scalar"]) == _bits(torch.tensor(3, dtype=theirs.dtype))


def test_pytorch_bytes_load_in_retrograd_and_back():
    torch, st = _torch_backend()
    theirs = {"a": torch.randn(3, 2), "b": torch.arange(4)}
    mine = rst.load(st.save(theirs))
    back = st.load(rst.save(mine))
    for name, tensor in theirs.items():
        assert torch.equal(back[name], tensor)


def _retrograd_cnn():
    nn = rg.nn
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)
    )


def _torch_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)
    )


def _train_a_little(model, library, x):
    """A few steps so that BatchNorm's running statistics and counter move off their defaults."""
    optimizer = library.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
    model.eval()


def test_retrograd_weights_give_the_same_outputs_in_pytorch(tmp_path):
    torch, st = _torch_backend()
    rg.manual_seed(0)
    mine = _retrograd_cnn()
    x = np.random.default_rng(2).standard_normal((4, 1, 4, 4)).astype(np.float32)
    _train_a_little(mine, rg, rg.from_numpy(x))
    rst.save_file(mine.state_dict(), tmp_path / "cnn.safetensors")

    theirs = _torch_cnn(torch)
    result = theirs.load_state_dict(st.load_file(tmp_path / "cnn.safetensors"))
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    theirs.eval()
    assert int(theirs[1].num_batches_tracked) == 3
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(mine(rg.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_pytorch_weights_give_the_same_outputs_in_retrograd(tmp_path):
    torch, st = _torch_backend()
    torch.manual_seed(0)
    theirs = _torch_cnn(torch)
    x = np.random.default_rng(3).standard_normal((4, 1, 4, 4)).astype(np.float32)
    _train_a_little(theirs, torch, torch.from_numpy(x))
    st.save_file(theirs.state_dict(), tmp_path / "cnn.safetensors")

    mine = _retrograd_cnn()
    assert mine.load_state_dict(rst.load_file(tmp_path / "cnn.safetensors")) == ([], [])
    mine.eval()
    for name, tensor in theirs.state_dict().items():
        assert _bits(mine.state_dict()[name]) == _bits(tensor), name
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(mine(rg.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_float64_mlp_matches_pytorch_exactly_after_the_trip(tmp_path):
    torch, st = _torch_backend()
    rg.manual_seed(0)
    mine = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.Tanh(), rg.nn.Linear(4, 1)).double()
    rst.save_file(mine.state_dict(), tmp_path / "mlp.safetensors")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    theirs.load_state_dict(st.load_file(tmp_path / "mlp.safetensors"))
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    np.testing.assert_allclose(
        mine(rg.from_numpy(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-14
    )


def test_tied_weights_cross_over_with_save_model_and_load_model(tmp_path):
    torch, st = _torch_backend()
    layer = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(layer, torch.nn.Tanh(), layer)
    st.save_model(theirs, tmp_path / "torch.safetensors")
    mine_layer = rg.nn.Linear(2, 2)
    mine = rg.nn.Sequential(mine_layer, rg.nn.Tanh(), mine_layer)
    assert rst.load_model(mine, tmp_path / "torch.safetensors") == ([], [])
    assert mine[2].weight.tolist() == layer.weight.tolist()

    rst.save_model(mine, tmp_path / "mine.safetensors")
    other_layer = torch.nn.Linear(2, 2)
    other = torch.nn.Sequential(other_layer, torch.nn.Tanh(), other_layer)
    missing, unexpected = st.load_model(other, tmp_path / "mine.safetensors")
    assert (sorted(missing), unexpected) == ([], [])
    assert other[2].weight.tolist() == layer.weight.tolist()


def test_pytorch_tied_state_dict_loads_with_load_state_dict(tmp_path):
    """PyTorch's state_dict lists a module used twice under both names; so does ours."""
    torch, st = _torch_backend()
    layer = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(layer, torch.nn.Tanh(), layer)
    mine_layer = rg.nn.Linear(2, 2)
    mine = rg.nn.Sequential(mine_layer, rg.nn.Tanh(), mine_layer)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    state = {name: tensor.clone() for name, tensor in theirs.state_dict().items()}
    st.save_file(state, tmp_path / "t.safetensors")
    assert mine.load_state_dict(rst.load_file(tmp_path / "t.safetensors")) == ([], [])


def test_bfloat16_file_is_refused_with_the_tensor_named(tmp_path):
    torch, st = _torch_backend()
    st.save_file({"half": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf.safetensors")
    with pytest.raises(TypeError, match="'half' is stored as BF16.*float\\(\\)"):
        rst.load_file(tmp_path / "bf.safetensors")
    with pytest.raises(TypeError, match="BF16"):
        rst.load((tmp_path / "bf.safetensors").read_bytes())


def test_save_refusals_match_pytorchs_types(tmp_path):
    torch, st = _torch_backend()
    cases = [
        ({"t": torch.ones(2, 3).t()}, {"t": rg.ones(2, 3).t()}),
        ({"t": 1}, {"t": 1}),
    ]
    for theirs, mine in cases:
        with pytest.raises(Exception) as their_error:
            st.save(theirs)
        with pytest.raises(Exception) as my_error:
            rst.save(mine)
        assert type(my_error.value) is type(their_error.value)
    layer = torch.nn.Linear(2, 2)
    with pytest.raises(RuntimeError) as their_error:
        st.save_file(torch.nn.Sequential(layer, layer).state_dict(), tmp_path / "x.safetensors")
    mine_layer = rg.nn.Linear(2, 2)
    with pytest.raises(RuntimeError) as my_error:
        rst.save_file(rg.nn.Sequential(mine_layer, mine_layer).state_dict(), tmp_path / "y.safetensors")
    assert "share memory" in str(their_error.value) and "share memory" in str(my_error.value)


def test_readme_interop_example_runs(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    _torch_backend()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Working with PyTorch and NumPy"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["device"] == "cpu"
    assert namespace["theirs"].weight.tolist() == namespace["model"].weight.tolist()
