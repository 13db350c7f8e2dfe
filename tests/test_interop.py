"""Moving data between retrograd, NumPy and PyTorch without copies; devices and defaults.

Each exchange is checked against the real NumPy and, where it is installed, the real PyTorch:
memory is shared (a write through one side shows on the other), a tensor that requires grad
is refused exactly as PyTorch refuses it, and `retrograd.cuda` / `retrograd.device` behave as
they do in PyTorch built without CUDA.
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils.dlpack import from_dlpack, to_dlpack

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


def _torch():
    return pytest.importorskip("torch")


def _sample(dtype_name: str, shape=(2, 3)) -> np.ndarray:
    """Values with every bit pattern that matters for the dtype (signs, NaN, infinities)."""
    rng = np.random.default_rng(0)
    if dtype_name == "bool":
        return rng.random(shape) > 0.5
    kind = np.dtype(dtype_name)
    if kind.kind == "f":
        values = rng.standard_normal(shape).astype(kind)
        values.flat[:3] = [np.nan, -np.inf, -0.0]
        return values
    info = np.iinfo(kind)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=kind)


def _raised(function):
    try:
        function()
    except BaseException as error:
        return error
    raise AssertionError("expected an exception")


# ---------------------------------------------------------------------------
# NumPy: numpy(), from_numpy, __array__


def test_numpy_shares_memory_both_ways():
    x = rg.zeros(3)
    array = x.numpy()
    array[0] = 5.0
    x.add_(1.0)
    assert x.tolist() == [6.0, 1.0, 1.0]
    assert array.tolist() == [6.0, 1.0, 1.0]


def test_from_numpy_shares_memory_both_ways():
    array = np.zeros(3, dtype=np.float32)
    x = rg.from_numpy(array)
    array[1] = 2.0
    x.mul_(3.0).add_(1.0)
    assert array.tolist() == [1.0, 7.0, 1.0]
    assert np.shares_memory(x.numpy(), array)


SHARED_VIEWS = {
    "tail": lambda array: array[1:],
    "middle": lambda array: array[2:4],
    "every_other": lambda array: array[1::2],
    "transposed": lambda array: array.reshape(2, 3).T,
    "column": lambda array: array.reshape(3, 2)[1:, 1],
    "empty": lambda array: array[6:],
}


@pytest.mark.parametrize("make", SHARED_VIEWS.values(), ids=SHARED_VIEWS.keys())
@pytest.mark.parametrize("name", ["from_numpy", "as_tensor", "asarray"])
def test_a_shared_array_s_storage_starts_at_its_first_element_as_in_pytorch(name, make):
    """PyTorch's storage for a shared array is the memory its elements span, at offset 0:
    `as_strided` cannot reach the array's elements before the slice."""
    torch = _torch()
    array = np.arange(6.0)
    ours, theirs = getattr(rg, name)(make(array)), getattr(torch, name)(make(array))
    assert ours.storage_offset() == theirs.storage_offset() == 0
    length = theirs.untyped_storage().nbytes() // theirs.element_size()
    np.testing.assert_array_equal(ours.as_strided((length,), (1,), 0).numpy(),
                                  theirs.as_strided((length,), (1,), 0).numpy())
    with pytest.raises(RuntimeError, match=f"out of bounds for storage of size {length * 8}"):
        ours.as_strided((length + 1,), (1,), 0)
    ours.as_strided((length,), (1,), 0).fill_(-1.0)
    assert (array == -1.0).sum() == length


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_from_numpy_keeps_every_dtype(dtype_name):
    array = _sample(dtype_name)
    x = rg.from_numpy(array)
    assert x.dtype is getattr(rg, dtype_name)
    assert x.numpy() is array


def test_numpy_refuses_a_tensor_that_requires_grad_with_pytorchs_message():
    mine = _raised(lambda: rg.ones(2, requires_grad=True).numpy())
    assert type(mine) is RuntimeError
    assert str(mine) == (
        "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
    )


def test_numpy_refusal_matches_pytorch():
    torch = _torch()
    theirs = _raised(lambda: torch.ones(2, requires_grad=True).numpy())
    mine = _raised(lambda: rg.ones(2, requires_grad=True).numpy())
    assert (type(mine), str(mine)) == (type(theirs), str(theirs))
    theirs = _raised(lambda: np.asarray(torch.ones(2, requires_grad=True)))
    mine = _raised(lambda: np.asarray(rg.ones(2, requires_grad=True)))
    assert (type(mine), str(mine)) == (type(theirs), str(theirs))


