"""Declared derivatives (ops/_formula.py): what a node saves, how it runs, what it frees.

Written from the survivors of mutation testing (`python3 -m tools.mutation formula`, see
docs/mutation.md). The scenarios on real ops run on retrograd and, when installed, on
PyTorch, and return plain data; the values written here are PyTorch's. The declarations of
toy ops are made inside the tests (a class body runs `Formula.__init_subclass__`), so the
declaration machinery is exercised at test time too.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import Tensor
from retrograd.ops._formula import Formula
from retrograd.ops._table import apply


def _error(call):
    try:
        call()
    except Exception as error:
        return f"{type(error).__name__}: {error}".replace("torch", "LIB").replace("retrograd", "LIB")
    return None


def _saved_names(node):
    return sorted(name for name in dir(node) if name.startswith("_saved_"))


_FREED = ("RuntimeError: Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the graph are "
          "freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
          "to backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")
_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
         "with LIB.autograd.set_detect_anomaly(True, check_nan=False).")


# ---------------------------------------------------------------------------
# Real ops, against PyTorch


def _what_is_saved(t):
    x = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = t.tensor([[5.0, 6.0], [7.0, 8.0]])
    frozen = x * w
    both = x * x
    parts = x.split(1)
    split = parts[0].grad_fn
    largest, _ = x.max(1)
    sub = t.sub(x, x * 2, alpha=3)
    mask = t.tensor([[True, False], [False, True]])
    filled = x.masked_fill(mask, 0.0)
    result = {
        "frozen factor": (frozen.grad_fn._saved_self, frozen.grad_fn._saved_other.tolist()),
        "both factors": (both.grad_fn._saved_self.tolist(), both.grad_fn._saved_other.tolist()),
        "split": (split._saved_split_size, split._saved_dim, list(split._saved_self_sym_sizes)),
        "max": (largest.grad_fn._saved_dim, largest.grad_fn._saved_keepdim,
                largest.grad_fn._saved_indices.tolist(), list(largest.grad_fn._saved_self_sym_sizes)),
        "sub alpha": sub.grad_fn._saved_alpha,
        "masked_fill": (filled.grad_fn._saved_mask.tolist(), _saved_names(filled.grad_fn)),
        "mul names": _saved_names(both.grad_fn),
        "var_mean names": _saved_names(t.var_mean(x[0])[0].grad_fn),
        "no _shape name": _error(lambda: split._saved_self_shape),
    }
    sub.sum().backward()
    result["after backward"] = (sub.grad_fn._saved_alpha, x.grad.tolist(), list(split._saved_self_sym_sizes))
    both.sum().backward()
    result["freed"] = (_error(lambda: both.grad_fn._saved_self), _error(lambda: both.sum().backward()))
    x.grad = None
    with t.no_grad():
        x.mul_(1)  # a frozen factor's partner may change: nothing saved it
    frozen.sum().backward()
    result["frozen factor's partner changed"] = x.grad.tolist()
    return result


WHAT_IS_SAVED = {
    "frozen factor": (None, [[5.0, 6.0], [7.0, 8.0]]),
    "both factors": ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]),
    "split": (1, 0, [2, 2]),
    "max": (1, False, [1, 1], [2, 2]),
    "sub alpha": 3,
    "masked_fill": ([[True, False], [False, True]], ["_saved_mask"]),
    "mul names": ["_saved_other", "_saved_self"],
    "var_mean names": ["_saved_correction", "_saved_dim", "_saved_keepdim", "_saved_self"],
    "no _shape name": "AttributeError: 'SplitBackward0' object has no attribute '_saved_self_shape'",
    "after backward": (3, [[-5.0, -5.0], [-5.0, -5.0]], [2, 2]),
    "freed": (_FREED, _FREED),
    "frozen factor's partner changed": [[5.0, 6.0], [7.0, 8.0]],
}


def _versions_and_refusals(t):
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = t.tensor([True, False, True])
    filled = x.masked_fill(mask, 0.0)
    mask.logical_not_()
    condition = t.tensor([True, False, True])
    chosen = t.where(condition, x, x * 2)
    condition.logical_not_()
    e = x.exp()
    e.mul_(1)
    h = x * 1
    product = h * x
    h.add_(1)
    with t.inference_mode():
        inference = t.ones(3)
    value = t.tensor(5.0, requires_grad=True)
    filled_with_value = x.masked_fill(t.tensor([True, False, True]), value)
    filled_with_value.sum().backward()
    return {
        "mask changed": _error(lambda: filled.sum().backward()),
        "condition changed": _error(lambda: chosen.sum().backward()),
        "output changed": _error(lambda: e.sum().backward()),
        "input changed": _error(lambda: product.sum().backward()),
        "inference saved": _error(lambda: x * inference),
        "inference not saved": _error(lambda: x + inference),
        "tensor value": (value.grad.tolist(), x.grad.tolist()),
    }


_CHANGED = ("RuntimeError: one of the variables needed for gradient computation has been modified by an "
            "inplace operation: ")
VERSIONS_AND_REFUSALS = {
    "mask changed": _CHANGED + "[CPUBoolType [3]] is at version 1; expected version 0 instead. " + _HINT,
    "condition changed": _CHANGED + "[CPUBoolType [3]] is at version 1; expected version 0 instead. " + _HINT,
    "output changed": _CHANGED + "[LIB.FloatTensor [3]], which is output 0 of Exp, is at version 1; "
    "expected version 0 instead. " + _HINT,
    "input changed": _CHANGED + "[LIB.FloatTensor [3]], which is output 0 of Add, is at version 1; "
    "expected version 0 instead. " + _HINT,
    "inference saved": "RuntimeError: Inference tensors cannot be saved for backward. Please do not use "
    "Tensors created in inference mode in computation tracked by autograd. To work around this, you can "
    "make a clone to get a normal tensor and use it in autograd, or use `LIB.no_grad()` instead of "
    "`LIB.inference_mode()`.",
    "inference not saved": None,
    "tensor value": (2.0, [0.0, 1.0, 0.0]),
}


def _both_modes(t):
    """First and second derivatives through declared nodes (arrays, then Tensors)."""
    a = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
    b = t.tensor([3.0, -1.0], dtype=t.float64, requires_grad=True)
    y = (a * a * b).sin() + t.sub(a, b, alpha=2) * a.exp()
    ga, gb = t.autograd.grad(y.sum(), (a, b), create_graph=True)
    gaa, gab = t.autograd.grad(ga.sum(), (a, b), retain_graph=True)
    x = t.tensor([[1.0, 5.0], [4.0, 2.0]], requires_grad=True)
    low, high = x.split(1)
    largest, indices = x.max(0)
    (low * 2 + high * 3 + largest).sum().backward()
    parts = x.unbind(1)
    g = t.autograd.grad(parts[1].sum(), x)[0]
    return {
        "first": [round(v, 9) for v in ga.tolist() + gb.tolist()],
        "second": [round(v, 9) for v in gaa.tolist() + gab.tolist()],
        "split and max": x.grad.tolist(),
        "one output of unbind": g.tolist(),
    }


def _expected_both_modes():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    u = a * a * b
    ga = np.cos(u) * 2 * a * b + np.exp(a) + (a - 2 * b) * np.exp(a)
    gb = np.cos(u) * a * a - 2 * np.exp(a)
    gaa = -np.sin(u) * (2 * a * b) ** 2 + np.cos(u) * 2 * b + 2 * np.exp(a) + (a - 2 * b) * np.exp(a)
    gab = -np.sin(u) * 2 * a * b * a * a + np.cos(u) * 2 * a - 2 * np.exp(a)
    return {
        "first": [round(v, 9) for v in list(ga) + list(gb)],
        "second": [round(v, 9) for v in list(gaa) + list(gab)],
        "split and max": [[2.0, 3.0], [4.0, 3.0]],
        "one output of unbind": [[0.0, 1.0], [0.0, 1.0]],
    }


def _packed(t):
    log = []

    def pack(value):
        log.append(("pack", value.tolist()))
        return {"kept": value.detach().clone()}

    def unpack(packed):
        log.append(("unpack", packed["kept"].tolist()))
        return packed["kept"]

    x = t.tensor([1.0, -2.0], requires_grad=True)
    w = t.tensor([3.0, 4.0])
    with t.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x * w
        r = x.relu()
        n = x.neg()
    names = (y.grad_fn._saved_other.tolist(), y.grad_fn._saved_self, r.grad_fn._saved_result.tolist())
    with t.no_grad():
        w.add_(1)  # packed values are not version-checked
    (y.sum() + r.sum() + n.sum()).backward(retain_graph=True)
    first = x.grad.tolist()
    (y.sum() * 2).backward()
    return {"log": log, "names": names, "grads": (first, x.grad.tolist()),
            "freed": _error(lambda: y.grad_fn._saved_other)}


PACKED = {
    "log": [("pack", [3.0, 4.0]), ("pack", [1.0, 0.0]), ("unpack", [3.0, 4.0]), ("unpack", [1.0, 0.0]),
            ("unpack", [1.0, 0.0]), ("unpack", [3.0, 4.0]), ("unpack", [3.0, 4.0])],
    "names": ([3.0, 4.0], None, [1.0, 0.0]),
    "grads": ([3.0, 3.0], [9.0, 11.0]),
    "freed": _FREED,
}


SCENARIOS = {
    _what_is_saved: WHAT_IS_SAVED,
    _versions_and_refusals: VERSIONS_AND_REFUSALS,
    _both_modes: None,
    _packed: PACKED,
}
_IDS = [scenario.__name__.strip("_") for scenario in SCENARIOS]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_IDS)
def test_scenario(scenario):
    expected = SCENARIOS[scenario] if SCENARIOS[scenario] is not None else _expected_both_modes()
    assert scenario(retrograd) == expected


@needs_torch
@pytest.mark.parametrize("scenario", SCENARIOS, ids=_IDS)
def test_scenario_matches_pytorch(scenario):
    assert scenario(retrograd) == scenario(torch)


# ---------------------------------------------------------------------------
# Declarations made here (the declaration machinery runs at test time)


def _declare_scale():
    """out = self * factor + other * 2 (other: no formula); factor defaults to 3."""

    class _ToyScaleBackward0(Formula):
        inputs = ("self", "other")

        @staticmethod
        def forward(self, other, factor=3.0, unused=None):
            return self._data * factor + (other._data if hasattr(other, "_data") else other) * 2

        derivatives = {"self": lambda grad, factor, self_shape: np.broadcast_to(grad * factor, self_shape)}  # noqa: RUF012

    return _ToyScaleBackward0


def _declare_pair():
    """Two outputs (sum and product of x and y), and derivatives that read both results."""

    def _gradient(grads, index):
        # the engine passes the gradients up to the last output that received one
        return grads[index] if index < len(grads) and grads[index] is not None else 0.0

    def _product_rule(grads, other, first, second):
        return _gradient(grads, 0) + _gradient(grads, 1) * other + 0.0 * first * second

    class _ToyPairBackward0(Formula):
        inputs = ("self", "other")
        outputs = ("first", "second")

        @staticmethod
        def forward(self, other):
            return self._data + other._data, self._data * other._data

        derivatives = {  # noqa: RUF012
            "self": _product_rule,
            "other": lambda grads, self, second: _gradient(grads, 0) + _gradient(grads, 1) * self
            + 0.0 * second,
        }

    return _ToyPairBackward0


def test_a_declared_op_takes_its_defaults_and_gives_no_gradient_without_a_formula():
    toy = _declare_scale()
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    other = retrograd.tensor([1.0, 1.0], requires_grad=True)
    out = apply(toy, x, other)
    assert out.tolist() == [5.0, 8.0]
    node = out.grad_fn
    assert node._saved_factor == 3.0  # the forward's default
    # a parameter no formula reads is not saved
    assert _error(lambda: node._saved_unused) == ("AttributeError: '_ToyScaleBackward0' object has no "
                                                   "attribute '_saved_unused'")
    assert list(node._saved_self_sym_sizes) == [2]
    assert _saved_names(node) == ["_saved_factor", "_saved_self_sym_sizes"]
    out.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert other.grad is None  # no formula: no gradient, as a non-differentiable input
    assert node._saved_factor == 3.0  # numbers and shapes outlive the backward
    assert list(node._saved_self_sym_sizes) == [2]

    out = apply(toy, x, 1.0, factor=-2.0)
    assert out.grad_fn._saved_factor == -2.0
    (gx,) = retrograd.autograd.grad(out.sum(), x)
    assert gx.tolist() == [-2.0, -2.0]
    assert toy.formulas_text() == {"self": "np.broadcast_to(grad * factor, self_shape)"}


def test_a_declared_op_with_two_outputs():
    toy = _declare_pair()
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = retrograd.tensor([3.0, 4.0], requires_grad=True)
    first, second = apply(toy, x, y)
    assert (first.tolist(), second.tolist()) == ([4.0, 6.0], [3.0, 8.0])
    assert first.grad_fn is second.grad_fn
    node = first.grad_fn
    assert node._saved_other.tolist() == [3.0, 4.0]
    assert node._saved_self.tolist() == [1.0, 2.0]
    assert node._saved_first.tolist() == [4.0, 6.0]
    assert node._saved_second.tolist() == [3.0, 8.0]
    assert node._saved_second.grad_fn is node
    (first.sum() + second.sum() * 10).backward(retain_graph=True)
    assert x.grad.tolist() == [31.0, 41.0]
    assert y.grad.tolist() == [11.0, 21.0]
    second.sum().backward(retain_graph=True)  # no gradient for the first output
    assert x.grad.tolist() == [34.0, 45.0]
    gx, gy = retrograd.autograd.grad(first.sum(), (x, y), retain_graph=True)
    assert (gx.tolist(), gy.tolist()) == ([1.0, 1.0], [1.0, 1.0])
    # second derivatives: d/dy of d(second)/dx = 1
    gx, = retrograd.autograd.grad(second.sum(), x, create_graph=True)
    (gxy,) = retrograd.autograd.grad(gx.sum(), y)
    assert gxy.tolist() == [1.0, 1.0]
    assert toy.formulas_text()["self"] == "_product_rule(grads, other, first, second)"

    # Only `other` needs a gradient: `other`'s formula reads self and second, not other or first.
    plain = retrograd.tensor([1.0, 2.0])
    first, second = apply(toy, plain, y)
    node = first.grad_fn
    assert node._saved_other is None
    assert node._saved_first is None
    assert node._saved_self.tolist() == [1.0, 2.0]
    second.mul_(2)
    assert "which is output 1 of _ToyPair, is at version 1; expected version 0" in _error(
        lambda: first.sum().backward())


def test_a_declaration_must_read_only_what_the_op_has():
    with pytest.raises(TypeError, match=r"_ToyBad: the derivative of 'self' reads 'weight', which is no "
                                        r"input, output, parameter or shape of the op"):
        type("_ToyBad", (Formula,), {
            "inputs": ("self",),
            "forward": staticmethod(lambda self, scale=1.0: self._data * scale),
            "derivatives": {"self": lambda grad, weight: grad * weight},
        })
    with pytest.raises(TypeError, match=r"_ToyBad: derivatives for unknown inputs \['other'\]"):
        type("_ToyBad", (Formula,), {
            "inputs": ("self",),
            "forward": staticmethod(lambda self: self._data),
            "derivatives": {"self": lambda grad: grad, "other": lambda grad: grad},
        })
    with pytest.raises(TypeError, match="reads 'other_shape'"):
        type("_ToyBad", (Formula,), {
            "inputs": ("self",),
            "forward": staticmethod(lambda self: self._data),
            "derivatives": {"self": lambda grad, other_shape: grad},
        })
    # *args of the forward are not parameters a formula may read
    with pytest.raises(TypeError, match="reads 'rest'"):
        type("_ToyBad", (Formula,), {
            "inputs": ("self",),
            "forward": staticmethod(lambda self, *rest: self._data),
            "derivatives": {"self": lambda grad, rest: grad},
        })


def test_a_declared_op_reading_the_result_and_a_tensor_parameter():
    class _ToyMaskedBackward0(Formula):
        @staticmethod
        def forward(self, mask, bias=0.5):
            return np.where(mask._data, self._data * 2 + bias, 0.0)

        derivatives = {"self": lambda grad, mask, result, bias: grad * 2 * (result != 0) * mask + 0 * bias}  # noqa: RUF012

    x = retrograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = retrograd.tensor([True, False, True])
    out = apply(_ToyMaskedBackward0, x, mask=mask)
    assert out.tolist() == [2.5, 0.0, 6.5]
    assert out.grad_fn._saved_mask.tolist() == [True, False, True]
    assert out.grad_fn._saved_result.tolist() == [2.5, 0.0, 6.5]
    assert _saved_names(out.grad_fn) == ["_saved_bias", "_saved_mask", "_saved_result"]
    assert out.grad_fn._saved_bias == 0.5  # the default, saved beside the tensor parameter
    out.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [2.0, 0.0, 2.0]
    mask.logical_not_()  # a tensor parameter is version-checked like an input
    assert "[CPUBoolType [3]] is at version 1" in _error(lambda: out.sum().backward())
    # A number as the parameter: kept as passed, never version-checked.
    other = apply(_ToyMaskedBackward0, x, mask=retrograd.tensor([True, True, True]), bias=1.0)
    other.sum().backward()
    assert x.grad.tolist() == [4.0, 2.0, 4.0]
    out = apply(_ToyMaskedBackward0, x, mask=retrograd.tensor([True, True, False]))
    out.mul_(1)
    assert "which is output 0 of _ToyMasked, is at version 1" in _error(lambda: out.sum().backward())


def test_a_node_without_gradient_needed_for_some_inputs_returns_none_for_them():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    w = retrograd.tensor([3.0, 4.0])
    node = (x * w).grad_fn
    grads = node.backward(np.array([1.0, 1.0]))
    assert grads[1] is None and grads[0].tolist() == [3.0, 4.0]
    node = (w * x).grad_fn
    grads = node.backward(np.array([1.0, 1.0]))
    assert grads[0] is None and grads[1].tolist() == [3.0, 4.0]


def test_the_graph_picture_lists_what_each_declared_node_saved():
    """viz reads a declared node's saved values by name (Formula._named_saved_values)."""
    from retrograd import viz

    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    w = retrograd.tensor([3.0, 4.0])
    mask = retrograd.tensor([True, False])
    y = (x * w).exp() + x.max() + x.split(1)[1].sum() + retrograd.masked_fill(x, mask, 0.0).sum()
    lines = {box.title: box.lines for box in viz.draw(y).model.boxes.values()}
    assert lines["MulBackward0"] == ["_saved_other = [3, 4]", "input 1: constant, no grad"]
    assert lines["ExpBackward0"] == ["_saved_result: its own output, shape (2,)"]
    assert lines["MaxBackward1"] == ["_saved_self = [1, 2]", "_saved_result: its own output, scalar"]
    assert lines["MaskedFillBackward0"] == ["_saved_mask = [True, False]"]
    assert lines["SplitBackward0"] == []
    y.sum().backward()
    lines = {box.title: box.lines for box in viz.draw(y).model.boxes.values()}
    assert lines["MulBackward0"] == ["saved values: FREED by backward", "input 1: constant, no grad"]
    assert lines["SplitBackward0"] == []


