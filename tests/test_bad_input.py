"""Bad input, table-driven: every call must fail (or succeed) as PyTorch's does, and a
failing call must change nothing.

The first table is derived from the op table: each op's samples are spoiled in one way
(a string for the first argument, a dim out of range, integer inputs, float32 mixed with
float64, NaNs, empty inputs, an incompatible shape) and the same call is made on PyTorch.
Where PyTorch raises, ours must raise the same kind of exception (PyTorch's own exception
classes count as their built-in base); where PyTorch succeeds, ours must give the same
values. Either way no input tensor's data, `_version` or `.grad` may change.

The second table lists hand-written calls to creation functions, the autograd API, nn
modules, optimisers and `retrograd.load`, each with the words its message must contain.

Known differences from PyTorch are listed in GAPS, keyed by the sample they fail on, and
marked as strict xfails with the reason: the suite says what is left to fix, and fails when
one is fixed until its entry is removed.
"""

from __future__ import annotations

import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from op_samples import samples_for
from programs import torch_function
from retrograd.ops import table

# ---------------------------------------------------------------------------
# Spoiling the op table's samples


def _first_string(args, kwargs):
    return ("abc", *args[1:]), kwargs, None


def _dim_out_of_range(args, kwargs):
    if not isinstance(kwargs.get("dim"), int) or isinstance(kwargs.get("dim"), bool):
        return None
    return args, {**kwargs, "dim": 7}, None


def _integers(array):
    return array.astype(np.int64) if array.dtype.kind == "f" else array


def _nans(array):
    if array.dtype.kind != "f":
        return array
    return np.where(np.arange(array.size).reshape(array.shape) % 2 == 0, np.nan, array)


def _empty(array):
    if array.dtype.kind != "f" or array.ndim == 0:
        return array
    return np.zeros((0, *array.shape[1:]), array.dtype)


def _mixed_precision():
    seen = [0]

    def convert(array):
        if array.dtype.kind != "f":
            return array
        seen[0] += 1
        return array.astype(np.float32) if seen[0] % 2 else array

    return convert


def _second_tensor_wrong_shape(args, kwargs):
    tensors = [i for i, a in enumerate(args) if isinstance(a, retrograd.Tensor) and a.dtype.is_floating_point]
    if len(tensors) < 2 or args[tensors[1]].ndim == 0:
        return None
    spoiled = list(args)
    spoiled[tensors[1]] = retrograd.tensor(np.ones((5, 7, 2)))
    return tuple(spoiled), kwargs, None


SPOILERS = {
    "first_argument_a_string": _first_string,
    "dim_out_of_range": _dim_out_of_range,
    "integer_inputs": lambda args, kwargs: (args, kwargs, lambda: _integers),
    "float32_mixed_with_float64": lambda args, kwargs: (args, kwargs, _mixed_precision),
    "nan_inputs": lambda args, kwargs: (args, kwargs, lambda: _nans),
    "empty_inputs": lambda args, kwargs: (args, kwargs, lambda: _empty),
    "second_tensor_wrong_shape": _second_tensor_wrong_shape,
}
MESSAGE_WORDS = {"dim_out_of_range": ["Dimension out of range"]}

# Where we knowingly differ from PyTorch (spoiler -> "op-sample" -> why), keyed by the sample
# that fails: each is a strict xfail, so a sample that starts to pass fails the run until its
# entry is removed. See the module docstring.
GAPS: dict[str, dict[str, str]] = {
    "first_argument_a_string": {},
    "integer_inputs": {},
    "float32_mixed_with_float64": {},
    "nan_inputs": {
        # (README, Differences from PyTorch: NaN inside linalg.qr)
        "linalg.qr-2": "NaN input: PyTorch's BLAS gives a finite norm for a column holding NaN, NumPy's NaN",
    },
    "empty_inputs": {
        # (README, Differences from PyTorch: PyTorch's internal errors on an empty batch)
        "instance_norm-1": "an empty batch with weight: PyTorch raises IndexError from inside (select()), "
                           "we give the empty result as without weight",
        "addmv-1": "a 0-d input with an empty matrix: PyTorch raises IndexError from inside, we RuntimeError "
                   "for the sizes that do not fit",
        "batch_norm-0": "empty weight and bias of the wrong size: PyTorch raises IndexError from inside, we "
                        "RuntimeError naming the size",
        "batch_norm-2": "an empty batch with running statistics that require grad: PyTorch skips its check, "
                        "we refuse them as for a batch that is not empty",
        "index_fill-1": "an index into an empty dim: PyTorch raises RuntimeError from inside (setStorage), "
                        "we IndexError as for a dim that is not empty",
    },
    "second_tensor_wrong_shape": {},
    "dim_out_of_range": {},
}


