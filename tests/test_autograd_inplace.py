"""In-place operations: version counters, saved-tensor checks, views and CopySlices."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck, gradgradcheck


def _same_scenario(scenario):
    """Run `scenario(module)` with retrograd and with PyTorch; compare what it returns."""
    real = pytest.importorskip("torch")
    ours, theirs = scenario(torch), scenario(real)
    for mine, reference in zip(ours, theirs, strict=True):
        if isinstance(reference, real.Tensor):
            np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-6)
        else:
            assert mine == reference


# -- version counters -------------------------------------------------------


def test_every_in_place_op_bumps_the_version():
    t = torch.zeros(3)
    t.add_(1)
    t.mul_(2)
    t.zero_()
    alias = t
    t += 1
    assert t is alias
    assert t._version == 4


def test_fresh_results_count_their_own_versions_though_they_start_from_one_shared_zero():
    # Note [The shared zero version]: a new tensor gets a counter of its own only when needed
    x = torch.ones(3, requires_grad=True)
    a, b = x * 2, x * 3
    untouched = torch.zeros(2)
    a.add_(1)
    torch.zeros(2).mul_(2)
    assert (a._version, b._version, untouched._version) == (1, 0, 0)


def test_what_shares_a_fresh_storage_shares_its_later_versions():
    x = torch.ones(4, requires_grad=True)
    fresh = x * 2
    alias, view = fresh.detach(), fresh[1:]
    plain = torch.zeros(2)
    parameter = torch.nn.Parameter(plain)
    alias.mul_(2)
    parameter.data.add_(1)  # (.data has a counter of its own)
    with torch.no_grad():
        parameter.add_(1)
    assert (fresh._version, view._version, alias._version) == (1, 1, 1)
    assert plain._version == parameter._version == 1


def test_a_fresh_result_saved_by_the_next_op_is_still_checked():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    z = y.exp() * y  # exp saves its result; mul saves y: both fresh when saved
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_detach_shares_the_version_counter_and_data_has_its_own():
    x = torch.ones(2, requires_grad=True)
    detached = x.detach()
    plain = x.data
    detached.add_(1)
    assert x._version == 1 and detached._version == 1
    assert plain._version == 0
    assert x.tolist() == [2.0, 2.0]


def test_changed_saved_output_raises_with_pytorch_wording():
    x = torch.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as error:
        y.sum().backward()
    message = str(error.value)
    assert (
        "modified by an inplace operation: [retrograd.FloatTensor [3]], which is output 0 of Exp, "
        "is at version 1; expected version 0 instead."
    ) in message
    assert "set_detect_anomaly(True, check_nan=False)" in message


def test_changed_saved_input_raises():
    x = torch.ones(2, requires_grad=True)
    c = torch.ones(2)
    y = x * c
    c.add_(1)
    with pytest.raises(RuntimeError, match=r"\[retrograd.FloatTensor \[2\]\] is at version 1; expected"):
        y.sum().backward()


def test_version_messages_match_pytorch():
    real = pytest.importorskip("torch")

    def failing(m):
        x = m.ones(3, requires_grad=True)
        y = x.exp()
        y.mul_(2)
        with pytest.raises(RuntimeError) as error:
            y.sum().backward()
        return str(error.value)

    assert failing(torch).replace("retrograd", "torch") == failing(real)


def test_in_place_on_a_tensor_not_saved_is_fine():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(3)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_leaf_requiring_grad_refuses_in_place_and_keeps_its_value():
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    assert x.tolist() == [1.0, 1.0] and x._version == 0


def test_leaf_in_place_is_allowed_under_no_grad():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        x.mul_(3)
    assert x.tolist() == [3.0, 3.0] and x.is_leaf and x.requires_grad


# -- views ------------------------------------------------------------------


def test_views_share_memory_version_and_base():
    b = torch.zeros(2, 3)
    v = b.view(6)
    row = b.select(0, 1)
    assert v._is_view() and row._is_view() and not b._is_view()
    assert v._base is b and row._base is b
    assert v.view(2, 3)._base is b
    row.add_(5)
    assert b._version == v._version == 1
    assert b.tolist() == [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]]


def test_in_place_on_view_rewrites_the_base_history():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = x * x
    row = b.select(0, 1)
    row.mul_(2)
    assert type(b.grad_fn).__name__ == "CopySlices"
    assert type(row.grad_fn).__name__ == "AsStridedBackward0"
    b.sum().backward()
    assert x.grad.tolist() == [[2.0, 4.0, 6.0], [16.0, 20.0, 24.0]]


def test_in_place_on_view_matches_pytorch_for_every_tensor_involved():
    def scenario(m):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        c = m.tensor([7.0, 8.0, 9.0], requires_grad=True)
        b = x * x
        row = b.select(0, 1)
        flat = b.view(6)
        row.mul_(c)
        loss = b.sum() + (flat * m.arange(6.0)).sum() + (row * 100).sum()
        loss.backward()
        return b, flat, row, x.grad, c.grad, b._version, row._is_view()

    _same_scenario(scenario)


def test_views_made_before_an_in_place_on_the_base_see_the_new_history():
    def scenario(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        b = x * 2
        column = b.select(1, 0)
        b.mul_(3)
        column.sum().backward()
        return column, x.grad, column.grad_fn.name()

    _same_scenario(scenario)


def test_writing_a_tensor_that_requires_grad_into_a_plain_buffer():
    def scenario(m):
        c = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        buffer = m.zeros(2, 3)
        buffer.select(0, 0).copy_(c)
        (buffer * m.arange(6.0).view(2, 3)).sum().backward()
        return buffer, c.grad, buffer.requires_grad

    _same_scenario(scenario)


def test_view_of_a_leaf_refuses_in_place_but_allows_it_under_no_grad():
    x = torch.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x.select(0, 0).mul_(2)
    assert x._version == 0
    with torch.no_grad():
        x.select(0, 0).mul_(2)
    assert x.tolist() == [[2.0, 2.0], [1.0, 1.0]]


def test_in_place_on_an_expanded_view_is_refused():
    expanded = torch.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        expanded.mul_(2)


def test_gradient_through_copy_slices_matches_finite_differences():
    def function(x, c):
        b = x * 1
        b.select(0, 1).mul_(c)
        b.select(1, 0).add_(c.select(0, 0))
        return b.exp()

    x = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], dtype=torch.float64, requires_grad=True)
    c = torch.tensor([1.5, -0.5, 0.25], dtype=torch.float64, requires_grad=True)
    assert gradcheck(function, (x, c))
    assert gradgradcheck(function, (x, c))


def test_double_backward_through_copy_slices_matches_pytorch():
    def scenario(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64, requires_grad=True)
        b = x * 1
        b.select(0, 0).mul_(x.select(0, 1))
        (g,) = m.autograd.grad(b.pow(2).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)
        return g, gg

    _same_scenario(scenario)


def test_retained_grad_follows_the_tensor_through_in_place_ops():
    def scenario(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.tolist()))
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad, x.grad, seen

    _same_scenario(scenario)


# -- views of a base that did not require grad (issue 12) ---------------------


def test_writing_through_a_view_of_a_plain_base_reaches_every_view():
    w = torch.ones(3, requires_grad=True)
    base = torch.zeros(2, 3)
    row = base[0]
    flat = row.view(-1)
    flat.add_(w)
    assert row.requires_grad and base.requires_grad and flat.requires_grad
    (row.sum() + base.sum()).backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_writing_into_a_plain_base_gives_its_earlier_views_a_history():
    w = torch.ones(3, requires_grad=True)
    buffer = torch.zeros(2, 3)
    row = buffer[1]
    buffer.add_(w)
    assert row.requires_grad and type(row.grad_fn).__name__ == "AsStridedBackward0"
    row.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]


def test_plain_base_views_match_pytorch():
    def scenario(m):
        w = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = m.zeros(2, 3)
        second = base[:, 1]
        second.mul_(w[:2])
        first = base[0]  # (PyTorch refuses a write into a view made before, and never read, as a leaf)
        first.add_(w * w)
        early = base[1]
        base.mul_(2)  # rewrites the history of `early` and `first`
        first = first + early
        (g,) = m.autograd.grad((first * second[0] + base.sum()).sum(), w, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), w)
        return g, gg, first.requires_grad, second.requires_grad

    _same_scenario(scenario)


def test_a_base_viewed_many_times_keeps_a_short_list_of_views():
    base = torch.zeros(10, 3)
    for _ in range(5_000):
        base[3]
    assert len(base._views) < 128


# -- found by the random autograd programs (issue 12) ----------------------------


@pytest.mark.parametrize("write", [
    lambda t: t[0:3].copy_(t[1:4]),
    lambda t: t[0:3].add_(t[1:4]),
    lambda t: t.view(2, 2).mul_(t.view(2, 2).t()),
])
def test_an_input_partly_overlapping_the_written_tensor_is_refused(write):
    t = torch.arange(4.0)
    with pytest.raises(RuntimeError, match="some elements of the input tensor and the written-to tensor"):
        write(t)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0] and t._version == 0


def test_the_same_elements_may_be_read_while_written():
    t = torch.arange(4.0)
    t.add_(t.detach())
    t[0:2].mul_(t[0:2])
    assert t.tolist() == [0.0, 4.0, 4.0, 6.0]


def test_an_expanded_tensor_may_be_filled_but_not_computed_into():
    base = torch.zeros(3)
    expanded = base.expand(2, 3)
    expanded.fill_(2.0)
    assert base.tolist() == [2.0, 2.0, 2.0] and base._version == 1
    expanded.zero_()
    assert base.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        expanded.add_(1)


def test_copying_a_float_that_requires_grad_into_an_int_tensor_records_nothing():
    def scenario(m):
        x = m.tensor([1.5, -2.5, 3.0], dtype=m.float64, requires_grad=True)
        counts = m.tensor([[0, 2, 2]])
        counts.copy_(x)
        counts.add_(3)
        return counts, counts.requires_grad, counts.is_leaf

    _same_scenario(scenario)


def test_writing_into_a_view_given_requires_grad_of_a_plain_leaf_is_refused():
    base = torch.zeros(3, 3)
    view = base.squeeze()
    view.requires_grad_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        view[0].relu_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        view.mul_(2)


def test_an_empty_view_is_rebuilt_after_a_write_under_no_grad():
    x = torch.tensor(1.5, requires_grad=True)
    empty = x.exp().view(-1)[1:].exp()
    flat = empty.view(-1)
    with torch.no_grad():
        empty.pow_(2)
    assert flat.shape == (0,) and type(flat.grad_fn).__name__ == "AsStridedBackward0"


def test_the_saved_result_of_a_write_through_a_view_is_read_as_the_view():
    def scenario(m):
        x = m.tensor([[0.1], [0.2]], requires_grad=True)
        base = x * 1
        view = base.t()
        view.tanh_()
        base.retain_grad()
        (first,) = m.autograd.grad(base.sum(), x, create_graph=True)
        base.grad = None
        (second,) = m.autograd.grad(first.sum(), x)  # reaches base's node through tanh_'s result
        return first, second, base.grad

    _same_scenario(scenario)


def test_a_second_derivative_through_a_write_through_a_view_runs_each_node_once():
    def scenario(m):
        x = m.tensor(-0.459, requires_grad=True)
        top = m.maximum(x, x)
        view = top.squeeze()
        view.relu_()
        out = view.abs()
        out.add_(-0.5)
        (first,) = m.autograd.grad(out, x, m.tensor(1.385), retain_graph=True, create_graph=True)
        (second,) = m.autograd.grad(first, x)
        return first, second

    _same_scenario(scenario)


def test_a_view_of_one_of_several_views_may_not_be_written_in_place():
    y = torch.ones(2, 3, requires_grad=True) * 1
    part = y.chunk(2)[1].reshape(-1)
    with pytest.raises(RuntimeError, match="Output 0 of View is a view and is being modified inplace. This view "
                                           "is the output of a function that returns multiple views"):
        part.add_(1)


def test_views_made_without_history_leave_no_growing_table():
    """The table of views made without history drops dead views as it grows (a base read row
    by row, under no_grad or not, keeps it short)."""
    from retrograd.ops import _inplace

    data = torch.zeros(10, 3)
    blockers = []  # (tensors that take the memory of dead views, so new views get new ids)
    for _ in range(4):
        views = [data[index % 10] for index in range(1500)]
        with torch.no_grad():
            views += [data[index % 10] for index in range(1500)]
        del views
        blockers.append([torch.zeros(1) for _ in range(3000)])
    assert len(_inplace._MADE) < 8000


# -- spoiled views keep their class (Note [Spoiled views], _tensor.py) -------------------------


def _spoiled_view_as_seen(t):
    """A split output and a no_grad view whose base was written: PyTorch keeps them ordinary
    tensors of their own class, printable and picklable, while their history raises."""
    import copy
    import pickle
    import warnings

    def outcome(action):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = action()
            return ("ok", repr(value).replace(t.__name__, "LIB"), len(caught))
        except RuntimeError as error:
            return ("error", str(error).split(" is a view")[0].split(" and its base")[0])

    base = t.ones(4, requires_grad=True) * 1
    first, second = base.split(2)
    with t.no_grad():
        made_without_grad = base[:1]
    base.mul_(2)
    seen = {"types": (type(first), type(made_without_grad), isinstance(first, t.Tensor), first.requires_grad,
                      first._base is base) == (t.Tensor, t.Tensor, True, True, True)}
    for name, action in {
        "repr": lambda: repr(first), "repr of the no_grad view": lambda: repr(made_without_grad),
        "pickled": lambda: pickle.loads(pickle.dumps(first)), "grad_fn": lambda: first.grad_fn,
        "no_grad view's grad_fn": lambda: made_without_grad.grad_fn, "is_leaf": lambda: first.is_leaf,
        "used": lambda: first * 2, "written": lambda: second.add_(1), "grad": lambda: first.grad,
        "requires_grad=False": lambda: setattr(second, "requires_grad", False),
        "deepcopy": lambda: copy.deepcopy(first), "detached": lambda: first.detach(),
    }.items():
        seen[name] = outcome(action)
    with t.no_grad():
        seen["used under no_grad"] = outcome(lambda: first * 2)
    return seen


SPOILED_VIEW_AS_SEEN = {
    "types": True,
    "repr": ("ok", "'tensor([2., 2.], grad_fn=<Invalid>)'", 0),
    "repr of the no_grad view": ("ok", "'tensor([2.], grad_fn=<Invalid>)'", 0),
    "pickled": ("ok", "tensor([2., 2.], requires_grad=True)", 0),
    "grad_fn": ("error", "Output 0 of Split"),
    "no_grad view's grad_fn": ("error", "A view was created in no_grad mode"),
    "is_leaf": ("error", "Output 0 of Split"),
    "used": ("error", "Output 0 of Split"),
    "written": ("error", "Output 1 of Split"),
    "grad": ("ok", "None", 1),  # with the warning about a non-leaf's .grad
    "requires_grad=False": ("error", "you can only change requires_grad flags of leaf variables. If you want "
                            "to use a computed variable in a subgraph that doesn't require differentiation "
                            "use var_no_grad = var.detach()."),
    "deepcopy": ("error", "Output 0 of Split"),
    "detached": ("ok", "tensor([2., 2.])", 0),
    "used under no_grad": ("ok", "tensor([4., 4.])", 0),
}


def test_a_spoiled_view_stays_an_ordinary_tensor():
    assert _spoiled_view_as_seen(torch) == SPOILED_VIEW_AS_SEEN


def test_a_spoiled_view_stays_an_ordinary_tensor_in_pytorch():
    assert _spoiled_view_as_seen(pytest.importorskip("torch")) == SPOILED_VIEW_AS_SEEN


def test_tensor_gets_its_attribute_fallback_only_when_a_view_is_spoiled():
    """Until a view is spoiled Tensor has no `__getattr__`, so a failed attribute lookup (NumPy's
    probes, an absent tangent) costs what it costs on a plain class (Note [Spoiled views])."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    program = (
        "import numpy as np, retrograd as t\n"
        "base = t.ones(4, requires_grad=True) * 1\n"
        "first, second = base.split(2)\n"
        "np.asarray(base.detach()); (base * 2).sum().backward()\n"
        "assert '__getattr__' not in vars(t.Tensor)\n"
        "base.mul_(2)\n"
        "assert '__getattr__' in vars(t.Tensor)\n"
        "from retrograd.ops._table import attached\n"
        "assert attached['__getattr__'].module == 'retrograd.ops._inplace'\n"
    )
    source = str(Path(torch.__file__).resolve().parents[1])
    environment = {**os.environ, "PYTHONPATH": source + os.pathsep + os.environ.get("PYTHONPATH", "")}
    checked = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=environment)
    assert checked.returncode == 0, checked.stderr


