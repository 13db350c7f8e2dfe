"""nn modules that wrap one functional op, and Module's state-dict hooks and lookups,
compared with PyTorch (printout, output and input gradient)."""

import numpy as np
import pytest

import retrograd
from retrograd import nn

try:
    import torch
except ImportError:  # the comparisons skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

X3 = "(lib.arange(24.0).reshape(2, 3, 4) / 10 - 1)"
X4 = "(lib.arange(64.0).reshape(1, 4, 4, 4) / 30 - 1)"
X5 = "(lib.arange(54.0).reshape(1, 2, 3, 3, 3) / 20 - 1)"

# (module, inputs): evaluated with `lib` bound to retrograd and to torch.
CASES = [
    ("nn.Softshrink()", [X3]), ("nn.Hardshrink(0.3)", [X3]), ("nn.Tanhshrink()", [X3]),
    ("nn.GLU()", [X3]), ("nn.GLU(dim=1)", ["lib.arange(8.0).reshape(2, 4)"]),
    ("nn.RReLU()", [X3]), ("nn.RReLU(0.1, 0.3)", [X3]), ("nn.Softmax2d()", [X4]),
    ("nn.CosineSimilarity()", [X3, X3 + ".flip(0)"]), ("nn.PairwiseDistance()", [X3, X3 + ".flip(0)"]),
    ("nn.MaxPool1d(2)", [X3]), ("nn.MaxPool1d(3, 1, 1)", [X3]), ("nn.AvgPool1d(2)", [X3]),
    ("nn.AdaptiveAvgPool1d(3)", [X3]), ("nn.AdaptiveMaxPool1d(3)", [X3]),
    ("nn.AdaptiveMaxPool2d((2, 2))", [X4]), ("nn.LPPool1d(2, 2)", [X3 + ".abs() + 0.1"]),
    ("nn.LPPool2d(2, 2, stride=1)", [X4 + ".abs() + 0.1"]),
    ("nn.ZeroPad1d((1, 2))", [X3]), ("nn.ZeroPad2d(1)", [X4]), ("nn.ZeroPad3d(1)", [X5]),
    ("nn.ConstantPad1d(2, 3.5)", [X3]), ("nn.ConstantPad2d((1, 0, 1, 0), 0.5)", [X4]),
    ("nn.ConstantPad3d(1, 1.0)", [X5]), ("nn.ReflectionPad1d(1)", [X3]),
    ("nn.ReflectionPad2d((1, 1, 2, 0))", [X4]), ("nn.ReplicationPad1d(2)", [X3]),
    ("nn.ReplicationPad2d(1)", [X4]), ("nn.CircularPad1d(1)", [X3]), ("nn.CircularPad2d(1)", [X4]),
    ("nn.Upsample(scale_factor=2)", [X4]), ("nn.Upsample(size=(6, 6), mode='bilinear', align_corners=True)", [X4]),
    ("nn.UpsamplingNearest2d(scale_factor=2)", [X4]), ("nn.UpsamplingBilinear2d(scale_factor=2)", [X4]),
    ("nn.PixelShuffle(2)", [X4]), ("nn.PixelUnshuffle(2)", [X4]), ("nn.ChannelShuffle(2)", [X4]),
    ("nn.Unfold(kernel_size=2)", [X4]), ("nn.Fold(output_size=(4, 4), kernel_size=2)", ["lib.arange(36.0).reshape(1, 4, 9)"]),
    ("nn.InstanceNorm1d(3)", [X3]), ("nn.InstanceNorm2d(4, affine=True)", [X4]),
    ("nn.InstanceNorm3d(2, track_running_stats=True)", [X5]),
    ("nn.RMSNorm(4)", [X3]), ("nn.RMSNorm([3, 4], eps=1e-5, elementwise_affine=False)", [X3]),
    ("nn.MarginRankingLoss(margin=0.2)", [X3 + "[0, 0]", X3 + "[1, 0]", "lib.tensor([1.0, -1.0, 1.0, -1.0])"]),
    ("nn.HingeEmbeddingLoss()", [X3, "-lib.ones(2, 3, 4)"]), ("nn.SoftMarginLoss()", [X3, "-lib.ones(2, 3, 4)"]),
    ("nn.CosineEmbeddingLoss()", [X3 + "[0]", X3 + "[1]", "lib.tensor([1.0, -1.0, 1.0])"]),
    ("nn.TripletMarginLoss()", [X3 + "[0]", X3 + "[1]", X3 + "[0] * 0.5"]),
    ("nn.PoissonNLLLoss()", [X3, X3 + ".abs() * 2"]), ("nn.GaussianNLLLoss()", [X3, X3 + " * 2", "lib.ones(2, 3, 4)"]),
    ("nn.MultiLabelSoftMarginLoss()", [X3 + "[0]", "(" + X3 + "[0] > 0).float()"]),
    ("nn.Conv3d(2, 3, 2)", [X5]), ("nn.Conv3d(2, 4, (1, 2, 3), stride=2, padding=1, groups=2)", [X5]),
    ("nn.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1)", [X3]),
    ("nn.BatchNorm3d(2)", [X5]), ("nn.MaxPool3d(2)", [X5]), ("nn.AvgPool3d(2, stride=1)", [X5]),
    ("nn.AdaptiveAvgPool3d((1, 2, 2))", [X5]), ("nn.AdaptiveMaxPool3d(2)", [X5]),
    ("nn.LPPool3d(2, 2)", [X5 + ".abs() + 0.1"]), ("nn.LocalResponseNorm(2)", [X4]),
("nn.AlphaDropout()", [X3]), ("nn.FeatureAlphaDropout(0.2)", [X3]),
    ("nn.MultiMarginLoss()", [X3 + "[0]", "lib.tensor([0, 3, 1])"]),
    ("nn.MultiLabelMarginLoss()", [X3 + "[0]", "lib.tensor([[3, 0, -1, 1], [1, -1, 2, 0], [0, 1, 2, 3]])"]),
    ("nn.TripletMarginWithDistanceLoss(swap=True)", [X3 + "[0]", X3 + "[1]", X3 + "[0] * 0.5"]),
]


