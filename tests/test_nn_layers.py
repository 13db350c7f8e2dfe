"""Layers: forward values and gradients equal PyTorch's from the same weights, default
initialisation has PyTorch's shapes and bounds, and reprs read as PyTorch's."""

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn


def _copy_weights(ours, theirs):
    """Give the PyTorch module our parameters and buffers (by state_dict name)."""
    state = {key: torch.tensor(value.detach().numpy().copy()) for key, value in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _check(ours, theirs, *inputs, rtol=1e-5, atol=1e-5, grad_inputs=True, pick=lambda out: out):
    """Same forward value and same gradients (inputs and parameters) in retrograd and PyTorch."""
    _copy_weights(ours, theirs)
    our_inputs = [
        retrograd.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f") for x in inputs
    ]
    their_inputs = [torch.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f") for x in inputs]
    our_out = pick(ours(*our_inputs))
    their_out = pick(theirs(*their_inputs))
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), rtol=rtol, atol=atol)
    weights = np.random.default_rng(7).standard_normal(tuple(their_out.shape)).astype(np.float32)
    (our_out * retrograd.tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()
    for ours_x, theirs_x in zip(our_inputs, their_inputs):
        if theirs_x.grad is not None:
            np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=rtol, atol=atol)
    their_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        other = their_parameters[name]
        if other.grad is None:
            assert parameter.grad is None or not parameter.grad.numpy().any()
            continue
        np.testing.assert_allclose(parameter.grad.numpy(), other.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@needs_torch
@pytest.mark.parametrize(
    ("name", "args", "kwargs", "input_shape"),
    [
        ("Linear", (4, 3), {}, (5, 4)),
        ("Linear", (4, 3), {"bias": False}, (2, 5, 4)),
        ("Conv1d", (2, 3, 3), {"stride": 2, "padding": 1}, (2, 2, 9)),
        ("Conv2d", (2, 4, 3), {"padding": 1}, (2, 2, 6, 6)),
        ("Conv2d", (4, 4, (3, 2)), {"stride": (2, 1), "dilation": 2, "groups": 2, "bias": False}, (1, 4, 8, 7)),
        ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, (1, 2, 5, 5)),
        ("ConvTranspose2d", (3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 4, 4)),
        ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
        ("MaxPool2d", (3,), {"stride": 2, "padding": 1}, (1, 2, 7, 7)),
        ("AvgPool2d", (2,), {}, (2, 3, 6, 6)),
        ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 7, 8)),
        ("LayerNorm", (5,), {}, (3, 4, 5)),
        ("LayerNorm", ((4, 5),), {"elementwise_affine": False}, (3, 4, 5)),
        ("GroupNorm", (2, 4), {}, (3, 4, 5)),
        ("BatchNorm1d", (4,), {}, (6, 4)),
        ("BatchNorm1d", (4,), {"affine": False}, (6, 4, 3)),
        ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
        ("Flatten", (), {}, (2, 3, 4)),
        ("Softmax", (), {"dim": 1}, (3, 4)),
        ("LogSoftmax", (), {"dim": -1}, (3, 4)),
        ("ReLU", (), {}, (3, 4)),
        ("GELU", (), {"approximate": "tanh"}, (3, 4)),
        ("SiLU", (), {}, (3, 4)),
        ("Tanh", (), {}, (3, 4)),
        ("Sigmoid", (), {}, (3, 4)),
        ("LeakyReLU", (0.2,), {}, (3, 4)),
        ("ELU", (), {"alpha": 0.5}, (3, 4)),
        ("Softplus", (), {"beta": 2.0}, (3, 4)),
        ("Hardtanh", (-0.5, 0.5), {}, (3, 4)),
        ("Mish", (), {}, (3, 4)),
        ("PReLU", (), {}, (3, 4)),
        ("PReLU", (3,), {"init": 0.1}, (2, 3, 4)),
        ("Threshold", (0.1, 20.0), {}, (3, 4)),
    ],
)
def test_layer_matches_pytorch(name, args, kwargs, input_shape):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    _check(ours, theirs, _randn(*input_shape))
    assert repr(ours) == repr(theirs)


@needs_torch
def test_batch_norm_running_statistics_and_eval_mode():
    ours, theirs = nn.BatchNorm2d(3, momentum=0.3), torch.nn.BatchNorm2d(3, momentum=0.3)
    for seed in range(3):
        _check(ours, theirs, _randn(4, 3, 2, 2, seed=seed))
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, key).numpy(), getattr(theirs, key).numpy(), rtol=1e-5)
    assert ours.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    _check(ours, theirs, _randn(2, 3, 2, 2, seed=9))


