"""An LSTM or GRU step recorded as one program (Note [Recorded programs], ops/_recording.py)
records what its ops recorded one by one record: the same nodes, edges, saved values, outputs
and gradients, bit for bit, in every mode a record serves."""

import numpy as np
import pytest

import retrograd
from bitwise import assert_same_bits
from retrograd.nn.modules import rnn
from retrograd.ops._recording import Step, program_recorder
from retrograd.ops.shape import SplitBackward0

SHAPES = [(1, 1), (3, 4), (8, 51)]


@pytest.fixture
def program_calls(monkeypatch):
    """The names of the recurrent programs called, in order, which this records."""
    calls = []
    for name in ("_record_lstm_step", "_record_lstm_cell_step", "_record_gru_step"):
        program = getattr(rnn, name)

        def spy(*arguments, program=program, name=name):
            calls.append(name)
            return program(*arguments)

        monkeypatch.setattr(rnn, name, spy)
    return calls


def _step_inputs(dtype, batch: int, hidden: int, states_require_grad: bool = True):
    """(input_part, hidden, cell, weight_hh, bias_hh) as a model's later step has them: the input's
    part and the states made by ops, the weights leaves."""
    generator = np.random.default_rng(batch * 100 + hidden)

    def leaf(*shape):
        return retrograd.tensor(generator.standard_normal(shape), dtype=dtype, requires_grad=True)

    leaves = [leaf(batch, 4 * hidden), leaf(batch, hidden), leaf(batch, hidden), leaf(4 * hidden, hidden),
              leaf(4 * hidden)]
    made = [leaves[0] * 1.5]
    made += [value * 0.5 for value in leaves[1:3]] if states_require_grad else [value.detach() for value in
                                                                                   leaves[1:3]]
    return leaves, (*made, *leaves[3:])


def _run_step(fused: bool, monkeypatch, dtype, batch: int, hidden: int, states_require_grad: bool = True,
              inputs: list | None = None):
    """(leaves, (next hidden, next cell)) of one step by the program (`fused`) or by the ops;
    the step's inputs are appended to `inputs`."""
    leaves, step_inputs = _step_inputs(dtype, batch, hidden, states_require_grad)
    input_part, hidden_state, cell, weight, bias = step_inputs
    if inputs is not None:
        inputs += step_inputs
    with monkeypatch.context() as patch:
        if not fused:
            patch.setattr(rnn, "_program_may_record", lambda *arguments: False)
        outputs = rnn._lstm_step(input_part, (hidden_state, cell), weight, bias)
    return leaves, outputs


def _graph(outputs) -> list:
    """Every node reachable from `outputs`, in a fixed order: its class, its edges (class and
    output number) and its saved values (arrays as themselves)."""
    described, seen, pending = [], set(), [output.grad_fn for output in outputs]
    while pending:
        node = pending.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        saved = []
        for name in node._saved_names():
            value = getattr(node, "_saved_" + name)
            saved.append((name, value._data if isinstance(value, retrograd.Tensor) else value))
        described.append((type(node).__name__, [(type(edge).__name__, number) for edge, number in
                                                node.next_functions], saved))
        pending += [edge for edge, _ in node.next_functions]
    return described


def _assert_same_graph(first: list, second: list) -> None:
    assert [(name, edges) for name, edges, _ in first] == [(name, edges) for name, edges, _ in second]
    for (_, _, saved), (_, _, other) in zip(first, second, strict=True):
        assert [name for name, _ in saved] == [name for name, _ in other]
        assert_same_bits([value for _, value in saved], [value for _, value in other])


@pytest.mark.parametrize("dtype", [retrograd.float32, retrograd.float64])
@pytest.mark.parametrize(("batch", "hidden"), SHAPES)
def test_the_program_records_what_the_ops_record(program_calls, monkeypatch, dtype, batch, hidden):
    leaves, outputs = _run_step(True, monkeypatch, dtype, batch, hidden)
    assert len(program_calls) == 1
    other_leaves, other_outputs = _run_step(False, monkeypatch, dtype, batch, hidden)
    assert len(program_calls) == 1
    assert_same_bits([output._data for output in outputs], [output._data for output in other_outputs])
    assert [output._output_nr for output in outputs] == [0, 0]
    _assert_same_graph(_graph(outputs), _graph(other_outputs))
    for values in (outputs, other_outputs):
        (values[0] * 3 + values[1] * values[1]).sum().backward()
    assert_same_bits([leaf.grad._data for leaf in leaves], [leaf.grad._data for leaf in other_leaves])