def test_an_in_place_op_is_recorded_when_only_a_keyword_tensor_requires_grad():
    """`x.lerp_(end, weight=t)`: t reaches the op by keyword (PyTorch records LerpBackward1)."""
    x, end = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 5.0])
    weight = torch.tensor([0.5, 0.25], requires_grad=True)
    y = x.clone().lerp_(end, weight=weight)
    assert y.grad_fn.name() == "LerpBackward1"
    y.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), (end - x).numpy())  # d/dw (x + w (end - x))


def _view_of_a_no_grad_view_written_in_place(library):
    plain = library.ones(4)
    with library.no_grad():
        first = plain[:2]
    second = first.view(2)  # grad mode on, nothing requires grad: made without a node
    plain.requires_grad_()
    with pytest.raises(RuntimeError) as raised:
        second.mul_(2)
    return str(raised.value)


def test_a_view_made_without_a_node_keeps_the_no_grad_kind_of_its_input():
    message = _view_of_a_no_grad_view_written_in_place(torch)
    assert message.startswith("A view was created in no_grad mode and is being modified inplace")
    assert message == _view_of_a_no_grad_view_written_in_place(pytest.importorskip("torch"))


def test_a_view_made_after_a_write_to_its_base_counts_as_unchanged_since():
    plain = torch.ones(4)
    plain.add_(1.0)
    view = plain.view(2, 2)  # made without a node, at the base's version 1
    plain.requires_grad_()
    assert view.requires_grad and view.grad_fn is None  # not re-read from the base (PyTorch's)
