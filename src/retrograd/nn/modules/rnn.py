"""Recurrent layers: RNN, LSTM and GRU (multi-layer, bidirectional, batch_first), and their cells.

A layer runs its cell over the time steps; the input-to-hidden products of all steps are
computed at once before the loop, so the loop holds only the hidden-to-hidden work.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..._creation import empty, zeros
from ..._tensor import Tensor
from ...ops._formula import _NO_PARAMS
from ...ops._recording import Step, program_recorder
from ...ops._table import records_directly, runs_of
from ...ops.linalg import AddmmBackward0, MmBackward0
from ...ops.nn.linear import check_linear_dtypes
from ...ops.pointwise import AddBackward0, MulBackward0, SigmoidBackward0, SubBackward0, TanhBackward0
from ...ops.shape import TBackward0, UnsafeSplitBackward0
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module, registered_parameter

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# Note [A recurrent step runs its records]
#     A cell records some fifteen ops at every time step, each through `apply`, which asks each
#     time whether vmap, a dual level, a profiler or no_grad wants more than the op's record.
#     The answers hold for the whole step, so a step asks once (`runs_of`, ops/_table.py) and
#     calls what apply would call for each op as `run(inputs, params)`: the op's record when
#     grad mode is on outside vmap, forward AD and the profiler (every step of a model that
#     trains), apply itself otherwise. The graph, the values and the errors are apply's. An
#     LSTM step whose weights require grad goes further: one recorded program records all of
#     it (Note [Recorded programs], ops/_recording.py).
_STEP_OPS = (TBackward0, AddmmBackward0, MmBackward0, AddBackward0, UnsafeSplitBackward0, SigmoidBackward0,
             TanhBackward0, MulBackward0)


def _linear(input: Tensor, weight: Tensor, bias: Tensor | None, runs: tuple) -> Tensor:
    """W x + b of a batch, recorded as F.linear records it (AddmmBackward0 of (bias, input,
    TBackward0 of the weight), or MmBackward0), with F.linear's checks left to the callers.
    `runs`: what runs `_STEP_OPS` (Note [A recurrent step runs its records])."""
    transpose, addmm, mm = runs[:3]
    transposed = transpose((weight,), _NO_PARAMS)
    if bias is None:
        return mm((input, transposed), _NO_PARAMS)
    return addmm((bias, input, transposed), _NO_PARAMS)


def _gates(input_part: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None,
           runs: tuple) -> Tensor:
    """W_hh h + b_hh + input_part: the hidden-to-hidden product first, as PyTorch's cells add
    them (so the AddBackward0's edges come in PyTorch's order)."""
    return runs[3]((_linear(hidden, weight_hh, bias_hh, runs), input_part), _NO_PARAMS)


def _rnn_step(mode: str, input_part: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None,
              runs: tuple | None = None):
    """One step of a plain RNN: act(W_hh h + b_hh + W_ih x + b_ih). `runs`: runs_of(_STEP_OPS),
    where the caller has it."""
    if runs is None:
        runs = runs_of(_STEP_OPS)
    total = _gates(input_part, hidden, weight_hh, bias_hh, runs)
    return F.relu(total) if mode == "RNN_RELU" else runs[6]((total,), _NO_PARAMS)


# The ops of an LSTM step from W_ih x + b_ih (`input_part`) to the next states, as steps of a
# recorded program (Note [Recorded programs], ops/_recording.py): the records `_lstm_step`
# makes one by one otherwise. A cell's program computes W_ih x + b_ih first.
_LSTM_GATES = (
    Step("weight_hh_t", TBackward0, ("weight_hh",)),
    Step("hidden_part", AddmmBackward0, ("bias_hh", "hidden", "weight_hh_t")),
    Step("gates", AddBackward0, ("hidden_part", "input_part")),
    Step(("input_gate", "forget_gate", "candidate", "output_gate"), UnsafeSplitBackward0, ("gates",),
         "split"),
    Step("forget", SigmoidBackward0, ("forget_gate",)),
    Step("kept", MulBackward0, ("forget", "cell")),
    Step("admit", SigmoidBackward0, ("input_gate",)),
    Step("new", TanhBackward0, ("candidate",)),
    Step("added", MulBackward0, ("admit", "new")),
    Step("next_cell", AddBackward0, ("kept", "added")),
    Step("emit", SigmoidBackward0, ("output_gate",)),
    Step("squashed", TanhBackward0, ("next_cell",)),
    Step("next_hidden", MulBackward0, ("emit", "squashed")),
)
_record_lstm_step = program_recorder(
    "record_lstm_step", ("input_part", "hidden", "cell", "weight_hh", "bias_hh"), _LSTM_GATES,
    ("next_hidden", "next_cell"), optional=("hidden", "cell"))
_record_lstm_cell_step = program_recorder(
    "record_lstm_cell_step", ("input", "hidden", "cell", "weight_ih", "bias_ih", "weight_hh", "bias_hh"),
    (Step("weight_ih_t", TBackward0, ("weight_ih",)),
     Step("input_part", AddmmBackward0, ("bias_ih", "input", "weight_ih_t")), *_LSTM_GATES),
    ("next_hidden", "next_cell"), optional=("input", "hidden", "cell"))


def _lstm_cell_step(input: Tensor, state: tuple, weights: tuple):
    """An LSTMCell's step on a batch and its states that fit it (Note [The checks of a running
    step]), `weights` (weight_ih, bias_ih, weight_hh, bias_hh): by `_record_lstm_cell_step`
    where a program may record it, else W_ih x + b_ih as F.linear records it, then
    `_lstm_step`."""
    if _program_may_record((input, *state), weights):
        return _record_lstm_cell_step(input, *state, *weights, _split_of(weights[2]))
    weight_ih, bias_ih, weight_hh, bias_hh = weights
    runs = runs_of(_STEP_OPS)
    return _lstm_step(_linear(input, weight_ih, bias_ih, runs), state, weight_hh, bias_hh, runs)


def _split_of(weight_hh: Tensor) -> dict:
    """The parameters of unsafe_split that cut the gates of a cell with this W_hh into four."""
    return {"split_size": weight_hh._data.shape[0] // 4, "dim": 1}


def _lstm_step(input_part: Tensor, state: tuple, weight_hh: Tensor, bias_hh: Tensor | None,
               runs: tuple | None = None):
    """One LSTM step, gates in PyTorch's order (input, forget, cell, output). `runs`:
    runs_of(_STEP_OPS), where the caller has it.

    Each op is recorded by its node class directly (the graph of `sigmoid`, `*`, `+`...,
    without their argument handling, which these tensors of one dtype and shape never need,
    nor apply's questions: Note [A recurrent step runs its records]): an LSTM runs this at
    every time step; where its weights require grad, as in a model that trains, by one
    recorded program (`_record_lstm_step`). These are the nodes PyTorch's
    lstm_cell records on the CPU (it fuses the cell into one node only on CUDA), so one fused
    node here would be faster but not PyTorch's graph (test_cells_record_pytorchs_graph
    compares the two).
    """
    hidden, cell = state
    if _program_may_record((hidden, cell), (input_part, weight_hh, bias_hh)):
        return _record_lstm_step(input_part, hidden, cell, weight_hh, bias_hh, _split_of(weight_hh))
    if runs is None:
        runs = runs_of(_STEP_OPS)
    _, _, _, add, split, sigmoid, tanh, multiply = runs
    gates = _gates(input_part, hidden, weight_hh, bias_hh, runs)
    input_gate, forget_gate, candidate, output_gate = split(
        (gates,), {"split_size": gates._data.shape[-1] // 4, "dim": gates._data.ndim - 1})
    kept = multiply((sigmoid((forget_gate,), _NO_PARAMS), cell), _NO_PARAMS)
    added = multiply((sigmoid((input_gate,), _NO_PARAMS), tanh((candidate,), _NO_PARAMS)), _NO_PARAMS)
    cell = add((kept, added), _NO_PARAMS)
    hidden = multiply((sigmoid((output_gate,), _NO_PARAMS), tanh((cell,), _NO_PARAMS)), _NO_PARAMS)
    return hidden, cell


def _program_may_record(optional: tuple, required: tuple) -> bool:
    """Whether a recurrent step's recorded program may record a step of these tensors: what
    the programs take as known (Note [Recorded programs], ops/_recording.py). `optional` are
    the program's optional inputs (the input, the states), `required` the others (the input's
    part, the weights). The tensors have the batch's shape (the callers checked) and the
    weights fit them (the module made them so); what is asked here is what a step may change:
    that the optional ones are plain Tensors and the required ones require grad (a frozen
    weight, or none, takes the ops), one float dtype for all, and the modes."""
    dtype = None
    for tensor in optional:
        if type(tensor) is not Tensor or (dtype is not None and tensor._data.dtype is not dtype):
            return False
        dtype = tensor._data.dtype
    if dtype is not _FLOAT64 and dtype is not _FLOAT32:
        return False
    for tensor in required:
        if tensor is None or not tensor._requires_grad or tensor._data.dtype is not dtype:
            return False
    return records_directly()


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


# The ops of a GRU step from W_ih x + b_ih (`input_part`), as `_gru_step` records them one by one.
_GRU_GATES = (
    Step(("input_reset", "input_update", "input_new"), UnsafeSplitBackward0, ("input_part",), "split"),
    Step("weight_hh_t", TBackward0, ("weight_hh",)),
    Step("hidden_part", AddmmBackward0, ("bias_hh", "hidden", "weight_hh_t")),
    Step(("hidden_reset", "hidden_update", "hidden_new"), UnsafeSplitBackward0, ("hidden_part",), "split"),
    Step("reset_sum", AddBackward0, ("hidden_reset", "input_reset")),
    Step("reset", SigmoidBackward0, ("reset_sum",)),
    Step("update_sum", AddBackward0, ("hidden_update", "input_update")),
    Step("update", SigmoidBackward0, ("update_sum",)),
    Step("gated", MulBackward0, ("hidden_new", "reset")),
    Step("new_sum", AddBackward0, ("input_new", "gated")),
    Step("new", TanhBackward0, ("new_sum",)),
    Step("kept", SubBackward0, ("hidden", "new")),
    Step("blended", MulBackward0, ("kept", "update")),
    Step("next_hidden", AddBackward0, ("blended", "new")),
)
_record_gru_step = program_recorder("record_gru_step", ("input_part", "hidden", "weight_hh", "bias_hh"),
                                    _GRU_GATES, ("next_hidden",), optional=("hidden",))


def _gru_step(input_part: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None):
    """One GRU step, gates in PyTorch's order (reset, update, new), computed as PyTorch's cell;
    by `_record_gru_step` where a program may record it (Note [Recorded programs])."""
    if _program_may_record((hidden,), (input_part, weight_hh, bias_hh)) and input_part._data.ndim == 2:
        split = {"split_size": weight_hh._data.shape[0] // 3, "dim": 1, "dim_as_given": -1}  # unsafe_chunk's
        return _record_gru_step(input_part, hidden, weight_hh, bias_hh, split)[0]
    input_reset, input_update, input_new = input_part.unsafe_chunk(3, -1)
    hidden_reset, hidden_update, hidden_new = F.linear(hidden, weight_hh, bias_hh).unsafe_chunk(3, -1)
    reset = F.sigmoid(hidden_reset + input_reset)
    update = F.sigmoid(hidden_update + input_update)
    new = F.tanh(input_new + hidden_new * reset)
    return (hidden - new) * update + new  # PyTorch's form (its graph and its float bits)


def _all_matrices(input, states: tuple) -> bool:
    """Whether `input` and every state are 2-D tensors: a batch with its states, which a
    cell's step takes as they are."""
    if not isinstance(input, Tensor) or input._data.ndim != 2:
        return False
    for state in states:  # noqa: SIM110  (a loop, not all() of a generator: a cell asks at every step)
        if not isinstance(state, Tensor) or state._data.ndim != 2:
            return False
    return True