def test_numpy_force_detaches_and_still_shares_memory():
    x = rg.ones(2, requires_grad=True)
    array = x.numpy(force=True)
    array[0] = 4.0
    assert x.detach().tolist() == [4.0, 1.0]


def test_numpy_force_shares_memory_as_in_pytorch():
    torch = _torch()
    theirs = torch.ones(2, requires_grad=True)
    theirs.numpy(force=True)[0] = 4.0
    mine = rg.ones(2, requires_grad=True)
    mine.numpy(force=True)[0] = 4.0
    assert mine.detach().tolist() == theirs.detach().tolist()


def test_numpy_of_detached_tensor_shares_memory_with_the_original():
    x = rg.ones(2, requires_grad=True)
    array = x.detach().numpy()
    array[1] = 3.0
    assert x.detach().tolist() == [1.0, 3.0]


def test_np_asarray_shares_memory():
    x = rg.arange(4.0)
    array = np.asarray(x)
    assert np.shares_memory(array, x.numpy())
    array[0] = 7.0
    assert x[0].item() == 7.0


def test_np_array_copies_when_asked():
    x = rg.arange(4.0)
    copied = np.array(x)  # copy=True is NumPy's default for np.array
    copied[0] = 7.0
    assert x[0].item() == 0.0


def test_array_protocol_converts_dtype_and_refuses_a_copy_it_cannot_avoid():
    x = rg.arange(3.0)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.asarray(x, dtype=np.float32, copy=False) is x.numpy()
    with pytest.raises(ValueError, match="copy"):
        np.asarray(x, dtype=np.float64, copy=False)


def test_numpy_functions_take_tensors():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.linalg.det(x) == pytest.approx(-2.0)
    assert np.concatenate([x, x]).shape == (4, 2)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("negative strides", lambda: np.arange(4.0)[::-1]),
        ("byte order", lambda: np.arange(3, dtype=">f8")),
        ("object dtype", lambda: np.array([1, None], dtype=object)),
        ("unsupported dtype", lambda: np.arange(3, dtype=np.uint16)),
        ("a list", lambda: [1.0, 2.0]),
        ("a NumPy scalar", lambda: np.float64(1.0)),
    ],
)
def test_from_numpy_refuses_what_pytorch_refuses(name, make):
    mine = _raised(lambda: rg.from_numpy(make()))
    assert isinstance(mine, TypeError | ValueError)
    try:
        import torch
    except ImportError:
        return
    if name == "unsupported dtype":
        return  # PyTorch 2.13 has uint16; retrograd does not (a listed difference)
    theirs = _raised(lambda: torch.from_numpy(make()))
    assert type(mine) is type(theirs)
    if name in ("negative strides", "byte order", "a list", "a NumPy scalar"):
        assert str(mine).strip() == str(theirs).strip().replace("  ", " ")


def test_from_numpy_warns_on_a_read_only_array():
    array = np.arange(3.0)
    array.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        x = rg.from_numpy(array)
    assert x.tolist() == [0.0, 1.0, 2.0]


def test_torch_from_numpy_of_our_numpy_shares_memory():
    torch = _torch()
    x = rg.zeros(3)
    theirs = torch.from_numpy(x.numpy())
    theirs[2] = 8.0
    x.add_(1.0)
    assert x.tolist() == [1.0, 1.0, 9.0]
    assert theirs.tolist() == [1.0, 1.0, 9.0]


def test_torch_as_tensor_of_our_tensor_shares_memory():
    torch = _torch()
    x = rg.zeros(3)
    theirs = torch.as_tensor(x)
    theirs[0] = 2.0
    assert x.tolist() == [2.0, 0.0, 0.0]


# ---------------------------------------------------------------------------
# DLPack


def test_dlpack_device_is_the_cpu():
    assert tuple(int(part) for part in rg.ones(1).__dlpack_device__()) == (1, 0)


def test_numpy_from_dlpack_shares_memory():
    x = rg.zeros(2, 3)
    array = np.from_dlpack(x)
    array[1, 2] = 5.0
    assert x[1, 2].item() == 5.0


def test_from_dlpack_of_a_numpy_array_shares_memory():
    array = np.zeros(3)
    x = rg.from_dlpack(array)
    x.add_(2.0)
    assert array.tolist() == [2.0, 2.0, 2.0]