@needs_torch
def test_batch_norm_cumulative_average_when_momentum_is_none():
    ours = nn.BatchNorm1d(2, momentum=None)
    theirs = torch.nn.BatchNorm1d(2, momentum=None)
    for seed in range(3):
        _check(ours, theirs, _randn(5, 2, seed=seed))
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)


def test_batch_norm_input_checks():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(retrograd.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(retrograd.zeros(2, 3, 4))


@needs_torch
def test_bilinear_matches_pytorch():
    ours, theirs = nn.Bilinear(3, 4, 2), torch.nn.Bilinear(3, 4, 2)
    _check(ours, theirs, _randn(5, 3), _randn(5, 4, seed=1))
    assert repr(ours) == repr(theirs)


@needs_torch
def test_embedding_with_padding_idx():
    ours, theirs = nn.Embedding(6, 3, padding_idx=-1), torch.nn.Embedding(6, 3, padding_idx=-1)
    assert ours.padding_idx == 5 and ours.weight[5].tolist() == [0.0, 0.0, 0.0]
    indices = np.array([[0, 5, 2], [2, 2, 1]])
    _check(ours, theirs, indices)
    assert ours.weight.grad[5].tolist() == [0.0, 0.0, 0.0]
    assert repr(ours) == repr(theirs)
    frozen = nn.Embedding.from_pretrained(retrograd.ones(2, 3))
    assert not frozen.weight.requires_grad


def test_dropout_trains_and_evaluates():
    layer = nn.Dropout(0.5)
    retrograd.manual_seed(0)
    out = layer(retrograd.ones(1000))
    kept = out.numpy()[out.numpy() != 0]
    assert set(np.unique(kept)) == {2.0} and 400 < kept.size < 600
    layer.eval()
    assert layer(retrograd.ones(3)).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


@needs_torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "options",
    [{}, {"batch_first": True}, {"num_layers": 2}, {"bidirectional": True},
     {"num_layers": 2, "bidirectional": True, "batch_first": True}, {"bias": False}],
)
def test_recurrent_layer_matches_pytorch(name, options):
    ours = getattr(nn, name)(3, 4, **options)
    theirs = getattr(torch.nn, name)(3, 4, **options)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _check(ours, theirs, _randn(5, 2, 3), pick=lambda result: result[0])
    hidden = (lambda result: result[1][0]) if name == "LSTM" else (lambda result: result[1])
    _check(ours, theirs, _randn(5, 2, 3, seed=3), pick=hidden)
    assert repr(ours) == repr(theirs)


