"""`out=`: an op writes its result into a given tensor, as PyTorch's out variants do
(see Note [out= arguments] in ops/_out.py)."""

import warnings

import numpy as np
import pytest

import retrograd
from op_samples import samples_for
from retrograd.ops import table
from retrograd.ops._out import ACCEPTS_OUT

try:
    import torch
except ImportError:  # the cross-checks below skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def test_out_receives_the_result_and_is_returned():
    x = retrograd.tensor([1.0, 2.0])
    out = retrograd.empty(2)
    result = retrograd.add(x, x, out=out)
    assert result is out
    assert out.tolist() == [2.0, 4.0]


def test_out_write_moves_the_version_counter_and_reaches_views():
    base = retrograd.ones(4)
    retrograd.mul(retrograd.tensor([2.0, 3.0]), 2, out=base[:2])
    assert base.tolist() == [4.0, 6.0, 1.0, 1.0]
    assert base._version == 1


def test_out_write_is_caught_by_a_graph_that_saved_out():
    weight = retrograd.tensor([1.0, 2.0], requires_grad=True)
    saved = retrograd.ones(2)
    product = weight * saved
    retrograd.sin(retrograd.zeros(2), out=saved)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        product.sum().backward()


def test_out_of_another_shape_is_resized_with_pytorchs_warning():
    out = retrograd.empty(5)
    with pytest.warns(UserWarning, match=r"had shape \[5\], which does not match the required "
                                         r"output shape \[2\].*t\.resize_\(0\)"):
        retrograd.add(retrograd.ones(2), 1, out=out)
    assert out.shape == (2,)


def test_empty_out_is_resized_silently():
    out = retrograd.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        retrograd.matmul(retrograd.ones(2, 3), retrograd.ones(3, 4), out=out)
    assert out.shape == (2, 4)


def test_out_refuses_a_float_result_in_an_integer_tensor():
    out = retrograd.empty(2, dtype=retrograd.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        retrograd.sin(retrograd.tensor([1, 2]), out=out)


def test_out_takes_a_result_of_a_lower_category_or_precision():
    out = retrograd.empty(2)
    retrograd.eq(retrograd.tensor([1, 2]), retrograd.tensor([1, 3]), out=out)
    assert out.tolist() == [1.0, 0.0]
    retrograd.add(retrograd.ones(2, dtype=retrograd.float64), 1, out=out)
    assert out.dtype is retrograd.float32 and out.tolist() == [2.0, 2.0]


def test_matrix_products_want_out_of_exactly_their_dtype():
    out = retrograd.empty(0, dtype=retrograd.float64)
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float, but got double instead"):
        retrograd.mm(retrograd.ones(1, 2), retrograd.ones(2, 2), out=out)


def test_out_with_an_input_that_requires_grad_is_refused():
    x = retrograd.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out=\.\.\. arguments don't support "
                                           "automatic differentiation, but one of the arguments requires grad"):
        retrograd.add(x, x, out=retrograd.empty(2))
    with pytest.raises(RuntimeError, match=r"cat\(\): functions with out=\.\.\. arguments"):
        retrograd.cat([x, x], out=retrograd.empty(4))


def test_out_that_requires_grad_is_refused_in_grad_mode_and_written_under_no_grad():
    out = retrograd.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        retrograd.add(retrograd.ones(2), 1, out=out)
    with retrograd.no_grad():
        retrograd.add(retrograd.ones(2), 1, out=out)
    assert out.tolist() == [2.0, 2.0] and out.requires_grad and out._version == 1


def test_an_op_with_several_results_takes_a_tuple_and_returns_its_named_tuple():
    values, indices = retrograd.empty(0), retrograd.empty(0, dtype=retrograd.int64)
    result = retrograd.max(retrograd.tensor([[1.0, 5.0], [3.0, 2.0]]), 0, out=(values, indices))
    assert result.values is values and result.indices is indices
    assert values.tolist() == [3.0, 5.0] and indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match="tuple of 2 Tensors"):
        retrograd.max(retrograd.ones(2, 2), 0, out=retrograd.empty(0))


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not int"):
        retrograd.add(retrograd.ones(2), 1, out=3)


def test_out_with_a_shared_element_is_refused():
    expanded = retrograd.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        retrograd.add(retrograd.ones(3), 1, out=expanded)


def test_out_aliasing_an_input_reads_the_input_first():
    x = retrograd.tensor([1.0, 2.0, 3.0])
    retrograd.cumsum(x, 0, out=x)
    assert x.tolist() == [1.0, 3.0, 6.0]