def _cases():
    for name, info in sorted(table.items()):
        if samples_for(info) is None:
            continue
        for index, (args, kwargs) in enumerate(samples_for(info)(np.random.default_rng(0))[:3]):
            speed = [] if index == 0 else [pytest.mark.slow]
            for spoiler_name, spoiler in SPOILERS.items():
                spoiled = spoiler(args, kwargs)
                if spoiled is None:
                    continue
                marks = list(speed)
                reason = GAPS.get(spoiler_name, {}).get(f"{name}-{index}")
                if reason is not None:
                    marks.append(pytest.mark.xfail(reason=reason, raises=AssertionError, strict=True))
                yield pytest.param(info, spoiler_name, spoiled, id=f"{name}-{index}-{spoiler_name}", marks=marks)


def test_every_gap_names_a_spoiled_sample():
    ids = {param.id for param in _cases()}
    listed = {f"{key}-{spoiler}" for spoiler, keys in GAPS.items() for key in keys}
    assert listed - ids == set()


def _convert(value, lib, array_map):
    if isinstance(value, retrograd.Tensor):
        array = array_map(value.detach().numpy()) if array_map is not None else value.detach().numpy()
        return lib.tensor(array)
    if isinstance(value, tuple | list):
        return type(value)(_convert(item, lib, array_map) for item in value)
    if isinstance(value, dict):
        return {key: _convert(item, lib, array_map) for key, item in value.items()}
    if isinstance(value, retrograd.dtype):
        return getattr(lib, value.name)
    return value


def _tensors(value, kind=retrograd.Tensor) -> list:
    if isinstance(value, kind):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item, kind)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item, kind)]
    return []


def _outcome(call):
    try:
        return call(), None
    except Exception as error:
        return None, error


def builtin_base(kind: type) -> type:
    """The built-in exception class a PyTorch exception class derives from (itself if built-in)."""
    for base in kind.__mro__:
        if base.__module__ == "builtins":
            return base
    return Exception


def state_of(tensors) -> list:
    return [(t._data.copy(), t._version, None if t.grad is None else t.grad._data.copy()) for t in tensors]


def assert_unchanged(before, tensors):
    for (data, version, grad), tensor in zip(before, tensors):
        np.testing.assert_array_equal(tensor._data, data)
        assert tensor._version == version
        if grad is None:
            assert tensor.grad is None
        else:
            np.testing.assert_array_equal(tensor.grad._data, grad)


def _with_grads(tensors):
    """Floating inputs become leaves that require grad and already hold a .grad."""
    for tensor in tensors:
        if tensor.dtype.is_floating_point:
            tensor.requires_grad_(True)
            tensor.grad = retrograd.ones_like(tensor)


def _as_outputs(result) -> list:
    if isinstance(result, tuple | list):
        return [r for item in result for r in _as_outputs(item)]
    return [result]


# Ops whose index among equal values (or among NaNs) PyTorch does not specify: its choice follows
# its partial sort; ours is the first in order. Their values must match PyTorch's and their
# indices must point at those values.
TIES_UNSPECIFIED = {"topk", "kthvalue", "mode"}
# Calls that write into an argument on purpose, as PyTorch's do: (op, keyword) -> the position of
# the argument written (embedding renormalises the rows of `weight` it looks up, with max_norm).
WRITES_ARGUMENT = {("embedding", "max_norm"): 1}


def _assert_indices_select_values(result, args, kwargs):
    values, indices = (part.detach().numpy() for part in result)
    data = args[0].detach().numpy()
    if data.ndim == 0:
        np.testing.assert_array_equal(data, values)
        return
    dim = kwargs["dim"] if "dim" in kwargs else args[1] if len(args) > 1 else -1  # as the samples pass it
    dim %= data.ndim
    if indices.ndim < data.ndim:
        indices, values = np.expand_dims(indices, dim), np.expand_dims(values, dim)
    np.testing.assert_array_equal(np.take_along_axis(data, indices, axis=dim), values)