def test_declarations_with_missing_formulas_numbers_and_shapes():
    class _ToyFirstFrozenBackward0(Formula):
        """No formula for the first input; the second's reads a number input and a shape."""

        inputs = ("self", "other")

        @staticmethod
        def forward(self, other):
            factor = other if not isinstance(other, Tensor) else other._data
            return self._data * factor

        derivatives = {"other": lambda grad, self, other_shape: (grad * self).sum() + 0 * len(other_shape)}  # noqa: RUF012

    class _ToyNumberFirstBackward0(Formula):
        inputs = ("self", "other")

        @staticmethod
        def forward(self, other):
            return self._data * other

        derivatives = {"self": lambda grad, other, self: grad * other + 0 * self}  # noqa: RUF012

    class _ToyNoDerivativesBackward0(Formula):
        inputs = ("self", "other")

        @staticmethod
        def forward(self, other):
            return self._data + other._data

    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = retrograd.tensor(3.0, requires_grad=True)
    out = apply(_ToyFirstFrozenBackward0, x, y)
    out.sum().backward()
    assert x.grad is None and y.grad.item() == 3.0
    out = apply(_ToyNumberFirstBackward0, x, 2.5)
    assert out.grad_fn._saved_other == 2.5
    out.sum().backward()
    assert x.grad.tolist() == [2.5, 2.5]
    out = apply(_ToyFirstFrozenBackward0, x, 2.0)  # a shape is saved whatever needs grad: () for a number
    assert out.grad_fn._saved_other_sym_sizes == ()

    class _ToyOpaqueBackward0(Formula):
        inputs = ("self",)  # declared, with no derivative

        @staticmethod
        def forward(self):
            return self._data + 1

    fresh = retrograd.tensor([1.0], requires_grad=True)
    apply(_ToyOpaqueBackward0, fresh).sum().backward()  # no formula: no gradient, no error
    assert fresh.grad is None
    out = apply(_ToyNoDerivativesBackward0, x, y)
    assert _saved_names(out.grad_fn) == []
    out.sum().backward()  # no formula, no gradient, no error
    assert x.grad.tolist() == [2.5, 2.5] and y.grad.item() == 3.0
    assert _ToyNoDerivativesBackward0.formulas_text() == {}


