"""Recurrent layers: RNN, LSTM and GRU (multi-layer, bidirectional, batch_first), and their cells.

A layer runs its cell over the time steps; the input-to-hidden products of all steps are
computed at once before the loop, so the loop holds only the hidden-to-hidden work.
"""

from __future__ import annotations

import math
import warnings

from ..._creation import empty, zeros
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_step(mode: str, input_part: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None):
    """One step of a plain RNN: act(W_ih x + b_ih + W_hh h + b_hh)."""
    total = input_part + F.linear(hidden, weight_hh, bias_hh)
    return F.relu(total) if mode == "RNN_RELU" else F.tanh(total)


def _lstm_step(input_part: Tensor, state: tuple, weight_hh: Tensor, bias_hh: Tensor | None):
    """One LSTM step, gates in PyTorch's order (input, forget, cell, output)."""
    hidden, cell = state
    gates = input_part + F.linear(hidden, weight_hh, bias_hh)
    input_gate, forget_gate, candidate, output_gate = gates.unsafe_chunk(4, -1)
    cell = F.sigmoid(forget_gate) * cell + F.sigmoid(input_gate) * F.tanh(candidate)
    hidden = F.sigmoid(output_gate) * F.tanh(cell)
    return hidden, cell


def _gru_step(input_part: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None):
    """One GRU step, gates in PyTorch's order (reset, update, new), computed as PyTorch's cell."""
    input_reset, input_update, input_new = input_part.unsafe_chunk(3, -1)
    hidden_reset, hidden_update, hidden_new = F.linear(hidden, weight_hh, bias_hh).unsafe_chunk(3, -1)
    reset = F.sigmoid(hidden_reset + input_reset)
    update = F.sigmoid(hidden_update + input_update)
    new = F.tanh(input_new + hidden_new * reset)
    return (hidden - new) * update + new  # PyTorch's form (its graph and its float bits)


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


class _CellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(gates * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gates * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gates * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(gates * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _zeros(self, input: Tensor) -> Tensor:
        shape = (input.size(0), self.hidden_size) if input.dim() == 2 else (self.hidden_size,)
        return zeros(*shape, dtype=input.dtype)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text


class RNNCell(_CellBase):
    """One step of an Elman RNN."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        hx = self._zeros(input) if hx is None else hx
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        input_part = F.linear(input, self.weight_ih, self.bias_ih)
        return _rnn_step(mode, input_part, hx, self.weight_hh, self.bias_hh)


class LSTMCell(_CellBase):
    """One LSTM step: (h, c) from the input and the previous (h, c)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        if hx is None:
            hx = (self._zeros(input), self._zeros(input))
        return _lstm_step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)


class GRUCell(_CellBase):
    """One GRU step."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        hx = self._zeros(input) if hx is None else hx
        return _gru_step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