def assert_same_failure(ours_error, theirs_error, words=()):
    assert ours_error is not None, f"PyTorch raised {theirs_error!r}; we did not"
    expected = builtin_base(type(theirs_error))
    assert isinstance(ours_error, expected), f"{ours_error!r} is not a {expected.__name__} like PyTorch's {theirs_error!r}"
    assert str(ours_error).strip(), "the message is empty"
    for word in words:
        assert word.lower() in str(ours_error).lower(), f"{word!r} not in {ours_error}"


@needs_torch
@pytest.mark.parametrize(("info", "spoiler", "spoiled"), list(_cases()))
def test_spoiled_table_sample_fails_as_pytorch_and_changes_nothing(info, spoiler, spoiled):
    args, kwargs, make_array_map = spoiled
    array_map = None if make_array_map is None else make_array_map()
    torch_args, torch_kwargs = _convert(args, torch, array_map), _convert(kwargs, torch, None)
    if not info.mutates_input:  # the same inputs require grad on both sides (see _with_grads)
        for tensor in _tensors(torch_args, torch.Tensor) + _tensors(torch_kwargs, torch.Tensor):
            if tensor.dtype.is_floating_point:
                tensor.requires_grad_(True)
    # Ops whose raw outputs are not comparable (eigenvector signs) are compared through the
    # wrapper the gradient tests use, on both sides.
    wrap = info.gradcheck_wrapper or (lambda op: op)
    theirs, theirs_error = _outcome(lambda: wrap(torch_function(torch, info.torch_name))(*torch_args, **torch_kwargs))
    array_map = None if make_array_map is None else make_array_map()
    our_args, our_kwargs = _convert(args, retrograd, array_map), _convert(kwargs, retrograd, None)
    inputs = _tensors(our_args) + _tensors(our_kwargs)
    watched = inputs[1:] if info.mutates_input else inputs
    written = [our_args[position] for (name, keyword), position in WRITES_ARGUMENT.items()
               if name == info.name and our_kwargs.get(keyword) is not None]
    watched = [tensor for tensor in watched if not any(tensor is argument for argument in written)]
    if not info.mutates_input:
        _with_grads(watched)
    before = state_of(watched)
    ours, ours_error = _outcome(lambda: wrap(info.function)(*our_args, **our_kwargs))
    assert_unchanged(before, watched)
    if theirs_error is not None:
        assert_same_failure(ours_error, theirs_error, MESSAGE_WORDS.get(spoiler, ()))
        return
    assert ours_error is None, f"we raised {ours_error!r}; PyTorch gave a result"
    if info.name in TIES_UNSPECIFIED:
        _assert_indices_select_values(ours, our_args, our_kwargs)
        ours, theirs = ours[0], theirs[0]
    for mine, reference in zip(_as_outputs(ours), _as_outputs(theirs)):
        if not isinstance(reference, torch.Tensor):
            continue
        assert tuple(mine.shape) == tuple(reference.shape)
        assert mine.dtype.name == str(reference.dtype).removeprefix("torch.")
        expected = reference.detach().numpy()
        np.testing.assert_allclose(mine.detach().numpy(), expected, rtol=1e-5, atol=1e-6, equal_nan=True)


# ---------------------------------------------------------------------------
# Hand-written bad calls: creation, autograd API, tensors, nn modules, optimisers


def _fingerprint(value):
    """Everything observable about `value` that a failed call must not change."""
    if isinstance(value, retrograd.Tensor):
        return ("tensor", value._data.tobytes(), value._data.shape, str(value.dtype), value._version,
                value.requires_grad, _fingerprint(value.grad))
    if isinstance(value, retrograd.nn.Module):
        params = [(name, _fingerprint(p)) for name, p in value.named_parameters()]
        return ("module", params, _fingerprint(dict(value.state_dict())), value.training)
    if isinstance(value, retrograd.optim.Optimizer):
        return ("optimizer", _fingerprint(value.state_dict()))
    if isinstance(value, dict):
        return tuple((key, _fingerprint(item)) for key, item in value.items())
    if isinstance(value, tuple | list):
        return tuple(_fingerprint(item) for item in value)
    return value


def _nothing(lib) -> dict:
    return {}


def _leaf(lib, values=(1.0, 2.0, 3.0)):
    return lib.tensor(list(values), requires_grad=True)


def _model_and_optimizer(lib, optimizer="SGD", **options):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    return {"model": model, "optimizer": getattr(lib.optim, optimizer)(model.parameters(), lr=0.1, **options)}