def test_capsules_round_trip():
    x = rg.arange(3.0)
    y = from_dlpack(to_dlpack(x))
    y.add_(1.0)
    assert x.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_torch_from_dlpack_shares_memory_and_keeps_bits(dtype_name):
    torch = _torch()
    x = rg.from_numpy(_sample(dtype_name))
    theirs = torch.from_dlpack(x)
    assert str(theirs.dtype) == f"torch.{dtype_name}"
    assert theirs.numpy().tobytes() == x.numpy().tobytes()
    assert theirs.data_ptr() == x.numpy().ctypes.data


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_from_dlpack_of_a_torch_tensor_shares_memory_and_keeps_bits(dtype_name):
    torch = _torch()
    theirs = torch.from_numpy(_sample(dtype_name))
    mine = rg.from_dlpack(theirs)
    assert mine.dtype is getattr(rg, dtype_name)
    assert mine.numpy().tobytes() == theirs.numpy().tobytes()
    assert mine.numpy().ctypes.data == theirs.data_ptr()


def test_torch_capsule_loads_into_retrograd():
    torch = _torch()
    theirs = torch.arange(4.0)
    mine = rg.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
    mine.mul_(2.0)
    assert theirs.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_torch_reads_a_transposed_tensor_through_dlpack():
    torch = _torch()
    x = rg.arange(6.0).reshape(2, 3).t()
    assert torch.from_dlpack(x).tolist() == x.tolist()


def test_writes_through_torch_show_in_retrograd():
    torch = _torch()
    x = rg.zeros(2)
    torch.from_dlpack(x).add_(3.0)
    assert x.tolist() == [3.0, 3.0]


def test_dlpack_export_refuses_a_tensor_that_requires_grad():
    mine = _raised(lambda: rg.ones(2, requires_grad=True).__dlpack__())
    assert type(mine) is BufferError
    assert "require" in str(mine) and "detach" in str(mine)


def test_dlpack_refusal_matches_pytorch():
    torch = _torch()
    theirs = _raised(lambda: torch.from_dlpack(torch.ones(2, requires_grad=True)))
    mine = _raised(lambda: torch.from_dlpack(rg.ones(2, requires_grad=True)))
    assert (type(mine), str(mine)) == (type(theirs), str(theirs))


def test_from_dlpack_refuses_a_dtype_retrograd_lacks():
    torch = _torch()
    with pytest.raises(TypeError, match="bfloat16|dtype"):
        rg.from_dlpack(torch.ones(2, dtype=torch.bfloat16))


def test_from_dlpack_refuses_objects_without_the_protocol():
    with pytest.raises(TypeError, match="__dlpack__"):
        rg.from_dlpack([1.0, 2.0])


def test_from_dlpack_copy_true_copies():
    array = np.zeros(2)
    x = rg.from_dlpack(array, copy=True)
    x.add_(1.0)
    assert array.tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------
# retrograd.cuda and devices


def test_cuda_reports_no_gpu():
    assert rg.cuda.is_available() is False
    assert rg.cuda.device_count() == 0
    assert rg.cuda.is_initialized() is False


def test_cuda_seeding_and_synchronising_are_harmless():
    assert rg.cuda.manual_seed(0) is None
    assert rg.cuda.manual_seed_all(0) is None
    assert rg.cuda.synchronize() is None
    assert rg.cuda.empty_cache() is None


def test_cuda_queries_that_need_a_gpu_raise_the_cpu_build_error():
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        rg.cuda.current_device()
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        rg.cuda.get_device_name()


@pytest.mark.parametrize(
    "request_gpu",
    [
        lambda: rg.ones(2).cuda(),
        lambda: rg.ones(2).cuda(1),
        lambda: rg.ones(2).to("cuda"),
        lambda: rg.ones(2).to(rg.device("cuda", 0)),
        lambda: rg.ones(2).to(device="cuda:0"),
        lambda: rg.zeros(2, device="cuda"),
        lambda: rg.tensor([1.0], device="cuda"),
        lambda: rg.randn(2, device=rg.device("cuda")),
        lambda: rg.zeros_like(rg.ones(2), device="cuda"),
        lambda: rg.nn.Linear(2, 2, device="cuda"),
        lambda: rg.nn.Linear(2, 2).cuda(),
        lambda: rg.nn.Linear(2, 2).to("cuda"),
        lambda: rg.set_default_device("cuda"),
    ],
)
def test_asking_for_a_gpu_says_this_build_computes_on_the_cpu(request_gpu):
    error = _raised(request_gpu)
    # PyTorch without CUDA raises AssertionError; retrograd's error is also a RuntimeError.
    assert isinstance(error, AssertionError) and isinstance(error, RuntimeError)
    assert "computes on the CPU" in str(error)
    assert "cuda" in str(error)


