"""nn.utils.rnn (padding and packing) and the recurrent layers on packed sequences, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

LENGTHS = {"sorted": [4, 3, 3, 1], "unsorted": [2, 4, 1, 3]}


def _padded(rng, steps=4, batch=4, features=3):
    return rng.standard_normal((steps, batch, features))


def test_packing_keeps_the_valid_steps_time_major():
    x = retrograd.tensor(np.arange(12.0).reshape(3, 2, 2), requires_grad=True)
    packed = pack_padded_sequence(x, [3, 1])
    assert packed.batch_sizes.tolist() == [2, 1, 1]
    assert packed.data.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [8.0, 9.0]]
    assert type(packed.data.grad_fn).__name__ == "PackPaddedSequenceBackward0"
    packed.data.sum().backward()
    assert x.grad[:, 1, 0].tolist() == [1.0, 0.0, 0.0]  # padding gets no gradient
    padded, lengths = pad_packed_sequence(packed, padding_value=-1.0)
    assert lengths.tolist() == [3, 1] and lengths.dtype == retrograd.int64
    assert padded[1:, 1].tolist() == [[-1.0, -1.0], [-1.0, -1.0]]


def test_packing_gradients_pass_gradcheck_in_both_orders():
    rng = np.random.default_rng(0)
    for lengths in LENGTHS.values():
        x = retrograd.tensor(_padded(rng), requires_grad=True)

        def packed(x, lengths=lengths):
            return pack_padded_sequence(x, lengths, enforce_sorted=False).data

        def round_trip(x, lengths=lengths):
            return pad_packed_sequence(pack_padded_sequence(x, lengths, enforce_sorted=False),
                                       batch_first=True)[0]

        assert gradcheck(packed, (x,))
        assert gradgradcheck(packed, (x,))
        assert gradcheck(round_trip, (x,))


def test_packing_refuses_what_pytorch_refuses():
    x = retrograd.zeros(3, 2, 1)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(RuntimeError, match="has to be greater than 0"):
        pack_padded_sequence(x, [3, 0])
    packed = pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="total_length to be at least"):
        pad_packed_sequence(packed, total_length=2)


def test_sequences_round_trip():
    sequences = [retrograd.tensor([1.0, 2.0, 3.0]), retrograd.tensor([4.0, 5.0])]
    packed = pack_sequence(sequences)
    assert isinstance(packed, PackedSequence) and packed.data.tolist() == [1.0, 4.0, 2.0, 5.0, 3.0]
    assert [s.tolist() for s in unpack_sequence(packed)] == [[1.0, 2.0, 3.0], [4.0, 5.0]]
    padded = pad_sequence(sequences, batch_first=True, padding_value=9.0)
    assert padded.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]]
    assert [s.tolist() for s in unpad_sequence(padded, retrograd.tensor([3, 2]), batch_first=True)] == [
        [1.0, 2.0, 3.0], [4.0, 5.0]]
    left = pad_sequence(sequences, padding_side="left")
    assert left[:, 1].tolist() == [0.0, 4.0, 5.0]


@needs_torch
def test_printout_and_api_are_pytorchs():
    from torch.nn.utils import rnn as torch_rnn

    sequences = [[1.0, 2.0, 3.0], [4.0, 5.0]]
    ours = pack_sequence([retrograd.tensor(s) for s in sequences])
    theirs = torch_rnn.pack_sequence([torch.tensor(s) for s in sequences])
    assert repr(ours) == repr(theirs)
    assert PackedSequence._fields == torch_rnn.PackedSequence._fields
    padded, lengths = pad_packed_sequence(ours, batch_first=True, total_length=4)
    torch_padded, torch_lengths = torch_rnn.pad_packed_sequence(theirs, batch_first=True, total_length=4)
    assert padded.tolist() == torch_padded.tolist() and lengths.tolist() == torch_lengths.tolist()


def _pair(module_name, seed, **options):
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, module_name)(3, 5, **options).double()
    ours = getattr(retrograd.nn, module_name)(3, 5, **options).double()
    ours.load_state_dict({name: retrograd.tensor(value.detach().numpy())
                          for name, value in theirs.state_dict().items()})
    return ours, theirs


@needs_torch
@pytest.mark.parametrize("order", sorted(LENGTHS))
@pytest.mark.parametrize("module_name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True}],
                         ids=["plain", "two_layers_bidirectional", "batch_first"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "given_state"])
def test_recurrent_layers_on_packed_sequences_match_pytorch(module_name, order, options, with_state):
    from torch.nn.utils import rnn as torch_rnn

    rng = np.random.default_rng(1)
    ours, theirs = _pair(module_name, 0, **options)
    lengths = LENGTHS[order]
    padded = _padded(rng)
    if options.get("batch_first"):
        padded = padded.transpose(1, 0, 2).copy()
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    state = rng.standard_normal((layers, 4, 5))
    x, tx = retrograd.tensor(padded, requires_grad=True), torch.tensor(padded, requires_grad=True)
    hx, thx = retrograd.tensor(state, requires_grad=True), torch.tensor(state, requires_grad=True)
    batch_first = options.get("batch_first", False)
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    torch_packed = torch_rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=False)
    if with_state:
        initial = (hx, hx * 2) if module_name == "LSTM" else hx
        torch_initial = (thx, thx * 2) if module_name == "LSTM" else thx
        output, final = ours(packed, initial)
        torch_output, torch_final = theirs(torch_packed, torch_initial)
    else:
        output, final = ours(packed)
        torch_output, torch_final = theirs(torch_packed)
    assert isinstance(output, PackedSequence)
    assert output.batch_sizes.tolist() == torch_output.batch_sizes.tolist()
    np.testing.assert_allclose(output.data.detach().numpy(), torch_output.data.detach().numpy(), rtol=1e-10)
    finals = final if module_name == "LSTM" else (final,)
    torch_finals = torch_final if module_name == "LSTM" else (torch_final,)
    for state_ours, state_theirs in zip(finals, torch_finals):
        np.testing.assert_allclose(state_ours.detach().numpy(), state_theirs.detach().numpy(), rtol=1e-10)
    weights = rng.standard_normal(output.data.shape)
    loss = (output.data * retrograd.tensor(weights)).sum() + sum((s * s).sum() for s in finals)
    torch_loss = (torch_output.data * torch.tensor(weights)).sum() + sum((s * s).sum() for s in torch_finals)
    loss.backward()
    torch_loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if with_state:
        np.testing.assert_allclose(hx.grad.numpy(), thx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, parameter), torch_parameter in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(parameter.grad.numpy(), torch_parameter.grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)
