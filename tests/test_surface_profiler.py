"""The profiler: per-op counts, self and total times of forward and backward, PyTorch's table."""

import pytest

import retrograd
from retrograd.autograd import engine, profiler
from retrograd.ops import _table

try:
    import torch
except ImportError:  # the cross-check below skips
    torch = None


def _profile_mlp():
    x = retrograd.ones(4, 3, requires_grad=True)
    with profiler.profile(record_shapes=True) as prof:
        with profiler.record_function("forward_pass"):
            loss = (x * x).sin().sum()
        loss.backward()
    return prof


def test_profile_counts_forward_and_backward_operations():
    averages = {row.key: row for row in _profile_mlp().key_averages()}
    assert averages["aten::mul"].count >= 1
    assert averages["aten::sin"].count == 1
    assert averages["aten::sum"].count == 1
    assert averages["forward_pass"].count == 1
    for node in ("SumBackward0", "SinBackward0", "MulBackward0"):
        assert averages[node].count == 1
        assert averages[f"autograd::engine::evaluate_function: {node}"].count == 1
    assert averages["torch::autograd::AccumulateGrad"].count == 1


def test_a_range_holds_the_operations_run_inside_it():
    prof = _profile_mlp()
    block = next(event for event in prof.function_events if event.name == "forward_pass")
    assert [child.name for child in block.cpu_children] == ["aten::mul", "aten::sin", "aten::sum"]
    assert block.cpu_time_total >= sum(child.cpu_time_total for child in block.cpu_children)
    assert block.self_cpu_time_total == pytest.approx(
        block.cpu_time_total - sum(child.cpu_time_total for child in block.cpu_children)
    )


def test_backward_node_events_sit_inside_evaluate_function_events():
    prof = _profile_mlp()
    node = next(event for event in prof.function_events if event.name == "SinBackward0")
    assert node.cpu_parent.name == "autograd::engine::evaluate_function: SinBackward0"


def test_backward_node_events_hold_the_operations_their_formula_records():
    x = retrograd.ones(3, requires_grad=True)
    with profiler.profile() as prof:
        y = x.sin().sum()
        (gradient,) = retrograd.autograd.grad(y, x, create_graph=True)  # formulas run as tensor ops
    node = next(event for event in prof.function_events if event.name == "SinBackward0")
    assert any(child.name.startswith("aten::") for child in node.cpu_children)


def test_table_is_laid_out_as_pytorch_and_sorted_by_the_named_column():
    prof = _profile_mlp()
    table = prof.key_averages().table(sort_by="self_cpu_time_total")
    lines = table.splitlines()
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%", "CPU",
                                "total", "CPU", "time", "avg", "#", "of", "Calls"]
    assert lines[0] == lines[2] == lines[-2]
    assert lines[-1].startswith("Self CPU time total: ")
    assert all(len(line) == len(lines[0]) for line in lines[:-1])
    rows = prof.key_averages()
    ordered = sorted(rows, key=lambda row: row.self_cpu_time_total, reverse=True)
    assert [line[:55].strip() for line in lines[3:-2]] == [row.key[:52] + "..." if len(row.key) >= 52
                                                           else row.key for row in ordered]
    total = sum(row.self_cpu_time_total for row in rows)
    assert total == pytest.approx(prof.self_cpu_time_total)


def test_table_row_limit_and_input_shapes():
    prof = _profile_mlp()
    table = prof.key_averages(group_by_input_shape=True).table(sort_by="count", row_limit=2)
    lines = table.splitlines()
    assert len(lines) == 2 + 3 + 2
    assert lines[1].rstrip().endswith("Input Shapes")


def test_profiler_costs_nothing_when_off_the_entry_points_are_restored():
    from retrograd.ops.pointwise import arithmetic as pointwise

    original_apply, original_run = _table.apply, engine._run_node
    with profiler.profile():
        assert pointwise.apply is not original_apply
    assert pointwise.apply is original_apply and _table.apply is original_apply
    assert engine._run_node is original_run


def test_record_function_outside_a_profile_does_nothing_and_profiles_do_not_nest():
    with profiler.record_function("idle"):
        retrograd.ones(2).sin()
    with profiler.profile(), pytest.raises(RuntimeError, match="already enabled"), profiler.profile():
        pass


def test_record_function_as_a_decorator_and_the_newer_interface():
    from retrograd.profiler import ProfilerActivity, profile

    @profiler.record_function("step")
    def step():
        return retrograd.ones(2).exp()

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
        step()
    averages = {row.key: row for row in prof.key_averages()}
    assert averages["step"].count == 2 and averages["aten::exp"].count == 2


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_table_header_matches_pytorch_for_the_same_operations():
    def header(lib):
        x = lib.ones(10)
        with lib.autograd.profiler.profile() as prof:
            lib.sin(x)
        return prof.key_averages().table(sort_by="cpu_time_total").splitlines()[:3]

    assert header(retrograd) == header(torch)


def _in_place_program(library):
    x = library.rand(3)
    w = library.rand(3, requires_grad=True)
    with library.autograd.profiler.profile() as prof:
        x.add_(1)
        x.mul_(2)
        y = x.clone()
        y.relu_()
        z = w * 1
        z.sin_()
        x.zero_()
        x.copy_(y)
        x.fill_(1)
        y.add(1)
    return [event.name for event in prof.function_events if event.cpu_parent is None]


IN_PLACE_NAMES = ["aten::add_", "aten::mul_", "aten::clone", "aten::relu_", "aten::mul", "aten::sin_",
                  "aten::zero_", "aten::copy_", "aten::fill_", "aten::add"]


def test_in_place_operations_are_named_as_pytorch_names_them():
    names = _in_place_program(retrograd)
    assert [name for name in names if name in IN_PLACE_NAMES] == IN_PLACE_NAMES


@pytest.mark.skipif(torch is None, reason="needs PyTorch")
def test_pytorch_names_the_in_place_operations_so():
    names = _in_place_program(torch)
    assert [name for name in names if name in IN_PLACE_NAMES] == IN_PLACE_NAMES