def _stepped(lib):
    env = _model_and_optimizer(lib, "Adam")
    env["model"](lib.ones(4, 3)).sum().backward()
    env["optimizer"].step()
    return env


def _saved_and_modified(lib):
    x = _leaf(lib)
    y = x.exp()
    y.add_(1)
    return {"x": x, "y": y}


def _used_once(lib):
    x = _leaf(lib)
    y = (x * x).sum()
    y.backward()
    return {"x": x, "y": y}


CASES = {
    # creation
    "zeros_negative_size": (_nothing, lambda lib, env: lib.zeros(-1), ["negative dimension"]),
    "zeros_size_a_string": (_nothing, lambda lib, env: lib.zeros("a"), ["tuple of ints", "str"]),
    "ones_size_a_float": (_nothing, lambda lib, env: lib.ones(2.5), ["tuple of ints", "float"]),
    "randn_negative_size": (_nothing, lambda lib, env: lib.randn(-2), ["negative dimension"]),
    "tensor_ragged": (_nothing, lambda lib, env: lib.tensor([[1.0, 2.0], [3.0]]), ["sequence"]),
    "tensor_of_a_string": (_nothing, lambda lib, env: lib.tensor("abc"), ["str"]),
    "arange_zero_step": (_nothing, lambda lib, env: lib.arange(0, 10, 0), ["step must be nonzero"]),
    "arange_wrong_direction": (_nothing, lambda lib, env: lib.arange(0, 10, -1), ["step"]),
    "eye_negative": (_nothing, lambda lib, env: lib.eye(-1), ["n must be greater or equal to 0"]),
    "linspace_negative_steps": (_nothing, lambda lib, env: lib.linspace(0, 1, -1), ["number of steps must be non-negative"]),
    "zeros_absurd_size": (_nothing, lambda lib, env: lib.zeros(10**6, 10**6, 10**6), ["allocate"]),
    # tensors
    "item_of_several_elements": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].item(), ["3 elements", "Scalar"]),
    "view_of_a_wrong_size": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].view(5), ["shape '[5]' is invalid", "size 3"]),
    "reshape_two_inferred_dims": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].reshape(-1, -1), ["only one dimension can be inferred"]),
    "index_out_of_bounds": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"][10], ["index 10 is out of bounds", "size 3"]),
    "negative_index_out_of_bounds": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"][-4], ["out of bounds"]),
    "too_many_indices": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"][0, 0], ["too many indices"]),
    "sum_dim_out_of_range": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].sum(dim=5), ["Dimension out of range"]),
    "numpy_of_a_tensor_requiring_grad": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].numpy(), ["requires grad", "detach"]),
    "setitem_of_a_leaf_requiring_grad": (
        lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].__setitem__(0, 5.0), ["leaf Variable", "in-place"]),
    "add_shapes_not_broadcastable": (
        lambda lib: {"x": _leaf(lib), "y": lib.ones(4)}, lambda lib, env: env["x"] + env["y"], ["size of tensor a (3)", "tensor b (4)"]),
    "add_a_string": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"] + "a", ["unsupported operand"]),
    "matmul_shapes_mismatch": (
        lambda lib: {"a": lib.ones(2, 3), "b": lib.ones(4, 2)}, lambda lib, env: env["a"] @ env["b"], ["cannot be multiplied", "2x3", "4x2"]),
    "in_place_on_an_integer_tensor_with_a_float_result": (
        lambda lib: {"x": lib.tensor([1, 2])}, lambda lib, env: env["x"].mul_(1.5), ["can't be cast", "Long"]),
    "gather_index_out_of_range": (
        lambda lib: {"x": _leaf(lib), "i": lib.tensor([5])}, lambda lib, env: env["x"].gather(0, env["i"]), ["out of bounds"]),
    "index_select_float_index": (
        lambda lib: {"x": _leaf(lib), "i": lib.tensor([0.0])}, lambda lib, env: env["x"].index_select(0, env["i"]), ["index"]),
    # autograd API
    "backward_of_a_vector": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: (env["x"] + 1).backward(),
                             ["grad can be implicitly created only for scalar outputs"]),
    "backward_without_grad": (_nothing, lambda lib, env: lib.ones(2).sum().backward(), ["does not require grad"]),
    "backward_twice": (_used_once, lambda lib, env: env["y"].backward(), ["backward through the graph a second time"]),
    "backward_gradient_of_a_wrong_shape": (
        lambda lib: {"x": _leaf(lib)}, lambda lib, env: (env["x"] * 2).backward(lib.ones(2)), ["Mismatch in shape"]),
    "grad_of_an_unused_input": (
        lambda lib: {"x": _leaf(lib), "z": _leaf(lib)},
        lambda lib, env: lib.autograd.grad((env["x"] * 2).sum(), env["z"]), ["appears to not have been used in the graph"]),
    "grad_of_an_input_not_requiring_grad": (
        lambda lib: {"x": _leaf(lib), "z": lib.ones(3)},
        lambda lib, env: lib.autograd.grad((env["x"] * 2).sum(), env["z"]), ["does not require grad"]),
    "grad_outputs_of_a_wrong_shape": (
        lambda lib: {"x": _leaf(lib)},
        lambda lib, env: lib.autograd.grad(env["x"] * 2, env["x"], grad_outputs=lib.ones(4)), ["Mismatch in shape"]),
    "saved_tensor_modified_in_place": (_saved_and_modified, lambda lib, env: env["y"].sum().backward(),
                                       ["modified by an inplace operation"]),
    "leaf_requiring_grad_modified_in_place": (lambda lib: {"x": _leaf(lib)}, lambda lib, env: env["x"].add_(1),
                                              ["leaf Variable that requires grad"]),
    "requires_grad_on_an_integer_tensor": (
        lambda lib: {"x": lib.tensor([1, 2])}, lambda lib, env: env["x"].requires_grad_(), ["floating point"]),
    "grad_assigned_of_a_wrong_shape": (
        lambda lib: {"x": _leaf(lib)}, lambda lib, env: setattr(env["x"], "grad", lib.ones(2)), ["different size"]),
    "grad_assigned_of_a_wrong_dtype": (
        lambda lib: {"x": _leaf(lib)}, lambda lib, env: setattr(env["x"], "grad", lib.ones(3, dtype=lib.float64)), ["type"]),
    "grad_assigned_not_a_tensor": (
        lambda lib: {"x": _leaf(lib)}, lambda lib, env: setattr(env["x"], "grad", [1.0, 2.0, 3.0]), ["Tensor"]),
    # nn modules
    "linear_input_of_a_wrong_width": (
        _model_and_optimizer, lambda lib, env: env["model"](lib.ones(2, 5)), ["cannot be multiplied", "2x5", "3x2"]),
    "linear_negative_features": (_nothing, lambda lib, env: lib.nn.Linear(-1, 2), ["negative dimension"]),
    "load_state_dict_missing_key": (
        _model_and_optimizer, lambda lib, env: env["model"].load_state_dict({"weight": lib.zeros(2, 3)}), ["Missing key(s)", "bias"]),
    "load_state_dict_unexpected_key": (
        _model_and_optimizer,
        lambda lib, env: env["model"].load_state_dict({**env["model"].state_dict(), "extra": lib.zeros(1)}), ["Unexpected key(s)", "extra"]),
    "load_state_dict_wrong_shape": (
        _model_and_optimizer,
        lambda lib, env: env["model"].load_state_dict({"weight": lib.zeros(3, 3), "bias": lib.zeros(2)}), ["size mismatch", "weight"]),
    "cross_entropy_target_out_of_range": (
        _nothing, lambda lib, env: lib.nn.functional.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 5])), ["out of bounds"]),
    "mse_loss_shapes_not_broadcastable": (
        _nothing, lambda lib, env: lib.nn.functional.mse_loss(lib.zeros(2, 3), lib.zeros(4)), ["size of tensor"]),
    # optimisers
    "sgd_negative_learning_rate": (
        _model_and_optimizer, lambda lib, env: lib.optim.SGD(env["model"].parameters(), lr=-1.0), ["Invalid learning rate"]),
    "sgd_negative_momentum": (
        _model_and_optimizer, lambda lib, env: lib.optim.SGD(env["model"].parameters(), lr=0.1, momentum=-1.0), ["Invalid momentum"]),
    "sgd_negative_weight_decay": (
        _model_and_optimizer, lambda lib, env: lib.optim.SGD(env["model"].parameters(), lr=0.1, weight_decay=-1.0),
        ["Invalid weight_decay"]),
    "sgd_no_parameters": (_nothing, lambda lib, env: lib.optim.SGD([], lr=0.1), ["empty parameter list"]),
    "sgd_given_a_tensor": (
        lambda lib: {"x": _leaf(lib)}, lambda lib, env: lib.optim.SGD(env["x"], lr=0.1), ["iterable of Tensors or dicts"]),
    "adam_beta_out_of_range": (
        _model_and_optimizer, lambda lib, env: lib.optim.Adam(env["model"].parameters(), betas=(1.5, 0.9)), ["Invalid beta parameter at index 0"]),
    "adam_negative_epsilon": (
        _model_and_optimizer, lambda lib, env: lib.optim.Adam(env["model"].parameters(), eps=-1.0), ["Invalid epsilon"]),
    "adamw_negative_learning_rate": (
        _model_and_optimizer, lambda lib, env: lib.optim.AdamW(env["model"].parameters(), lr=-1.0), ["Invalid learning rate"]),
    "optimizer_state_of_another_shape": (
        _stepped,
        lambda lib, env: env["optimizer"].load_state_dict({**env["optimizer"].state_dict(), "param_groups": []}),
        ["different number of parameter groups"]),
}
# PyTorch's load_state_dict copies the matching entries before it reports the others; so do we.
CHANGES_STATE_AS_PYTORCH = {"load_state_dict_missing_key", "load_state_dict_unexpected_key", "load_state_dict_wrong_shape"}
CASE_GAPS: dict[str, str] = {}