@needs_torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_layer_with_initial_state_and_unbatched_input(name):
    ours, theirs = getattr(nn, name)(3, 4, num_layers=2), getattr(torch.nn, name)(3, 4, num_layers=2)
    h0 = _randn(2, 4, seed=5)
    state = (h0, _randn(2, 4, seed=6)) if name == "LSTM" else h0

    def run(module, framework):
        def call(x):
            initial = tuple(framework.tensor(s) for s in state) if name == "LSTM" else framework.tensor(state)
            return module(x, initial)[0]
        return call

    _copy_weights(ours, theirs)
    x = _randn(5, 3)
    np.testing.assert_allclose(
        run(ours, retrograd)(retrograd.tensor(x)).detach().numpy(),
        run(theirs, torch)(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6,
    )


def test_recurrent_input_checks():
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        nn.LSTM(2, 3)(retrograd.zeros(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 2, got 4"):
        nn.LSTM(2, 3)(retrograd.zeros(2, 3, 4))


@pytest.mark.parametrize(
    ("build", "state", "words"),
    [
        (lambda: nn.LSTM(2, 4), lambda: (retrograd.zeros(1, 3, 4), retrograd.zeros(2, 3, 4)),
         "Expected hidden[1] size (1, 3, 4), got [2, 3, 4]"),
        (lambda: nn.GRU(2, 4), lambda: retrograd.zeros(2, 3, 4), "Expected hidden size (1, 3, 4), got [2, 3, 4]"),
    ],
)
def test_recurrent_initial_state_checks(build, state, words):
    with pytest.raises(RuntimeError) as caught:
        build()(retrograd.zeros(5, 3, 2), state())
    assert str(caught.value) == words
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D"):
        nn.GRU(2, 4)(retrograd.zeros(5, 2), retrograd.zeros(1, 3, 4))


@needs_torch
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_pytorch(name):
    ours, theirs = getattr(nn, name)(3, 4), getattr(torch.nn, name)(3, 4)
    pick = (lambda result: result[0]) if name == "LSTMCell" else (lambda result: result)
    _check(ours, theirs, _randn(2, 3), pick=pick)


def _graph(tensor) -> list:
    """The graph behind `tensor`, depth first: (depth, grad_fn name, names of its next functions)."""
    rows, stack = [], [(tensor.grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        nexts = [edge[0] for edge in node.next_functions]
        rows.append((depth, type(node).__name__, [None if n is None else type(n).__name__ for n in nexts]))
        stack.extend((n, depth + 1) for n in reversed(nexts) if n is not None)
    return rows


def _cell_graphs(framework, name: str, batch: tuple, options: dict) -> list:
    framework.manual_seed(0)
    cell = getattr(framework.nn, name)(3, 4, **options)
    x = framework.zeros(*batch, 3, requires_grad=True)
    state = framework.zeros(*batch, 4, requires_grad=True)
    result = cell(x, (state, framework.zeros(*batch, 4)) if name == "LSTMCell" else state)
    return [_graph(part) for part in (result if name == "LSTMCell" else (result,))]


@needs_torch
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batch", [(2,), ()], ids=["batched", "unbatched"])
@pytest.mark.parametrize("options", [{}, {"bias": False}], ids=["bias", "no-bias"])
def test_cells_record_pytorchs_graph(name, batch, options):
    """Node names and the order of every node's next_functions (W_hh h + b_hh first, then the
    input's part, as PyTorch's cells add them; a 1-D input unsqueezed and squeezed back)."""
    assert _cell_graphs(retrograd, name, batch, options) == _cell_graphs(torch, name, batch, options)


def test_lstm_cell_adds_record_no_keyword_parameters():
    """The cell's AddBackward0 nodes are recorded without alpha (its default 1, shown as
    PyTorch shows it): no parameters to keep, and the adds run their array kernel."""
    cell = retrograd.nn.LSTMCell(3, 4)
    hidden, state = cell(retrograd.zeros(2, 3), (retrograd.zeros(2, 4), retrograd.zeros(2, 4)))
    seen, pending = {}, [state.grad_fn]
    while pending:
        node = pending.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            pending += [edge for edge, _ in node.next_functions if edge is not None]
    adds = [node for node in seen.values() if type(node).__name__ == "AddBackward0"]
    assert len(adds) == 2
    assert all(node._params == {} and node._saved_alpha == 1 for node in adds)


def _cell_in_modes(framework, name: str) -> list:
    """A cell's first output in grad mode, under no_grad, under forward AD (its tangent) and
    under vmap over 1-D inputs (PyTorch: row by row), as lists, with whether the no_grad output
    records no node."""
    framework.manual_seed(0)
    cell = getattr(framework.nn, name)(3, 4)
    x, tangent = framework.randn(2, 3), framework.randn(2, 3)
    state = framework.randn(2, 4)
    states = (state, framework.randn(2, 4)) if name == "LSTMCell" else state

    def first(result):
        return result[0] if name == "LSTMCell" else result

    recorded = first(cell(x, states))
    with framework.no_grad():
        unrecorded = first(cell(x, states))
    with framework.autograd.forward_ad.dual_level():
        dual = first(cell(framework.autograd.forward_ad.make_dual(x, tangent), states))
        pushed = framework.autograd.forward_ad.unpack_dual(dual).tangent
    single = (states[0][0], states[1][0]) if name == "LSTMCell" else states[0]
    if framework is retrograd:
        mapped = framework.func.vmap(lambda row: first(cell(row, single)))(x)
    else:  # (PyTorch's vmap has no rule for its lstm_cell: row by row instead)
        mapped = framework.stack([first(cell(row, single)) for row in x])
    return [recorded.detach().tolist(), unrecorded.tolist(), unrecorded.grad_fn is None,
            pushed.tolist(), mapped.detach().tolist()]


@needs_torch
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell"])
def test_cells_run_their_ops_as_apply_does_in_every_mode(name):
    """A cell's step calls its ops' records only where apply would (Note [A recurrent step runs
    its records]): under no_grad it records nothing, under forward AD its outputs carry
    tangents, under vmap each row is a step of its own, all as PyTorch's."""
    ours, theirs = _cell_in_modes(retrograd, name), _cell_in_modes(torch, name)
    assert ours[2] is theirs[2] is True
    for mine, expected in zip(ours[:2] + ours[3:], theirs[:2] + theirs[3:]):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)


@needs_torch
def test_relu_cell_records_pytorchs_graph():
    graphs = [_graph(framework.nn.RNNCell(3, 4, nonlinearity="relu")(framework.zeros(2, 3), framework.zeros(
        2, 4, requires_grad=True))) for framework in (retrograd, torch)]
    assert graphs[0] == graphs[1]


_BAD_CELL_CALLS = [
    ("LSTMCell", (2, 3, 3), None),
    ("LSTMCell", (2, 5), None),
    ("LSTMCell", (2, 3), ((2, 4), (3, 4))),
    ("LSTMCell", (2, 3), ((2, 4), (2, 5))),
    ("LSTMCell", (2, 3), ((2, 4, 1), (2, 4))),
    ("LSTMCell", (2, 3), ((2, 4), (2, 4), (2, 4))),
    ("RNNCell", (2, 3), (2, 4, 1)),
    ("RNNCell", (3,), (2, 4)),
    ("GRUCell", (2, 3), (3, 4)),
    ("GRUCell", (2, 3), (4,)),
    ("GRUCell", (2,), None),
]


@needs_torch
@pytest.mark.parametrize(("name", "input_shape", "state_shape"), _BAD_CELL_CALLS)
def test_cells_refuse_bad_sizes_as_pytorch(name, input_shape, state_shape):
    def call(framework):
        cell = getattr(framework.nn, name)(3, 4)
        state = state_shape
        if state is not None:
            state = (tuple(framework.zeros(*shape) for shape in state) if isinstance(state[0], tuple)
                     else framework.zeros(*state))
        with pytest.raises((ValueError, RuntimeError)) as caught:
            cell(framework.zeros(*input_shape), state)
        return type(caught.value), str(caught.value)

    assert call(retrograd) == call(torch)


class _Doubled(nn.Module):
    def forward(self, weight):
        return weight * 2


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_read_parametrized_weights(name):
    """A parametrized weight is not in the cell's parameter registry: the step reads it as
    the attribute it is (the cell computes with the doubled weights)."""
    from retrograd.nn.utils import parametrize

    retrograd.manual_seed(0)
    cell, reference = getattr(nn, name)(3, 4), getattr(nn, name)(3, 4)
    reference.load_state_dict(cell.state_dict())
    with retrograd.no_grad():
        reference.weight_ih.mul_(2)
        reference.weight_hh.mul_(2)
    parametrize.register_parametrization(cell, "weight_ih", _Doubled())
    parametrize.register_parametrization(cell, "weight_hh", _Doubled())
    x, hidden = retrograd.tensor(_randn(2, 3)), retrograd.tensor(_randn(2, 4, seed=1))
    state = (hidden, hidden * 0.5) if name == "LSTMCell" else hidden
    ours, expected = cell(x, state), reference(x, state)
    pairs = zip(ours, expected) if name == "LSTMCell" else [(ours, expected)]
    for got, want in pairs:
        assert np.array_equal(got.detach().numpy(), want.detach().numpy())


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_refuse_an_input_of_another_dtype(name):
    cell = getattr(nn, name)(3, 4).double()
    with pytest.raises(RuntimeError, match="same dtype"):
        cell(retrograd.zeros(2, 3))


def test_rnn_cell_refuses_an_unknown_nonlinearity_when_called():
    cell = nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):
        cell(retrograd.zeros(3))


@needs_torch
def test_rnn_cell_base_is_pytorchs():
    ours, theirs = nn.RNNCellBase(3, 4, False, 2), torch.nn.RNNCellBase(3, 4, False, 2)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert repr(ours) == repr(theirs) == "RNNCellBase(3, 4, bias=False)"
    assert all(isinstance(getattr(nn, name)(3, 4), nn.RNNCellBase) for name in ("RNNCell", "LSTMCell", "GRUCell"))
    relu = (nn.RNNCell(3, 4, nonlinearity="relu"), torch.nn.RNNCell(3, 4, nonlinearity="relu"))
    assert repr(relu[0]) == repr(relu[1]) == "RNNCell(3, 4, nonlinearity=relu)"
    bound = 1 / math.sqrt(4)
    ours.weight_ih.data.fill_(5.0)
    ours.reset_parameters()
    assert all(float(p.abs().max()) <= bound for p in ours.parameters())


@needs_torch
@pytest.mark.parametrize(
    "options",
    [{}, {"batch_first": True}, {"bias": False}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True},
     {"add_zero_attn": True}],
)
def test_multihead_attention_matches_pytorch(options):
    ours = nn.MultiheadAttention(4, 2, **options)
    theirs = torch.nn.MultiheadAttention(4, 2, **options)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    kdim, vdim = options.get("kdim", 4), options.get("vdim", 4)
    q, k, v = _randn(3, 2, 4), _randn(5, 2, kdim, seed=1), _randn(5, 2, vdim, seed=2)
    if options.get("batch_first"):
        q, k, v = (np.ascontiguousarray(x.transpose(1, 0, 2)) for x in (q, k, v))
    _check(ours, theirs, q, k, v, pick=lambda result: result[0])
    _check(ours, theirs, q, k, v, pick=lambda result: result[1])
    assert repr(ours) == repr(theirs)


@needs_torch
def test_multihead_attention_masks_and_per_head_weights():
    ours, theirs = nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)
    _copy_weights(ours, theirs)
    q = _randn(3, 2, 4)
    attn_mask = np.triu(np.ones((3, 3), bool), 1)
    padding = np.array([[False, False, True], [False, False, False]])
    our_out, our_weights = ours(*(retrograd.tensor(q),) * 3, key_padding_mask=retrograd.tensor(padding),
                                attn_mask=retrograd.tensor(attn_mask), average_attn_weights=False)
    their_out, their_weights = theirs(*(torch.tensor(q),) * 3, key_padding_mask=torch.tensor(padding),
                                      attn_mask=torch.tensor(attn_mask), average_attn_weights=False)
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(our_weights.detach().numpy(), their_weights.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    our_causal, _ = ours(*(retrograd.tensor(q),) * 3, is_causal=True, attn_mask=None, need_weights=False)
    their_causal, _ = theirs(*(torch.tensor(q),) * 3, need_weights=False,
                             attn_mask=torch.nn.Transformer.generate_square_subsequent_mask(3))
    np.testing.assert_allclose(our_causal.detach().numpy(), their_causal.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


@needs_torch
def test_multihead_attention_unbatched():
    ours, theirs = nn.MultiheadAttention(4, 1), torch.nn.MultiheadAttention(4, 1)
    _check(ours, theirs, _randn(3, 4), _randn(3, 4, seed=1), _randn(3, 4, seed=2), pick=lambda r: r[0])


@needs_torch
@pytest.mark.parametrize(
    ("name", "kwargs", "target"),
    [
        ("MSELoss", {}, "float"),
        ("MSELoss", {"reduction": "sum"}, "float"),
        ("L1Loss", {"reduction": "none"}, "float"),
        ("SmoothL1Loss", {"beta": 0.5}, "float"),
        ("HuberLoss", {"delta": 0.5}, "float"),
        ("CrossEntropyLoss", {}, "class"),
        ("CrossEntropyLoss", {"label_smoothing": 0.1, "reduction": "sum"}, "class"),
        ("NLLLoss", {"ignore_index": 1}, "class"),
        ("BCELoss", {}, "probability"),
        ("BCEWithLogitsLoss", {}, "probability"),
        ("KLDivLoss", {"reduction": "batchmean"}, "probability"),
    ],
)
def test_loss_modules_match_pytorch(name, kwargs, target):
    x = _randn(4, 3)
    if name == "BCELoss":
        x = 1 / (1 + np.exp(-x))
    if name in ("NLLLoss", "KLDivLoss"):
        x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    targets = {
        "float": _randn(4, 3, seed=1),
        "class": np.array([0, 2, 1, 1]),
        "probability": np.random.default_rng(2).uniform(size=(4, 3)).astype(np.float32),
    }[target]
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    our_input = retrograd.tensor(x, requires_grad=True)
    their_input = torch.tensor(x, requires_grad=True)
    our_loss = ours(our_input, retrograd.tensor(targets))
    their_loss = theirs(their_input, torch.tensor(targets))
    np.testing.assert_allclose(our_loss.detach().numpy(), their_loss.detach().numpy(), rtol=1e-5, atol=1e-6)
    our_loss.sum().backward()
    their_loss.sum().backward()
    np.testing.assert_allclose(our_input.grad.numpy(), their_input.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert repr(ours) == repr(theirs)


@needs_torch
def test_weighted_cross_entropy_keeps_its_weight_as_a_buffer():
    loss = nn.CrossEntropyLoss(weight=retrograd.tensor([1.0, 2.0, 3.0]))
    assert list(loss.state_dict()) == ["weight"]
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0]))
    x, target = _randn(4, 3), np.array([0, 2, 1, 1])
    ours_value = loss(retrograd.tensor(x), retrograd.tensor(target)).item()
    assert ours_value == pytest.approx(theirs(torch.tensor(x), torch.tensor(target)).item(), rel=1e-6)


def test_legacy_reduction_arguments_warn_and_map():
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"


@pytest.mark.parametrize(
    ("make", "weight_bound", "bias_bound"),
    [
        (lambda: nn.Linear(50, 20), 1 / math.sqrt(50), 1 / math.sqrt(50)),
        (lambda: nn.Conv2d(6, 8, 3, groups=2), 1 / math.sqrt(27), 1 / math.sqrt(27)),
        (lambda: nn.ConvTranspose2d(6, 8, 3), 1 / math.sqrt(72), 1 / math.sqrt(72)),
        (lambda: nn.Bilinear(10, 5, 3), 1 / math.sqrt(10), 1 / math.sqrt(10)),
        (lambda: nn.LSTM(5, 16), 1 / 4, 1 / 4),
    ],
)
def test_default_initialisation_bounds(make, weight_bound, bias_bound):
    retrograd.manual_seed(0)
    module = make()
    for name, parameter in module.named_parameters():
        bound = bias_bound if "bias" in name else weight_bound
        values = np.abs(parameter.detach().numpy())
        assert values.max() <= bound, name
        if values.size > 50:
            assert values.max() > 0.9 * bound, name


def test_default_initialisation_of_norms_embeddings_and_attention():
    norm = nn.BatchNorm1d(3)
    assert norm.weight.tolist() == [1.0] * 3 and norm.bias.tolist() == [0.0] * 3
    assert norm.running_var.tolist() == [1.0] * 3 and norm.num_batches_tracked.dtype == retrograd.int64
    assert list(norm.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    embedding = nn.Embedding(1000, 20)
    assert abs(embedding.weight.detach().numpy().std() - 1.0) < 0.05
    attention = nn.MultiheadAttention(8, 2)
    assert not attention.in_proj_bias.detach().numpy().any()
    assert np.abs(attention.in_proj_weight.detach().numpy()).max() <= math.sqrt(6 / (24 + 8))


def test_layers_in_double_precision_pass_gradcheck():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(8, 3), nn.LayerNorm(3)).double()
    x = retrograd.randn(2, 1, 4, 4, dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(lambda x: model(x), (x,))


@needs_torch
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_check_the_state_dtype_as_pytorch(name):
    """The hidden state meets W_hh in a linear map, which refuses another dtype; LSTM's cell
    state only meets products, which promote."""
    def outcome(framework, state_dtypes):
        cell = getattr(framework.nn, name)(3, 4).double()
        states = tuple(framework.zeros(2, 4, dtype=getattr(framework, dtype)) for dtype in state_dtypes)
        try:
            result = cell(framework.zeros(2, 3, dtype=framework.float64), states if name == "LSTMCell" else states[0])
        except RuntimeError as error:
            return str(error)
        return str((result[1] if name == "LSTMCell" else result).dtype).split(".")[-1]

    cases = [("float32", "float64"), ("float64", "float32"), ("float64", "float64")]
    for state_dtypes in cases if name == "LSTMCell" else [("float32",), ("float64",)]:
        assert outcome(retrograd, state_dtypes) == outcome(torch, state_dtypes)


@needs_torch
def test_linear_refuses_mixed_dtypes_as_pytorch():
    """With a bias, addmm's checks and words (the bias against the weight first); without, mm's."""
    def message(framework, input_dtype, weight_dtype, bias_dtype):
        bias = None if bias_dtype is None else framework.zeros(4, dtype=getattr(framework, bias_dtype))
        with pytest.raises(RuntimeError) as caught:
            framework.nn.functional.linear(framework.zeros(2, 3, dtype=getattr(framework, input_dtype)),
                                           framework.zeros(4, 3, dtype=getattr(framework, weight_dtype)), bias)
        return str(caught.value)

    for dtypes in [("float64", "float64", "float32"), ("float64", "float32", "float32"),
                   ("float32", "float64", "float32"), ("float32", "float64", None)]:
        assert message(retrograd, *dtypes) == message(torch, *dtypes)
