"""Named result tuples: `retrograd.return_types.<name>`, and `<name>_out` when the op was given
`out=`, with PyTorch's fields and printing (`torch.` read as `retrograd.`)."""

from __future__ import annotations

import pickle
import warnings

import pytest

import retrograd
from crosscheck import needs_torch, torch


def _inputs(lib):
    x = lib.tensor([[1.0, 5.0, 2.0], [3.0, 2.0, 0.5]])
    a = lib.tensor([[2.0, 1.0], [1.0, 3.0]])
    return x, a


# name -> (the function's path, arguments from (x, a))
CALLS = {
    "max": ("max", lambda x, a: (x, 0)),
    "min": ("min", lambda x, a: (x, 1)),
    "median": ("median", lambda x, a: (x, 1)),
    "mode": ("mode", lambda x, a: (x, 0)),
    "kthvalue": ("kthvalue", lambda x, a: (x, 2, 1)),
    "topk": ("topk", lambda x, a: (x, 2)),
    "sort": ("sort", lambda x, a: (x,)),
    "cummax": ("cummax", lambda x, a: (x, 1)),
    "cummin": ("cummin", lambda x, a: (x, 1)),
    "aminmax": ("aminmax", lambda x, a: (x,)),
    "frexp": ("frexp", lambda x, a: (x,)),
    "histogram": ("histogram", lambda x, a: (x, 3)),
    "slogdet": ("slogdet", lambda x, a: (a,)),
    "qr": ("qr", lambda x, a: (a,)),
    "svd": ("svd", lambda x, a: (a,)),
    "triangular_solve": ("triangular_solve", lambda x, a: (x[:, :2].t(), a)),
    "linalg_eigh": ("linalg.eigh", lambda x, a: (a,)),
    "linalg_qr": ("linalg.qr", lambda x, a: (a,)),
    "linalg_slogdet": ("linalg.slogdet", lambda x, a: (a,)),
    "linalg_svd": ("linalg.svd", lambda x, a: (a,)),
}

# Results whose values print the same in both libraries (the decompositions may differ in
# the last digits or in signs).
EXACT = {"max", "min", "median", "mode", "kthvalue", "topk", "sort", "cummax", "cummin",
         "aminmax", "frexp", "histogram", "slogdet", "linalg_slogdet", "triangular_solve"}


def _call(lib, name, out=False):
    path, arguments = CALLS[name]
    function = lib
    for part in path.split("."):
        function = getattr(function, part)
    args = arguments(*_inputs(lib))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # qr, triangular_solve: deprecated in PyTorch
        result = function(*args)
        if not out:
            return result, None
        outs = tuple(lib.empty(0, dtype=item.dtype) for item in result)
        return function(*args, out=outs), outs


@needs_torch
@pytest.mark.parametrize("out", [False, True], ids=["plain", "out"])
@pytest.mark.parametrize("name", CALLS)
def test_result_type_is_pytorchs(name, out):
    ours, our_outs = _call(retrograd, name, out)
    theirs, _ = _call(torch, name, out)
    assert type(ours).__name__ == type(theirs).__name__ == (f"{name}_out" if out else name)
    assert type(ours).__module__ == "retrograd.return_types"
    assert getattr(retrograd.return_types, type(ours).__name__) is type(ours)
    assert type(ours).n_fields == type(theirs).n_fields == len(ours)
    assert [type(item) for item in ours] == [retrograd.Tensor] * len(ours)
    if out:
        assert all(item is target for item, target in zip(ours, our_outs))
    if name in EXACT:
        assert repr(ours) == repr(theirs).replace("torch.", "retrograd.")


@needs_torch
@pytest.mark.parametrize("name", CALLS)
def test_fields_are_pytorchs(name):
    ours, _ = _call(retrograd, name)
    theirs, _ = _call(torch, name)
    fields = ours._fields
    assert fields == type(ours).__match_args__ == type(theirs).__match_args__
    for index, field in enumerate(fields):
        assert getattr(ours, field) is ours[index]


def test_result_types_pickle_and_build_from_a_sequence():
    result = retrograd.tensor([[1.0, 5.0], [3.0, 2.0]]).max(0)
    again = pickle.loads(pickle.dumps(result))
    assert type(again) is retrograd.return_types.max
    assert again.values.tolist() == [3.0, 5.0] and again.indices.tolist() == [1, 0]
    built = retrograd.return_types.max_out((result.values, result.indices))
    assert built.values is result.values and isinstance(built, tuple)
    assert retrograd.return_types.sort(result.values, result.indices).indices is result.indices
    with pytest.raises(TypeError, match="2-sequence"):
        retrograd.return_types.max((result.values,))


def test_print_names_the_out_type():
    values, indices = retrograd.empty(0), retrograd.empty(0, dtype=retrograd.int64)
    result = retrograd.max(retrograd.tensor([[1.0, 5.0], [3.0, 2.0]]), 0, out=(values, indices))
    assert repr(result) == ("retrograd.return_types.max_out(\nvalues=tensor([3., 5.]),\n"
                            "indices=tensor([1, 0]))")