def _case_params():
    for name, case in sorted(CASES.items()):
        marks = [pytest.mark.xfail(reason=CASE_GAPS[name], strict=True)] if name in CASE_GAPS else []
        yield pytest.param(*case, name not in CHANGES_STATE_AS_PYTORCH, id=name, marks=marks)


@needs_torch
@pytest.mark.parametrize(("build", "call", "words", "keeps_state"), list(_case_params()))
def test_bad_call_fails_as_pytorch_names_the_problem_and_changes_nothing(build, call, words, keeps_state):
    theirs_env = build(torch)
    _, theirs_error = _outcome(lambda: call(torch, theirs_env))
    assert theirs_error is not None, "the case is not an error in PyTorch"
    env = build(retrograd)
    before = _fingerprint(env)
    _, ours_error = _outcome(lambda: call(retrograd, env))
    if keeps_state:
        assert _fingerprint(env) == before
    assert_same_failure(ours_error, theirs_error, words)


# ---------------------------------------------------------------------------
# retrograd.load on hostile files


class _RunsCode:
    """A pickle that would create a file when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def _good_file(tmp_path):
    path = tmp_path / "good.rg"
    retrograd.save({"w": retrograd.ones(4, 4)}, path)
    return path


def test_load_refuses_a_pickle_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(RuntimeError, match="retrograd.load"):
        retrograd.load(path)
    assert not marker.exists()


def test_load_refuses_a_pickle_inside_an_npz_member(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.npz"
    np.savez(path, __retrograd__=np.array([_RunsCode(marker)], dtype=object))
    with pytest.raises(RuntimeError):
        retrograd.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_load_refuses_a_truncated_file(tmp_path, keep):
    data = _good_file(tmp_path).read_bytes()
    cut = tmp_path / "cut.rg"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(RuntimeError, match="retrograd.load"):
        retrograd.load(cut)


@pytest.mark.parametrize("content", [b"", b"hello world\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"PK\x03\x04" + b"\0" * 10])
def test_load_refuses_a_foreign_file(tmp_path, content):
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match="retrograd.load"):
        retrograd.load(path)


def test_load_refuses_a_zip_of_other_things(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not ours")
    with pytest.raises(RuntimeError, match="not a retrograd file"):
        retrograd.load(path)


def test_load_refuses_a_header_claiming_an_absurd_size_without_allocating_it(tmp_path):
    data = _good_file(tmp_path).read_bytes()
    claimed, absurd = b"(4, 4)", b"(999999999, 999999999)"
    position = data.find(claimed)
    header_end = data.find(b"\n", position)
    grow = len(absurd) - len(claimed)
    assert position > 0 and data[header_end - grow : header_end] == b" " * grow
    forged = data[:position] + absurd + data[position + len(claimed) : header_end - grow] + data[header_end:]
    assert len(forged) == len(data)
    path = tmp_path / "absurd.rg"
    path.write_bytes(forged)
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match="retrograd.load"):
            retrograd.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20