def test_pytorch_raises_assertion_error_for_the_same_requests():
    torch = _torch()
    if torch.cuda.is_available():
        pytest.skip("this PyTorch has a GPU")
    assert isinstance(_raised(lambda: torch.ones(2).cuda()), AssertionError)
    assert isinstance(_raised(lambda: torch.zeros(2, device="cuda")), AssertionError)


def test_the_usual_device_preamble_runs_on_the_cpu():
    device = rg.device("cuda" if rg.cuda.is_available() else "cpu")
    model = rg.nn.Linear(3, 1).to(device)
    x = rg.ones(2, 3).to(device)
    assert model(x).device == rg.device("cpu")
    assert x.cpu() is x
    assert x.is_cpu and not x.is_cuda and x.get_device() == -1


DEVICE_SPECS = [
    ("cpu",), ("cuda",), ("cuda:1",), ("cpu:0",), ("meta",), ("mps",), ("cuda", 2), ("cpu", 0),
]


@pytest.mark.parametrize("spec", DEVICE_SPECS)
def test_device_prints_and_compares_as_pytorch(spec):
    torch = _torch()
    mine, theirs = rg.device(*spec), torch.device(*spec)
    assert repr(mine) == repr(theirs)
    assert str(mine) == str(theirs)
    assert (mine.type, mine.index) == (theirs.type, theirs.index)
    assert (mine == rg.device(theirs.type)) == (theirs == torch.device(theirs.type))


def test_device_fields_without_pytorch():
    assert repr(rg.device("cuda:1")) == "device(type='cuda', index=1)"
    assert str(rg.device("cuda", 1)) == "cuda:1"
    assert rg.device("cpu").index is None
    assert rg.device(rg.device("cpu", 0)) == rg.device("cpu:0")
    assert rg.device("cpu") != rg.device("cpu", 0)
    assert rg.device("cpu") != "cpu"  # as PyTorch: a device equals only a device
    assert len({rg.device("cpu"), rg.device("cpu")}) == 1
    assert pickle.loads(pickle.dumps(rg.device("cuda", 3))) == rg.device("cuda:3")


@pytest.mark.parametrize(
    "spec", [("foo",), ("cuda:-1",), ("cuda:x",), ("cuda:1", 2), ("cpu", -1), (0,)]
)
def test_bad_devices_raise_pytorchs_errors(spec):
    mine = _raised(lambda: rg.device(*spec))
    assert type(mine) is RuntimeError
    try:
        import torch
    except ImportError:
        return
    theirs = _raised(lambda: torch.device(*spec))
    assert (type(mine), str(mine)) == (type(theirs), str(theirs))


def test_default_device_is_the_cpu():
    assert rg.get_default_device() == rg.device("cpu")
    rg.set_default_device("cpu")
    rg.set_default_device(None)
    assert rg.get_default_device() == rg.device("cpu")


def test_default_device_matches_pytorch():
    torch = _torch()
    assert repr(rg.get_default_device()) == repr(torch.get_default_device())


def test_device_as_a_context_manager():
    with rg.device("cpu"):
        assert rg.zeros(1).device == rg.device("cpu")
    with pytest.raises(RuntimeError, match="computes on the CPU"), rg.device("cuda"):
        pass
    assert rg.get_default_device() == rg.device("cpu")


def test_tensor_device_is_a_device_object():
    assert rg.ones(1).device == rg.device("cpu")
    assert isinstance(rg.ones(1).device, rg.device)


# ---------------------------------------------------------------------------
# The default dtype


@pytest.fixture
def restore_default_dtype():
    yield
    rg.set_default_dtype(rg.float32)


def test_default_dtype_is_float32():
    assert rg.get_default_dtype() is rg.float32


@pytest.mark.usefixtures("restore_default_dtype")
def test_set_default_dtype_changes_new_floating_tensors_and_their_printout():
    rg.set_default_dtype(rg.float64)
    assert rg.tensor([1.5]).dtype is rg.float64
    assert rg.zeros(2).dtype is rg.float64
    assert rg.arange(0.0, 1.0, 0.5).dtype is rg.float64
    assert rg.tensor([1, 2]).dtype is rg.int64
    assert repr(rg.tensor([1.5])) == "tensor([1.5000])"
    assert repr(rg.tensor([1.5], dtype=rg.float32)) == "tensor([1.5000], dtype=retrograd.float32)"


@pytest.mark.usefixtures("restore_default_dtype")
def test_default_dtype_is_process_wide_as_in_pytorch():
    rg.set_default_dtype(rg.float64)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(rg.get_default_dtype()))
    thread.start()
    thread.join()
    assert seen == [rg.float64]