def _run(lib, module_text, input_texts):
    module = eval(module_text, {"nn": lib.nn})
    module.eval()
    module.double()
    with lib.no_grad():  # the same weights in both libraries
        for parameter in module.parameters():
            values = lib.linspace(-0.5, 0.5, parameter.numel(), dtype=lib.float64)
            parameter.copy_(values.reshape(parameter.shape))
    inputs = [eval(text, {"lib": lib}) for text in input_texts]
    inputs = [x.double() if x.dtype.is_floating_point else x for x in inputs]
    inputs[0].requires_grad_(True)
    output = module(*inputs)
    output = output[0] if isinstance(output, tuple) else output
    (output * output).sum().backward()
    return repr(module), output.detach().numpy(), inputs[0].grad.numpy()


@needs_torch
@pytest.mark.parametrize(("module_text", "input_texts"), CASES, ids=[case[0] for case in CASES])
def test_module_prints_computes_and_differentiates_as_pytorch(module_text, input_texts):
    ours = _run(retrograd, module_text, input_texts)
    theirs = _run(torch, module_text, input_texts)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-8, atol=1e-10)


def test_embedding_bag_module_reduces_each_bag():
    bag = nn.EmbeddingBag(5, 2, mode="sum", padding_idx=0)
    with retrograd.no_grad():
        bag.weight.copy_(retrograd.arange(10.0).reshape(5, 2))
    result = bag(retrograd.tensor([1, 0, 2, 4]), retrograd.tensor([0, 2]))
    assert result.tolist() == [[2.0, 3.0], [12.0, 14.0]]
    assert repr(bag) == "EmbeddingBag(5, 2, mode='sum', padding_idx=0)"