@pytest.mark.parametrize("dtype", [retrograd.float32, retrograd.float64])
def test_a_step_whose_states_need_no_grad(program_calls, monkeypatch, dtype):
    """A model's first step: its zero states require no grad (optional inputs of the program)."""
    leaves, outputs = _run_step(True, monkeypatch, dtype, 2, 3, states_require_grad=False)
    other_leaves, other_outputs = _run_step(False, monkeypatch, dtype, 2, 3, states_require_grad=False)
    assert program_calls == ["_record_lstm_step"]
    _assert_same_graph(_graph(outputs), _graph(other_outputs))
    for values in (outputs, other_outputs):
        (values[0] + values[1]).sum().backward()
    assert_same_bits([leaf.grad for leaf in leaves[1:3]], [None, None])
    assert_same_bits([leaf.grad._data for leaf in leaves if leaf.grad is not None],
                     [leaf.grad._data for leaf in other_leaves if leaf.grad is not None])


def _cell_steps(fused: bool, monkeypatch, dtype, input_requires_grad: bool, steps: int = 3):
    """An LSTMCell's parameters and its last states after `steps` steps from zero states."""
    retrograd.manual_seed(0)
    cell = retrograd.nn.LSTMCell(3, 5).to(dtype)
    inputs = retrograd.randn(steps, 2, 3, dtype=dtype, requires_grad=input_requires_grad)
    state = (retrograd.zeros(2, 5, dtype=dtype), retrograd.zeros(2, 5, dtype=dtype))
    with monkeypatch.context() as patch:
        if not fused:
            patch.setattr(rnn, "_program_may_record", lambda *arguments: False)
        for step in range(steps):
            state = cell(inputs[step], state)
    return [*cell.parameters(), inputs], state


@pytest.mark.parametrize("dtype", [retrograd.float32, retrograd.float64])
@pytest.mark.parametrize("input_requires_grad", [False, True])
def test_a_cell_records_by_its_program_what_its_ops_record(program_calls, monkeypatch, dtype,
                                                           input_requires_grad):
    """LSTMCell's program begins with W_ih x + b_ih, whose input may not require grad (a model's
    data), and takes the first step's zero states too."""
    tensors, state = _cell_steps(True, monkeypatch, dtype, input_requires_grad)
    assert program_calls == ["_record_lstm_cell_step"] * 3
    other_tensors, other_state = _cell_steps(False, monkeypatch, dtype, input_requires_grad)
    assert len(program_calls) == 3
    assert_same_bits([value._data for value in state], [value._data for value in other_state])
    _assert_same_graph(_graph(state), _graph(other_state))
    for values in (state, other_state):
        (values[0] * values[1]).sum().backward()
    assert_same_bits([value.grad if value.grad is None else value.grad._data for value in tensors],
                     [value.grad if value.grad is None else value.grad._data for value in other_tensors])


@pytest.mark.parametrize("dtype", [retrograd.float32, retrograd.float64])
@pytest.mark.parametrize("layer", [False, True])
def test_a_gru_records_by_its_program_what_its_ops_record(program_calls, monkeypatch, dtype, layer):
    """GRUCell's steps (from zero states, whose first takes the program as well) and the GRU
    layer's, with the ops' bits, graph and gradients."""
    results = []
    for fused in (True, False):
        retrograd.manual_seed(0)
        inputs = retrograd.randn(3, 2, 3, dtype=dtype, requires_grad=True)
        with monkeypatch.context() as patch:
            if not fused:
                patch.setattr(rnn, "_program_may_record", lambda *arguments: False)
            if layer:
                gru = retrograd.nn.GRU(3, 5).to(dtype)
                output, hidden = gru(inputs)
                outputs = (output, hidden)
            else:
                gru = retrograd.nn.GRUCell(3, 5).to(dtype)
                hidden = retrograd.zeros(2, 5, dtype=dtype)
                for step in range(3):
                    hidden = gru(inputs[step], hidden)
                outputs = (hidden,)
        results.append((outputs, [*gru.parameters(), inputs]))
    assert program_calls == ["_record_gru_step"] * 3
    (outputs, tensors), (other_outputs, other_tensors) = results
    assert_same_bits([value._data for value in outputs], [value._data for value in other_outputs])
    _assert_same_graph(_graph(outputs), _graph(other_outputs))
    for values in (outputs, other_outputs):
        sum((value * value).sum() for value in values).backward()
    assert_same_bits([value.grad._data for value in tensors], [value.grad._data for value in other_tensors])