def test_a_released_node_keeps_its_shapes_and_frees_its_tensors():
    class _ToyShapeAndTensorBackward0(Formula):
        inputs = ("self", "other")

        @staticmethod
        def forward(self, other):
            return self._data * other._data

        derivatives = {"self": lambda grad, other, self_shape: np.broadcast_to(grad * other, self_shape)}  # noqa: RUF012

    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    out = apply(_ToyShapeAndTensorBackward0, x, retrograd.tensor([3.0, 4.0]))
    node = out.grad_fn
    out.sum().backward()
    assert list(node._saved_self_sym_sizes) == [2]
    assert _error(lambda: node._saved_other) == _FREED
    assert x.grad.tolist() == [3.0, 4.0]


def test_a_declared_view_saves_its_output_on_its_base_versions():
    class _ToyFlipBackward0(Formula):
        is_view = True

        @staticmethod
        def forward(self):
            return self._data[::-1]

        derivatives = {"self": lambda grad, result: grad[::-1] + 0 * result}  # noqa: RUF012

    x = retrograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = x * 1
    flipped = apply(_ToyFlipBackward0, base)
    assert flipped._base is base and flipped.tolist() == [3.0, 2.0, 1.0]
    node = flipped.grad_fn
    saved = node._saved_result
    assert saved.tolist() == [3.0, 2.0, 1.0] and saved.output_nr == 0 and saved._version == 0
    (flipped * retrograd.tensor([1.0, 10.0, 100.0])).sum().backward(retain_graph=True)
    assert x.grad.tolist() == [100.0, 10.0, 1.0]
    with retrograd.no_grad():
        base.mul_(1)  # the view's output counts its base's versions
    assert flipped._version == 1
    assert "which is output 0 of _ToyFlip, is at version 1; expected version 0" in _error(
        lambda: node._saved_result)