def test_instance_norm_with_affine_checks_the_channel_count():
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm2d(3, affine=True)(retrograd.ones(1, 4, 2, 2))


def test_padding_modules_print_their_padding():
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"


def test_state_dict_hooks_see_and_change_what_is_saved_and_loaded():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    seen = []
    model.register_state_dict_pre_hook(lambda module, prefix, keep_vars: seen.append(prefix))

    def drop_bias(module, state, prefix, metadata):
        del state[prefix + "bias"]

    model[0].register_state_dict_post_hook(drop_bias)
    keys = list(model.state_dict())
    assert seen == [""] and "0.bias" not in keys and "0.weight" in keys
    model.register_load_state_dict_post_hook(lambda module, incompatible: incompatible.missing_keys.clear())
    assert model.load_state_dict({}, strict=True).missing_keys == []
    loads = []
    model[1].register_load_state_dict_pre_hook(lambda module, state, prefix, *rest: loads.append(prefix))
    model.load_state_dict(model.state_dict(), strict=False)
    assert loads == ["1."]


def test_get_buffer_and_set_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    assert model.get_buffer("1.running_var").tolist() == [1.0, 1.0]
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        model.get_buffer("1.weight")
    model.set_submodule("0", nn.Identity())
    assert isinstance(model[0], nn.Identity)
    with pytest.raises(RuntimeError, match="Module.get_extra_state"):
        model.get_extra_state()


def test_deprecated_init_names_warn_and_initialise():
    weight = retrograd.empty(2, 3)
    with pytest.warns(FutureWarning, match=r"`nn.init.constant` is now deprecated in favor of `nn.init.constant_`"):
        nn.init.constant(weight, 0.5)
    assert weight.tolist() == [[0.5] * 3] * 2


def test_dirac_passes_the_input_through_a_convolution():
    conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = retrograd.arange(18.0).reshape(1, 2, 3, 3)
    assert conv(x).tolist() == x.tolist()


def test_stack_and_chain_datasets():
    from retrograd.utils.data import ChainDataset, IterableDataset, StackDataset, get_worker_info

    stacked = StackDataset(image=retrograd.arange(3), label=retrograd.arange(3) * 2)
    assert len(stacked) == 3 and stacked[1]["label"].item() == 2

    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chained = ChainDataset([Count(2), Count(3)])
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    assert get_worker_info() is None


@needs_torch
def test_transformer_matches_pytorch_with_the_same_weights():
    import warnings

    def build(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
            return [
                lib.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                                   dim_feedforward=16, dropout=0.0),
                lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8)),
                lib.nn.TransformerDecoderLayer(8, 2, 16, 0.0, norm_first=True, batch_first=True,
                                               activation="gelu"),
            ]

    theirs, ours = build(torch), build(retrograd)
    for reference, mine in zip(theirs, ours):
        assert repr(mine).replace("retrograd", "torch") == repr(reference)
        mine.load_state_dict({key: retrograd.tensor(value.detach().numpy())
                              for key, value in reference.state_dict().items()})
    rng = np.random.default_rng(0)
    src = rng.standard_normal((5, 3, 8)).astype(np.float32)
    tgt = rng.standard_normal((4, 3, 8)).astype(np.float32)
    padding = [[False] * 5, [False] * 4 + [True], [False] * 5]
    results = []
    for lib, models in ((torch, theirs), (retrograd, ours)):
        mask = lib.nn.Transformer.generate_square_subsequent_mask(4)
        results.append([
            models[0](lib.tensor(src), lib.tensor(tgt), tgt_mask=mask),
            models[1](lib.tensor(src), src_key_padding_mask=lib.tensor(padding)),
            models[2](lib.tensor(tgt).transpose(0, 1), lib.tensor(src).transpose(0, 1)),
        ])
    for reference, mine in zip(*results):
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), atol=2e-6)
    assert retrograd.nn.Transformer.generate_square_subsequent_mask(2).tolist() == [[0.0, float("-inf")],
                                                                                   [0.0, 0.0]]