@pytest.mark.usefixtures("restore_default_dtype")
def test_default_dtype_float16():
    rg.set_default_dtype(rg.float16)
    assert rg.tensor([1.5]).dtype is rg.float16


@pytest.mark.parametrize("name", ["int64", "bool"])
def test_set_default_dtype_refuses_non_floating_types_with_pytorchs_error(name):
    mine = _raised(lambda: rg.set_default_dtype(getattr(rg, name)))
    assert type(mine) is TypeError
    assert str(mine) == "only floating-point types are supported as the default type"
    try:
        import torch
    except ImportError:
        return
    theirs = _raised(lambda: torch.set_default_dtype(getattr(torch, name)))
    assert (type(mine), str(mine)) == (type(theirs), str(theirs))


def test_set_default_dtype_refuses_a_python_type():
    with pytest.raises(TypeError, match="invalid dtype object"):
        rg.set_default_dtype(float)
    assert rg.get_default_dtype() is rg.float32


# ---------------------------------------------------------------------------
# NumPy functions on tensors give tensors (__array_wrap__)


UFUNC_CALLS = {
    "exp": lambda lib, np_: np_.exp(lib.tensor([0.5, 1.0])),
    "add_number": lambda lib, np_: np_.add(lib.tensor([1.0, 2.0]), 1),
    "sqrt_of_int": lambda lib, np_: np_.sqrt(lib.tensor([1, 4])),
    "maximum": lambda lib, np_: np_.maximum(lib.tensor([-1.0, 2.0]), 0),
    "tensor_plus_array": lambda lib, np_: lib.tensor([1.0, 2.0]) + np_.ones(2),
    "zero_dim": lambda lib, np_: np_.exp(lib.tensor(1.0)),
    "comparison": lambda lib, np_: np_.greater(lib.tensor([1.0, -1.0]), 0),
    "float64": lambda lib, np_: np_.exp(lib.tensor([1.0], dtype=lib.float64)),
    "divmod": lambda lib, np_: np_.divmod(lib.tensor([3.0, 5.0]), 2)[1],
}


@pytest.mark.parametrize("name", sorted(UFUNC_CALLS))
def test_numpy_ufuncs_on_tensors_give_tensors(name):
    result = UFUNC_CALLS[name](rg, np)
    assert isinstance(result, rg.Tensor)


@pytest.mark.parametrize("name", sorted(UFUNC_CALLS))
def test_numpy_ufuncs_on_tensors_match_pytorch(name):
    torch = _torch()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch's __array_wrap__ is old-style
        theirs = UFUNC_CALLS[name](torch, np)
    mine = UFUNC_CALLS[name](rg, np)
    assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert repr(mine).replace("retrograd.", "torch.") == repr(theirs)


def test_numpy_ufunc_refuses_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(rg.ones(2, requires_grad=True))


# ---------------------------------------------------------------------------
# The reproducibility preamble of PyTorch scripts runs unchanged


def _seed_everything(torch, seed: int) -> None:
    """The set_seed function found at the top of many training scripts."""
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def test_the_usual_seeding_preamble_runs():
    _seed_everything(rg, 0)
    first = rg.randn(3).tolist()
    _seed_everything(rg, 0)
    assert rg.randn(3).tolist() == first
    assert rg.backends.cudnn.deterministic is True


@pytest.mark.parametrize(
    "query",
    [
        lambda lib: lib.cuda.is_available(),
        lambda lib: lib.cuda.device_count(),
        lambda lib: lib.cuda.is_initialized(),
        lambda lib: lib.backends.mps.is_available(),
        lambda lib: lib.backends.mps.is_built(),
        lambda lib: lib.backends.cudnn.is_available(),
        lambda lib: lib.backends.cudnn.version(),
        lambda lib: lib.backends.cuda.is_built(),
        lambda lib: lib.accelerator.is_available(),
        lambda lib: lib.accelerator.device_count(),
        lambda lib: lib.accelerator.current_accelerator(),
    ],
)
def test_gpu_queries_answer_as_pytorch_built_without_gpus(query):
    torch = _torch()
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this PyTorch has a GPU")
    assert query(rg) == query(torch)


def test_from_dlpack_refuses_device_memory():
    class OnTheGpu:
        def __dlpack__(self, **kwargs):
            raise AssertionError("must not be read")

        def __dlpack_device__(self):
            return (2, 0)  # kDLCUDA

    with pytest.raises(RuntimeError, match="computes on the CPU"):
        rg.from_dlpack(OnTheGpu())