def test_what_takes_the_ops(program_calls):
    """A frozen weight, a cell without biases, a state of another dtype, no_grad: the ops."""
    cell = retrograd.nn.LSTMCell(3, 4)
    x, state = retrograd.randn(2, 3), (retrograd.zeros(2, 4), retrograd.zeros(2, 4))
    cell.weight_hh.requires_grad_(False)
    cell(x, state)
    cell.weight_hh.requires_grad_(True)
    retrograd.nn.LSTMCell(3, 4, bias=False)(x, state)
    cell(x, (state[0], state[1].double()))
    with retrograd.no_grad():
        cell(x, state)
    assert program_calls == []
    cell(x, state)
    assert program_calls == ["_record_lstm_cell_step"]


@pytest.mark.parametrize("options", [{"num_layers": 2}, {"bidirectional": True}])
def test_the_lstm_layer_records_its_steps_by_the_program(program_calls, monkeypatch, options):
    results = []
    for fused in (True, False):
        retrograd.manual_seed(0)
        layer = retrograd.nn.LSTM(3, 4, **options).double()
        inputs = retrograd.randn(5, 2, 3, dtype=retrograd.float64, requires_grad=True)
        with monkeypatch.context() as patch:
            if not fused:
                patch.setattr(rnn, "_program_may_record", lambda *arguments: False)
            output, (last_hidden, last_cell) = layer(inputs)
        (output.sum() + (last_cell * last_hidden).sum()).backward()
        results.append([output._data, last_hidden._data, last_cell._data, inputs.grad._data,
                        *(parameter.grad._data for parameter in layer.parameters())])
    assert len(program_calls) == 10
    assert set(program_calls) == {"_record_lstm_step"}
    assert_same_bits(results[0], results[1])


def test_a_change_in_place_after_the_step_is_caught_as_the_ops_catch_it(monkeypatch):
    messages = []
    for fused in (True, False):
        inputs = []
        _, (next_hidden, _) = _run_step(fused, monkeypatch, retrograd.float64, 2, 3, inputs=inputs)
        with retrograd.no_grad():
            inputs[2].mul_(2)  # the cell state, which forget * cell saved
        with pytest.raises(RuntimeError) as caught:
            next_hidden.sum().backward()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "which is output 0 of Mul, is at version 1; expected version 0" in messages[0]


def test_saved_tensor_hooks_see_what_they_see_of_the_ops(monkeypatch):
    packed = []
    for fused in (True, False):
        seen = []

        def pack(tensor, seen=seen):
            seen.append((tuple(tensor.shape), tensor._data.tobytes()))
            return tensor

        with retrograd.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            leaves, (next_hidden, next_cell) = _run_step(fused, monkeypatch, retrograd.float64, 2, 3)
        (next_hidden + next_cell).sum().backward()
        packed.append((seen, [leaf.grad._data.tobytes() for leaf in leaves]))
    assert packed[0] == packed[1]
    assert len(packed[0][0]) == 13  # addmm 2, the products 2 each, sigmoid and tanh their results


def test_anomaly_mode_notes_where_each_node_was_made(monkeypatch):
    with retrograd.autograd.set_detect_anomaly(True):
        _, (next_hidden, _) = _run_step(True, monkeypatch, retrograd.float64, 2, 3)
    node = next_hidden.grad_fn
    assert "test_anomaly_mode_notes" in "".join(node._anomaly_trace)
    assert node.next_functions[0][0]._anomaly_trace is not None


def test_the_profiler_sees_each_op_of_a_cell():
    """A watching profiler sends each op through apply (records_directly is False)."""
    cell = retrograd.nn.LSTMCell(3, 4)
    state = (retrograd.randn(2, 4, requires_grad=True), retrograd.randn(2, 4, requires_grad=True))
    with retrograd.autograd.profiler.profile() as profile:
        cell(retrograd.randn(2, 3), state)
    counts = {event.key: event.count for event in profile.key_averages()}
    assert counts == {"aten::t": 2, "aten::addmm": 2, "aten::add": 2, "aten::unsafe_split": 1,
                      "aten::sigmoid": 3, "aten::mul": 3, "aten::tanh": 2}


def test_a_program_takes_only_ops_it_can_record_in_line():
    """split's pieces are views of its input, which a program does not make."""
    with pytest.raises(TypeError, match="SplitBackward0 cannot be a step"):
        program_recorder("bad", ("x",), (Step(("first", "second"), SplitBackward0, ("x",), "split"),),
                         ("first",))


def test_a_program_step_needs_an_input_that_requires_grad():
    """A step whose every input may not require grad might record nothing, as a record would
    decide at run time: a program does not take it."""
    with pytest.raises(TypeError, match="needs an input that requires grad: MulBackward0 has none"):
        program_recorder("bad", ("x", "y"), (Step("product", rnn.MulBackward0, ("x", "y")),), ("product",),
                         optional=("x", "y"))