def test_a_hook_open_in_another_thread_packs_nothing_here():
    import threading

    results = []

    def run():
        x = retrograd.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.sum().backward()
        results.append(x.grad.tolist())

    with retrograd.autograd.graph.saved_tensors_hooks(lambda value: 1 / 0, lambda value: value):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    assert results == [[2.0, 4.0]]


def test_the_text_of_a_formula_without_source_is_lambda():
    formula = eval("lambda grad: grad * 2")

    class _ToyEvalBackward0(Formula):
        @staticmethod
        def forward(self):
            return self._data * 2

        derivatives = {"self": formula}  # noqa: RUF012

    assert _ToyEvalBackward0.formulas_text() == {"self": "<lambda>"}


def test_packed_values_keep_their_graph_for_second_derivatives():
    x = retrograd.tensor([1.0, 3.0], requires_grad=True)
    with retrograd.autograd.graph.saved_tensors_hooks(lambda value: value, lambda value: value):
        y = (x * x * x).sum()
    (g,) = retrograd.autograd.grad(y, x, create_graph=True)
    (gg,) = retrograd.autograd.grad(g.sum(), x)
    assert g.tolist() == [3.0, 27.0] and gg.tolist() == [6.0, 18.0]


def test_the_graph_picture_shows_values_packed_by_hooks_freed_after_backward():
    """Packed values have no version: a node holding them frees them on the slower path, and is
    marked released all the same (as without hooks, where PyTorch's error says they are freed)."""
    from retrograd import viz

    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with retrograd.autograd.graph.saved_tensors_hooks(lambda value: value, lambda value: value):
        y = x * x
    node = y.grad_fn
    y.sum().backward()
    assert _error(lambda: node._saved_self) == _FREED
    lines = {box.title: box.lines for box in viz.draw(y).model.boxes.values()}
    assert lines["MulBackward0"] == ["saved values: FREED by backward"]


def _index_select_saves(t):
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    packed = []
    with t.autograd.graph.saved_tensors_hooks(lambda value: packed.append(value.tolist()) or value,
                                              lambda value: value):
        y = x.index_select(0, t.tensor([2, 0]))
    node = y.grad_fn
    y.sum().backward()
    return packed, _error(lambda: node._saved_index)


@pytest.mark.parametrize("library", [
    retrograd,
    pytest.param(torch, marks=needs_torch)], ids=["retrograd", "torch"])
def test_a_saved_index_goes_through_the_hooks_and_is_freed(library):
    assert _index_select_saves(library) == ([[2, 0]], _FREED)