def _is_packed(input) -> bool:
    from ..utils.rnn import PackedSequence

    return isinstance(input, PackedSequence)


def _batch_of(state) -> int:
    return (state[0] if isinstance(state, tuple) else state).size(0)


def _rows(state, start: int, stop: int):
    """Rows start:stop of a state (a tensor, or LSTM's (h, c))."""
    if isinstance(state, tuple):
        return tuple(part[start:stop] for part in state)
    return state[start:stop]


def _joined(states: list):
    """States of consecutive rows joined (tensors, or LSTM's (h, c) pairs)."""
    from ... import cat

    if isinstance(states[0], tuple):
        return tuple(cat([state[part] for state in states]) for part in range(len(states[0])))
    return cat(states)


class RNNBase(Module):
    """Parameters, checks and the layer/direction loop shared by RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, int | float) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element "
                "being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                UserWarning,
                stacklevel=3,
            )
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be greater than 0")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than 0")
        if proj_size != 0:
            raise ValueError("retrograd's LSTM does not support proj_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {
                    f"weight_ih{suffix}": (gate_size, layer_input),
                    f"weight_hh{suffix}": (gate_size, hidden_size),
                }
                if bias:
                    shapes[f"bias_ih{suffix}"] = (gate_size,)
                    shapes[f"bias_hh{suffix}"] = (gate_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer (and direction), as lists."""
        per_direction = 4 if self.bias else 2
        names = self._flat_weights_names
        return [
            [getattr(self, name) for name in names[start : start + per_direction]]
            for start in range(0, len(names), per_direction)
        ]

    def _layer_weights(self, layer: int, direction: int):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        return tuple(
            getattr(self, f"{kind}{suffix}") if self.bias or kind.startswith("weight") else None
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )

    def _check_input(self, input: Tensor) -> bool:
        """Validate the input's shape; True when it has a batch dimension."""
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.size(-1)}"
            )
        return input.dim() == 3

    def _initial_state(self, input: Tensor, batch: int) -> Tensor:
        directions = 2 if self.bidirectional else 1
        return zeros(self.num_layers * directions, batch, self.hidden_size, dtype=input.dtype)

    def _check_hidden(self, hidden: Tensor, batch: int, batched: bool, what: str = "hidden") -> None:
        """PyTorch's checks of an initial state (`what` is 'hidden', or 'hidden[1]' for LSTM's c)."""
        if batched and hidden.dim() != 3:
            raise RuntimeError(
                f"For batched 3-D input, hx should also be 3-D but got {hidden.dim()}-D tensor"
            )
        if not batched and hidden.dim() != 2:
            raise RuntimeError(
                f"For unbatched 2-D input, hx should also be 2-D but got {hidden.dim()}-D tensor"
            )
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        if not batched:
            expected = (expected[0], expected[2])
        if tuple(hidden.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hidden.shape)}")

    def _run(self, input: Tensor, initial_states: list):
        """Run every layer and direction over time-major `input` (L, N, H_in).

        `initial_states[k]` is the state of layer/direction k (a tensor, or (h, c) for LSTM);
        returns the top layer's outputs (L, N, directions·H) and the final states.
        """
        return self._layers(input, initial_states, self._run_direction)

    def _run_packed(self, data: Tensor, batch_sizes: list[int], initial_states: list):
        """`_run` over packed sequences (see nn/utils/rnn.py): at step t only the first
        `batch_sizes[t]` sequences run. A sequence's final state is its state after its own
        last step, so the states shrink as sequences end (and grow back, running in reverse)."""
        offsets = [0]
        for size in batch_sizes:
            offsets.append(offsets[-1] + size)

        def run_direction(input_parts, initial, direction, weight_hh, bias_hh):
            return self._run_packed_direction(input_parts, initial, direction, weight_hh, bias_hh,
                                              batch_sizes, offsets)

        return self._layers(data, initial_states, run_direction)

    def _layers(self, layer_input: Tensor, initial_states: list, run_direction):
        """The layer and direction loop: `run_direction(input_parts, initial_state, direction,
        weight_hh, bias_hh)` runs one direction of one layer and gives (its outputs, its final
        state); dropout between layers as PyTorch."""
        from ... import cat

        directions = 2 if self.bidirectional else 1
        final_states = []
        for layer in range(self.num_layers):
            outputs_by_direction = []
            for direction in range(directions):
                weight_ih, weight_hh, bias_ih, bias_hh = self._layer_weights(layer, direction)
                input_parts = F.linear(layer_input, weight_ih, bias_ih)
                outputs, state = run_direction(input_parts, initial_states[layer * directions + direction],
                                               direction, weight_hh, bias_hh)
                final_states.append(state)
                outputs_by_direction.append(outputs)
            layer_output = outputs_by_direction[0] if directions == 1 else cat(outputs_by_direction, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        return layer_input, final_states

    def _run_direction(self, input_parts: Tensor, state, direction: int, weight_hh: Tensor,
                       bias_hh: Tensor | None):
        """One direction over padded time steps: the outputs stacked (L, N, H), the final state."""
        from ... import stack

        steps = input_parts.size(0)
        order = range(steps - 1, -1, -1) if direction == 1 else range(steps)
        outputs = [None] * steps
        for step in order:
            state = self._cell_step(input_parts.select(0, step), state, weight_hh, bias_hh)
            outputs[step] = state[0] if self.mode == "LSTM" else state
        return stack(outputs), state

    def _run_packed_direction(self, input_parts: Tensor, initial, direction: int, weight_hh: Tensor,
                              bias_hh: Tensor | None, batch_sizes: list[int], offsets: list[int]):
        """One direction over packed steps: the outputs joined in packed order, and the final
        state of each sequence after its own last step."""
        from ... import cat

        outputs = [None] * len(batch_sizes)
        if direction == 0:
            state, finished = _rows(initial, 0, batch_sizes[0]), []
            for step, size in enumerate(batch_sizes):
                if size < _batch_of(state):
                    finished.append(_rows(state, size, _batch_of(state)))
                    state = _rows(state, 0, size)
                state = self._cell_step(input_parts[offsets[step]:offsets[step + 1]], state, weight_hh,
                                        bias_hh)
                outputs[step] = state[0] if self.mode == "LSTM" else state
            finished.append(state)
            return cat(outputs), _joined(finished[::-1])
        state = _rows(initial, 0, batch_sizes[-1])
        for step in range(len(batch_sizes) - 1, -1, -1):
            size = batch_sizes[step]
            if size > _batch_of(state):
                state = _joined([state, _rows(initial, _batch_of(state), size)])
            state = self._cell_step(input_parts[offsets[step]:offsets[step + 1]], state, weight_hh, bias_hh)
            outputs[step] = state[0] if self.mode == "LSTM" else state
        return cat(outputs), state

    def _packed_initial_state(self, hx, packed, batch: int):
        """hx for packed input: zeros, or the given state in the order packing sorted the batch."""
        if hx is None:
            return self._initial_state(packed.data, batch)
        self._check_hidden(hx, batch, True)
        return hx if packed.sorted_indices is None else hx.index_select(1, packed.sorted_indices)

    def _packed_result(self, output: Tensor, packed, states: list):
        """The output PackedSequence and the final states (each a stacked tensor), the states
        put back into the batch's original order."""
        from ... import stack
        from ..utils.rnn import PackedSequence

        results = []
        for part in range(2 if self.mode == "LSTM" else 1):
            stacked = stack([state[part] if self.mode == "LSTM" else state for state in states])
            if packed.unsorted_indices is not None:
                stacked = stacked.index_select(1, packed.unsorted_indices)
            results.append(stacked)
        sequence = PackedSequence(output, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return sequence, (tuple(results) if self.mode == "LSTM" else results[0])

    def _cell_step(self, input_part: Tensor, state, weight_hh: Tensor, bias_hh: Tensor | None):
        if self.mode == "LSTM":
            return _lstm_step(input_part, state, weight_hh, bias_hh)
        if self.mode == "GRU":
            return _gru_step(input_part, state, weight_hh, bias_hh)
        return _rnn_step(self.mode, input_part, state, weight_hh, bias_hh)

    def _prepare(self, input: Tensor):
        """(time-major batched input, batch size, whether the input was batched)."""
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        return input, input.size(1), batched

    def _finish(self, output: Tensor, batched: bool) -> Tensor:
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output

    def _forward_plain(self, input: Tensor, hx: Tensor | None):
        """RNN and GRU: one state tensor per layer and direction."""
        from ... import stack

        if _is_packed(input):
            batch_sizes = input.batch_sizes.tolist()
            hx = self._packed_initial_state(hx, input, batch_sizes[0])
            output, final_states = self._run_packed(input.data, batch_sizes, list(hx.unbind(0)))
            return self._packed_result(output, input, final_states)
        input, batch, batched = self._prepare(input)
        if hx is None:
            hx = self._initial_state(input, batch)
        else:
            self._check_hidden(hx, batch, batched)
            if not batched:
                hx = hx.unsqueeze(1)
        output, final_states = self._run(input, list(hx.unbind(0)))
        h_n = stack(final_states)
        return self._finish(output, batched), (h_n if batched else h_n.squeeze(1))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN: hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh) (or ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None):
        return self._forward_plain(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit (reset, update and new gates)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None):
        return self._forward_plain(input, hx)


class LSTM(RNNBase):
    """Long short-term memory; the state is the pair (h, c)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        from ... import stack

        if _is_packed(input):
            batch_sizes = input.batch_sizes.tolist()
            hidden = self._packed_initial_state(None if hx is None else hx[0], input, batch_sizes[0])
            cell = self._packed_initial_state(None if hx is None else hx[1], input, batch_sizes[0])
            states = list(zip(hidden.unbind(0), cell.unbind(0)))
            output, final_states = self._run_packed(input.data, batch_sizes, states)
            return self._packed_result(output, input, final_states)
        input, batch, batched = self._prepare(input)
        if hx is None:
            hidden = cell = self._initial_state(input, batch)
        else:
            hidden, cell = hx
            self._check_hidden(hidden, batch, batched, what="hidden[0]")
            self._check_hidden(cell, batch, batched, what="hidden[1]")
            if not batched:
                hidden, cell = hidden.unsqueeze(1), cell.unsqueeze(1)
        states = list(zip(hidden.unbind(0), cell.unbind(0)))
        output, final_states = self._run(input, states)
        h_n = stack([state[0] for state in final_states])
        c_n = stack([state[1] for state in final_states])
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, batched), (h_n, c_n)


class RNNCellBase(Module):
    """What RNNCell, LSTMCell and GRUCell share: the weights and biases of `num_chunks` gates
    (input-to-hidden and hidden-to-hidden), each ~ U(−1/√hidden_size, 1/√hidden_size), and
    PyTorch's checks of a step's input and state."""

    __constants__ = ("input_size", "hidden_size", "bias")

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            text += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _batch(self, input: Tensor, states: tuple, labels: tuple[str, ...]):
        """(input, states, batched): a 1-D input and its states made a batch of one (as
        PyTorch's cells do, so the results are squeezed back) and zeros for missing states,
        after PyTorch's checks of the dims. `states` holds None or a tensor for each of
        `labels` ('hidden', or LSTM's 'hx[0]' and 'hx[1]')."""
        if _all_matrices(input, states):
            return input, states, True
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for state, label in zip(states, labels):
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {state.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        states = tuple(
            zeros(input.size(0), self.hidden_size, dtype=input.dtype) if state is None
            else state if batched else state.unsqueeze(0)
            for state in states
        )
        return input, states, batched

    def _check_sizes(self, input: Tensor, states: tuple) -> None:
        """PyTorch's checks of a batch and its states (`hidden<k>` is state k)."""
        rows, features = input._data.shape
        if features != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {features} expected {self.input_size}")
        expected = (rows, self.hidden_size)
        for number, state in enumerate(states):
            shape = state._data.shape
            if shape == expected:  # (the one test of a step that runs)
                continue
            if shape[0] != rows:
                raise RuntimeError(f"Input batch size {rows} doesn't match hidden{number} batch size "
                                   f"{shape[0]}")
            raise RuntimeError(f"hidden{number} has inconsistent hidden_size: got {state.size(1)}, "
                               f"expected {self.hidden_size}")

    def _input_part(self, input: Tensor, runs: tuple) -> Tensor:
        """W_ih x + b_ih, recorded as F.linear records it; F.linear itself (its checks and
        errors) unless the input is a matrix that fits the weight, as it is at every step of
        a model that runs. `runs`: runs_of(_STEP_OPS) (Note [A recurrent step runs its records])."""
        weight, bias = registered_parameter(self, "weight_ih"), registered_parameter(self, "bias_ih")
        input_data, weight_data = input._data, weight._data
        if input_data.ndim == 2 and input_data.dtype == weight_data.dtype and (
                weight_data.ndim == 2 and input_data.shape[1] == weight_data.shape[1]):
            return _linear(input, weight, bias, runs)
        return F.linear(input, weight, bias)

    def _running_weights(self, input, states: tuple):
        """(weight_ih, bias_ih, weight_hh, bias_hh) where `input` and `states` are what a model
        that runs passes at every step, else None.

        Note [The checks of a running step]
            A running model hands a cell, at every step, a batch and its states: 2-D tensors
            whose sizes fit the cell, of its weights' dtype. For them every question of the
            general path (`_batch`, `_check_sizes`, `_input_part`, `_hidden_weights`, four
            parameter reads) has the same answer, and the step records F.linear's graph by
            `_linear`; a cell asks them here once, in one frame (about a tenth of an LSTM
            step's bytecodes otherwise). Anything else (a 1-D or missing state, other sizes or
            dtypes, a parametrized weight) is None, and the general path checks and explains it.
        """
        parameters = self._parameters
        try:
            weight_ih, bias_ih = parameters["weight_ih"], parameters["bias_ih"]
            weight_hh, bias_hh = parameters["weight_hh"], parameters["bias_hh"]
        except KeyError:  # (a parametrized weight, read as the attribute it is)
            return None
        if not isinstance(input, Tensor) or weight_ih is None or weight_hh is None:
            return None
        input_data, weight_data = input._data, weight_ih._data
        if (input_data.ndim != 2 or input_data.dtype != weight_data.dtype or weight_data.ndim != 2
                or input_data.shape[1] != weight_data.shape[1] or input_data.shape[1] != self.input_size):
            return None
        expected = (input_data.shape[0], self.hidden_size)
        for state in states:
            if not isinstance(state, Tensor) or state._data.shape != expected:
                return None
        dtype = weight_hh._data.dtype
        if states[0]._data.dtype != dtype or (bias_hh is not None and bias_hh._data.dtype != dtype):
            return None
        return weight_ih, bias_ih, weight_hh, bias_hh

    def _hidden_weights(self, hidden: Tensor) -> tuple:
        """(weight_hh, bias_hh), bias_hh None without biases, after PyTorch's dtype checks of
        W_hh h + b_hh (a state of another dtype is refused as linear refuses it)."""
        weight, bias = registered_parameter(self, "weight_hh"), registered_parameter(self, "bias_hh")
        dtype = weight._data.dtype
        if hidden._data.dtype != dtype or (bias is not None and bias._data.dtype != dtype):
            check_linear_dtypes(hidden, weight, bias)
        return weight, bias


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._batch(input, (hx,), ("hidden",))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check_sizes(input, (hx,))
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        runs = runs_of(_STEP_OPS)
        hidden = _rnn_step(mode, self._input_part(input, runs), hx, *self._hidden_weights(hx), runs)
        return hidden if batched else hidden.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h, c) from the input and the previous (h, c)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        # (a tuple is let through before `tuple | list` is made)
        if hx is not None and type(hx) is not tuple and not isinstance(hx, tuple | list):
            raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not "
                            f"{type(hx).__name__}")
        if hx is not None and len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        weights = self._running_weights(input, hx) if type(hx) is tuple else None
        if weights is not None:  # Note [The checks of a running step]
            return _lstm_cell_step(input, hx, weights)
        input, state, batched = self._batch(input, (None, None) if hx is None else tuple(hx),
                                            ("hx[0]", "hx[1]"))
        self._check_sizes(input, state)
        runs = runs_of(_STEP_OPS)
        hidden, cell = _lstm_step(self._input_part(input, runs), state, *self._hidden_weights(state[0]), runs)
        return (hidden, cell) if batched else (hidden.squeeze(0), cell.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._batch(input, (hx,), ("hidden",))
        self._check_sizes(input, (hx,))
        hidden = _gru_step(self._input_part(input, runs_of(_STEP_OPS)), hx, *self._hidden_weights(hx))
        return hidden if batched else hidden.squeeze(0)