def test_creation_functions_make_values_in_outs_dtype_and_resize_silently():
    out = retrograd.empty(5, dtype=retrograd.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert retrograd.arange(3, out=out) is out
    assert out.tolist() == [0, 1, 2] and out.dtype is retrograd.int64
    assert retrograd.zeros(2, 2, out=retrograd.empty(0)).shape == (2, 2)
    assert retrograd.linspace(0, 2, 3, out=retrograd.empty(0, dtype=retrograd.int64)).tolist() == [0, 1, 2]
    retrograd.manual_seed(0)
    drawn = retrograd.rand(3, dtype=retrograd.float64)
    retrograd.manual_seed(0)
    out = retrograd.empty(0, dtype=retrograd.float64)
    retrograd.rand(3, out=out)
    assert out.tolist() == drawn.tolist()


def test_public_functions_that_take_out_are_the_tables():
    """`retrograd.<name>` (and aliases such as `arccos`) are the out-taking functions."""
    for name in ACCEPTS_OUT:
        if name.startswith("linalg."):
            public = getattr(retrograd.linalg, name.removeprefix("linalg."))
        else:
            public = getattr(retrograd, name, None) or getattr(retrograd.nn.functional, name)
        assert public is table[name].function, name
    assert retrograd.arccos is retrograd.acos
    assert retrograd.arccos(retrograd.ones(1), out=retrograd.empty(1)).tolist() == [0.0]


def test_function_forms_of_in_place_ops():
    assert retrograd.gcd_(retrograd.tensor([4]), retrograd.tensor([6])).tolist() == [2]
    x = retrograd.tensor([1.0, 3.0])
    assert retrograd.threshold_(x, 2.0, 0.0) is x and x.tolist() == [0.0, 3.0]
    assert retrograd.selu_(retrograd.zeros(1)).tolist() == [0.0]


# ---------------------------------------------------------------------------
# Against PyTorch: which functions take out=, and what they do


def _to_torch(value):
    if isinstance(value, retrograd.Tensor):
        return torch.from_numpy(value.detach().numpy().copy())
    if isinstance(value, tuple | list):
        return type(value)(_to_torch(item) for item in value)
    if isinstance(value, retrograd.dtype):
        return getattr(torch, value.name)
    return value


def _no_gradient_samples() -> dict:
    """A call for each op that takes out= and has no gradient, hence no sample among the gradient
    tests' (tests/op_samples/): name -> (args, kwargs)."""
    t = retrograd.tensor
    floats = t([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
    others = t([[1.5, 2.5, -3.0], [2.0, 4.0, -1.0]])
    left, right = t([[6, 4, 9], [12, 5, 7]]), t([[4, 6, 3], [8, 10, 2]])
    shifts = t([[1, 2, 0], [3, 1, 2]])
    truths, more_truths = t([True, False, True, False]), t([True, True, False, False])
    special = t([-float("inf"), float("inf"), 1.0, float("nan"), -0.0])
    samples = {
        **dict.fromkeys(("argmax", "argmin"), ((floats,), {"dim": 1})),
        **dict.fromkeys(("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"), ((left, right), {})),
        **dict.fromkeys(("bitwise_left_shift", "bitwise_right_shift"), ((left, shifts), {})),
        **dict.fromkeys(("eq", "ne", "ge", "gt", "le", "lt", "floor_divide"), ((floats, others), {})),
        **dict.fromkeys(("logical_and", "logical_or", "logical_xor"), ((truths, more_truths), {})),
        **dict.fromkeys(("isneginf", "isposinf", "signbit"), ((special,), {})),
        "bitwise_not": ((left,), {}),
        "logical_not": ((truths,), {}),
        "frexp": ((floats,), {}),
        "heaviside": ((t([-1.0, 0.0, 2.0]), t([0.5, 0.25, 0.5])), {}),
        "histc": ((floats,), {"bins": 4, "min": -2, "max": 4}),
        "nextafter": ((floats, t(0.0)), {}),
        "nonzero": ((t([[0, 1], [2, 0]]),), {}),
        # ops without out= (in PyTorch, or not yet here: OUT_NOT_YET), for the comparison of
        # which ops take it
        **dict.fromkeys(("all", "any"), ((t([[True, False], [True, True]]),), {"dim": 1})),
        **dict.fromkeys(("allclose", "equal", "is_same_size", "isclose"), ((floats, others), {})),
        **dict.fromkeys(("argsort", "unique_consecutive"), ((floats,), {"dim": 1})),
        **dict.fromkeys(("argwhere", "count_nonzero", "is_signed", "isreal", "unique"), ((floats,), {})),
        **dict.fromkeys(("isfinite", "isinf", "isnan"), ((special,), {})),
        "bernoulli": ((t([0.2, 0.5, 0.9]),), {}),
        "binomial": ((t([5.0, 10.0]), t([0.5, 0.25])), {}),
        "bincount": ((t([1, 2, 2, 5]),), {}),
        "is_nonzero": ((t([1.0]),), {}),
        "multinomial": ((t([0.2, 0.5, 0.3]), 2), {}),
        "normal": ((t([0.0, 1.0, 2.0]), 1.0), {}),
        "one_hot": ((t([0, 2, 1]),), {}),
        "poisson": ((t([1.0, 2.5]),), {}),
    }
    return samples


NO_GRADIENT_SAMPLES = _no_gradient_samples()


def _out_sample(info) -> tuple:
    """The call the out= tests make of `info`'s op: its first gradient sample, or its entry of
    NO_GRADIENT_SAMPLES."""
    if samples_for(info) is not None:
        return samples_for(info)(np.random.default_rng(0))[0]
    return NO_GRADIENT_SAMPLES[info.name]


def test_every_op_has_a_call_for_the_out_tests():
    assert sorted(name for name in table if samples_for(table[name]) is None) == sorted(NO_GRADIENT_SAMPLES)
    assert not any(table[name].differentiable for name in NO_GRADIENT_SAMPLES)


# Ops whose PyTorch function takes out= and ours does not yet: each entry is a gap in
# ops/_out.py's ACCEPTS_OUT. The test below fails when one is closed (remove it).
OUT_NOT_YET: dict[str, str] = {}


def _torch_accepts_out(info) -> bool | None:
    """Whether torch's function takes out= on the op's first sample (None: cannot tell)."""
    function = torch
    for part in info.torch_name.split("."):
        function = getattr(function, part, None)
    if function is None or info.mutates_input:
        return None
    args, kwargs = _out_sample(info)
    args, kwargs = _to_torch(args), {key: _to_torch(value) for key, value in kwargs.items()}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = function(*args, **kwargs)
        except Exception:
            return None
        if isinstance(result, tuple):
            out = tuple(torch.empty_like(item) for item in result)
        elif isinstance(result, torch.Tensor):
            out = torch.empty_like(result)  # (normal refuses an out= of another size)
        else:
            return None
        try:
            function(*args, **kwargs, out=out)
        except TypeError:
            return False
        return True


@needs_torch
def test_the_ops_that_take_out_are_pytorchs():
    wrong = []
    for name, info in sorted(table.items()):
        accepts = _torch_accepts_out(info)
        if accepts is not None and accepts != (name in ACCEPTS_OUT):
            wrong.append((name, accepts))
    # sum, prod, median and the like take out= only with `dim`; the first sample may omit it.
    overload_dependent = {"sum", "prod", "median"}
    assert [entry for entry in wrong if entry[0] not in overload_dependent] == [
        (name, True) for name in sorted(OUT_NOT_YET)]


@needs_torch
@pytest.mark.parametrize("name", sorted(ACCEPTS_OUT))
def test_out_values_match_pytorch(name):
    info = table[name]
    args, kwargs = _out_sample(info)
    retrograd.manual_seed(0)  # the random samplers draw the same numbers in both calls
    ours = info.function(*args, **kwargs)
    if not isinstance(ours, retrograd.Tensor | tuple):
        pytest.skip("not a tensor result")
    if isinstance(ours, tuple):
        out = tuple(retrograd.empty(0, dtype=item.dtype) for item in ours)
    elif name == "normal":  # normal(mean tensor, std number) adds into `out` as it is, as PyTorch
        out = retrograd.empty(ours.shape, dtype=ours.dtype)
    else:
        out = retrograd.empty(0, dtype=ours.dtype)
    retrograd.manual_seed(0)
    with retrograd.no_grad():
        returned = info.function(*args, **kwargs, out=out)
    targets = out if isinstance(out, tuple) else (out,)
    expected = ours if isinstance(ours, tuple) else (ours,)
    for target, value in zip(targets, expected):
        np.testing.assert_array_equal(target.numpy(), value.detach().numpy())
    assert (returned is out) if not isinstance(out, tuple) else all(
        a is b for a, b in zip(returned, out))


@needs_torch
def test_out_errors_and_warning_match_pytorch():
    def outcome(library, call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                call(library)
            except Exception as error:  # the outcome is compared
                return type(error).__name__, str(error).split(" (Triggered")[0]
        return "ok", [str(item.message).split(" (Triggered")[0] for item in caught]

    calls = [
        lambda lib: lib.add(lib.ones(2), 1, out=lib.empty(5)),
        lambda lib: lib.add(lib.ones(2, requires_grad=True), 1, out=lib.empty(2)),
        lambda lib: lib.sin(lib.tensor([1, 2]), out=lib.empty(2, dtype=lib.int64)),
        lambda lib: lib.mm(lib.ones(1, 2), lib.ones(2, 2), out=lib.empty(0, dtype=lib.float64)),
        lambda lib: lib.add(lib.ones(3), 1, out=lib.zeros(1).expand(3)),
        lambda lib: lib.zeros(3, out=lib.empty(5)),
    ]
    for call in calls:
        assert outcome(retrograd, call) == outcome(torch, call)


# ---------------------------------------------------------------------------
# The ops that have out= since the gap list (OUT_NOT_YET) was closed: all/any, the random
# samplers, ops without a derivative given inputs that require grad, quantile.


def test_all_and_any_write_bool_or_uint8_and_refuse_other_outs():
    flags = retrograd.tensor([[True, False], [True, True]])
    out = retrograd.empty(0, dtype=retrograd.bool)
    assert retrograd.all(flags, dim=1, out=out) is out and out.tolist() == [False, True]
    bytes_out = retrograd.empty(0, dtype=retrograd.uint8)
    assert retrograd.any(flags.to(retrograd.uint8), 0, out=bytes_out).tolist() == [1, 1]
    assert retrograd.all(flags, out=retrograd.empty(0, dtype=retrograd.bool)).item() is False
    with pytest.raises(RuntimeError, match="any only supports bool tensor for result, got: Float"):
        retrograd.any(flags, 1, out=retrograd.empty(0))


def test_ops_without_a_derivative_take_inputs_that_require_grad():
    x = retrograd.tensor([0.5, 2.0], requires_grad=True)
    assert retrograd.eq(x, 2.0, out=retrograd.empty(0, dtype=retrograd.bool)).tolist() == [False, True]
    assert retrograd.argmax(x, out=retrograd.empty(0, dtype=retrograd.int64)).item() == 1
    assert retrograd.all(x, 0, out=retrograd.empty(0, dtype=retrograd.bool)).item() is True
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        retrograd.nextafter(x, x, out=retrograd.empty(0))  # a derivative PyTorch leaves unimplemented


def test_samplers_with_out_draw_the_same_numbers_in_outs_dtype():
    probabilities = retrograd.tensor([0.2, 0.5, 0.9, 0.4])
    retrograd.manual_seed(3)
    expected = retrograd.bernoulli(probabilities).tolist()
    retrograd.manual_seed(3)
    out = retrograd.empty(0, dtype=retrograd.int64)
    assert retrograd.bernoulli(probabilities, out=out) is out and out.tolist() == expected
    retrograd.manual_seed(3)
    expected = retrograd.normal(0.0, 1.0, (4,), dtype=retrograd.float64).tolist()
    retrograd.manual_seed(3)
    out = retrograd.empty(7, dtype=retrograd.float64)
    assert retrograd.normal(0.0, 1.0, (4,), out=out).tolist() == expected
    retrograd.manual_seed(3)
    expected = retrograd.multinomial(probabilities, 3).tolist()
    retrograd.manual_seed(3)
    assert retrograd.multinomial(probabilities, 3, out=retrograd.empty(0, dtype=retrograd.int64)).tolist() == expected


def test_samplers_refuse_outs_pytorch_refuses():
    probabilities = retrograd.tensor([0.2, 0.5, 0.9])
    with pytest.raises(RuntimeError, match="multinomial expects Long tensor out, got: Float"):
        retrograd.multinomial(probabilities, 2, out=retrograd.empty(0))
    with pytest.raises(NotImplementedError, match="normal_kernel_cpu"):
        retrograd.normal(0.0, 1.0, (2,), out=retrograd.empty(0, dtype=retrograd.int64))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(0\)"):
        retrograd.normal(probabilities, 1.0, out=retrograd.empty(0))
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        retrograd.bernoulli(probabilities, 0.5, out=retrograd.empty(0))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        retrograd.bernoulli(probabilities.clone().requires_grad_(), out=retrograd.empty(0))


def test_quantile_out_records_the_write_when_the_input_requires_grad():
    x = retrograd.tensor([3.0, 1.0, 2.0], requires_grad=True)
    out = retrograd.empty(0)
    assert retrograd.quantile(x, 0.5, out=out) is out
    assert type(out.grad_fn).__name__ == "CopyBackwards" and out.item() == 2.0
    out.backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


@needs_torch
def test_new_out_outcomes_match_pytorch():
    """Outcome (values, dtype; or error type and message) of each call, in both libraries."""
    def outcome(library, call):
        library.manual_seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = call(library)
            except Exception as error:  # the outcome is compared
                return type(error).__name__, str(error).split(" (Triggered")[0].split(" - got")[0]
        warned = [str(item.message).split(" (Triggered")[0] for item in caught]
        return str(result.dtype).split(".")[1], result.tolist(), warned

    p = [0.2, 0.5, 0.9]
    flags = [[True, False], [True, True]]
    calls = [
        lambda lib: lib.all(lib.tensor(flags), 1, out=lib.empty(0, dtype=lib.bool)),
        lambda lib: lib.any(lib.tensor(flags), out=lib.empty(0, dtype=lib.uint8)),
        lambda lib: lib.all(lib.tensor(flags).to(lib.uint8), 1, out=lib.empty(0, dtype=lib.bool)),
        lambda lib: lib.any(lib.tensor(flags), 1, out=lib.empty(0, dtype=lib.int64)),
        lambda lib: lib.all(lib.ones(2, requires_grad=True), 0, out=lib.empty(0, dtype=lib.bool)),
        lambda lib: lib.lt(lib.ones(2, requires_grad=True), 2.0, out=lib.empty(0, dtype=lib.bool)),
        lambda lib: lib.frexp(lib.ones(2, requires_grad=True), out=(lib.empty(0), lib.empty(0, dtype=lib.int32))),
        lambda lib: lib.bernoulli(lib.tensor(p), out=lib.empty(0, dtype=lib.float64)),
        lambda lib: lib.bernoulli(lib.tensor(p), out=lib.empty(5, dtype=lib.bool)),
        lambda lib: lib.bernoulli(lib.tensor(p, requires_grad=True), out=lib.empty(0)),
        lambda lib: lib.multinomial(lib.tensor(p), 2, out=lib.empty(0, dtype=lib.int64)),
        lambda lib: lib.multinomial(lib.tensor(p), 2, out=lib.empty(0, dtype=lib.int32)),
        lambda lib: lib.multinomial(lib.tensor(p, requires_grad=True), 2, out=lib.empty(0, dtype=lib.int64)),
        lambda lib: lib.normal(0.0, 2.0, (3,), out=lib.empty(5, dtype=lib.float64)),
        lambda lib: lib.normal(lib.tensor(p), 1.0, out=lib.empty(3, dtype=lib.float64)),
        lambda lib: lib.normal(lib.tensor(p), 1.0, out=lib.empty(2, 3)),
        lambda lib: lib.normal(lib.ones(2, 3), 1.0, out=lib.empty(2, 4)),
        lambda lib: lib.normal(lib.tensor(p), 1.0, out=lib.empty(3, dtype=lib.int64)),
        lambda lib: lib.normal(0.5, lib.tensor(p), out=lib.empty(5)),
        lambda lib: lib.normal(lib.tensor(p), lib.tensor(p).reshape(3, 1), out=lib.empty(3)),
        lambda lib: lib.normal(lib.tensor(p, requires_grad=True), 1.0, out=lib.empty(3)),
        lambda lib: lib.normal(0.0, 1.0, (2,), out=lib.empty(0, requires_grad=True)),
        lambda lib: lib.quantile(lib.tensor(p, requires_grad=True), 0.5, out=lib.empty(2)),
        lambda lib: lib.quantile(lib.tensor(p), 0.5, out=lib.empty(0, requires_grad=True)),
    ]
    for index, call in enumerate(calls):
        assert outcome(retrograd, call) == outcome(torch, call), index


@pytest.mark.parametrize("call", [
    lambda x: retrograd.sin(x, out=retrograd.empty(3)),
    lambda x: retrograd.quantile(x, 0.5, out=retrograd.empty(3)),
    lambda x: retrograd.normal(x, x, out=retrograd.empty(3)),
    lambda x: retrograd.max(x.reshape(2, 2), 1, out=(retrograd.empty(3), retrograd.empty(3, dtype=retrograd.int64))),
], ids=["plain", "composite", "sampler", "several results"])
def test_the_resize_warning_names_the_callers_line(call):
    with pytest.warns(UserWarning, match="was resized") as caught:
        call(retrograd.rand(4))
    assert {record.filename for record in caught} == {__file__}
