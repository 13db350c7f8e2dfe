"""nn.functional additions compared with PyTorch: value and gradient of every input."""

import warnings

import numpy as np
import pytest

import retrograd

try:
    import torch
except ImportError:  # the comparisons skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# (name, arguments as source text with `lib`, keyword arguments); float64 inputs from a fixed rng.
R = "lib.tensor(np.random.default_rng({seed}).uniform(-1, 1, {shape}))"


def _pooled(kind: str, seed: int, shape: tuple, part: int) -> str:
    return f"lib.nn.functional.{kind}({R.format(seed=seed, shape=shape)}, 2, return_indices=True)[{part}]"


CASES = [
    ("avg_pool3d", [R.format(seed=0, shape=(1, 2, 4, 5, 5)), "2"], {}),
    ("avg_pool3d", [R.format(seed=1, shape=(2, 5, 4, 5)), "(3, 2, 2)"],
     {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ("avg_pool3d", [R.format(seed=2, shape=(1, 1, 3, 3, 3)), "2"], {"stride": 1, "divisor_override": 3}),
    ("max_pool3d", [R.format(seed=3, shape=(1, 2, 4, 5, 5)), "2"], {}),
    ("max_pool3d", [R.format(seed=4, shape=(1, 1, 5, 5, 6)), "3"], {"stride": 2, "padding": 1}),
    ("adaptive_avg_pool3d", [R.format(seed=5, shape=(1, 2, 5, 4, 7)), "(2, 3, 3)"], {}),
    ("adaptive_max_pool3d", [R.format(seed=6, shape=(1, 2, 5, 4, 7)), "(2, 3, 3)"], {}),
    ("lp_pool3d", [R.format(seed=7, shape=(1, 1, 4, 4, 4)) + ".abs() + 0.1", "2.0", "2"], {}),
    ("conv3d", [R.format(seed=8, shape=(1, 2, 4, 5, 5)), R.format(seed=9, shape=(3, 2, 2, 3, 2)),
                R.format(seed=10, shape=(3,))], {}),
    ("conv3d", [R.format(seed=11, shape=(2, 4, 5, 5)), R.format(seed=12, shape=(2, 1, 3, 3, 3))],
     {"stride": (2, 1, 2), "padding": 1, "groups": 2}),
    ("local_response_norm", [R.format(seed=13, shape=(2, 5, 3)), "3"], {}),
    ("local_response_norm", [R.format(seed=14, shape=(1, 4, 3, 3)), "2"], {"alpha": 0.1, "beta": 0.5, "k": 2.0}),
    ("pdist", [R.format(seed=15, shape=(4, 3))], {}),
    ("pdist", [R.format(seed=16, shape=(3, 2))], {"p": 1.0}),
    ("multi_margin_loss", [R.format(seed=17, shape=(3, 4)), "lib.tensor([0, 3, 1])"], {}),
    ("multi_margin_loss", [R.format(seed=18, shape=(3, 4)), "lib.tensor([2, 0, 1])"],
     {"p": 2, "margin": 0.5, "reduction": "none"}),
    ("multilabel_margin_loss", [R.format(seed=19, shape=(2, 4)), "lib.tensor([[3, 0, -1, 1], [1, -1, 2, 0]])"], {}),
    ("triplet_margin_with_distance_loss", [R.format(seed=20, shape=(3, 4)), R.format(seed=21, shape=(3, 4)),
                                           R.format(seed=22, shape=(3, 4))], {"swap": True}),
    ("embedding_bag", ["lib.tensor([1, 2, 4, 5, 4, 3, 2, 0])", R.format(seed=23, shape=(6, 3)),
                       "lib.tensor([0, 4])"], {}),
    ("embedding_bag", ["lib.tensor([[1, 2], [4, 0]])", R.format(seed=24, shape=(6, 3))],
     {"mode": "sum", "padding_idx": 0}),
    ("embedding_bag", ["lib.tensor([1, 2, 4, 5])", R.format(seed=25, shape=(6, 3)), "lib.tensor([0, 1, 1])"],
     {"mode": "max"}),
    ("embedding_bag", ["lib.tensor([1, 2, 4, 5])", R.format(seed=26, shape=(6, 3)), "lib.tensor([0, 3, 4])"],
     {"mode": "sum", "include_last_offset": True, "per_sample_weights": R.format(seed=27, shape=(4,))}),
    ("affine_grid", [R.format(seed=28, shape=(2, 2, 3)), "(2, 1, 3, 4)"], {"align_corners": False}),
    ("affine_grid", [R.format(seed=29, shape=(1, 3, 4)), "(1, 1, 2, 3, 2)"], {"align_corners": True}),
    ("grid_sample", [R.format(seed=30, shape=(2, 3, 4, 5)), R.format(seed=31, shape=(2, 3, 2, 2)) + " * 1.2"],
     {"align_corners": False}),
    ("grid_sample", [R.format(seed=32, shape=(1, 2, 4, 4)), R.format(seed=33, shape=(1, 3, 3, 2)) + " * 1.3"],
     {"align_corners": True, "padding_mode": "border"}),
    ("grid_sample", [R.format(seed=34, shape=(1, 2, 4, 4)), R.format(seed=35, shape=(1, 3, 3, 2)) + " * 0.9"],
     {"align_corners": False, "mode": "nearest"}),
    ("max_unpool2d", [_pooled("max_pool2d", 36, (1, 2, 4, 4), 0), _pooled("max_pool2d", 36, (1, 2, 4, 4), 1),
                      "2"], {}),
    ("max_unpool1d", [_pooled("max_pool1d", 37, (1, 2, 6), 0), _pooled("max_pool1d", 37, (1, 2, 6), 1), "2"],
     {"output_size": [7]}),
    ("adaptive_max_pool2d_with_indices", [R.format(seed=38, shape=(1, 2, 5, 4)), "2"], {}),
    ("linear_cross_entropy", [R.format(seed=39, shape=(4, 3)), R.format(seed=40, shape=(5, 3)),
                              "lib.tensor([0, 4, 2, 1])"], {}),
]


def _evaluate(lib, name, argument_texts, kwargs):
    namespace = {"lib": lib, "np": np}
    arguments = [eval(text, namespace) for text in argument_texts]
    kwargs = {key: eval(value, namespace) if isinstance(value, str) and "lib." in value else value
              for key, value in kwargs.items()}
    leaves = [a for a in [*arguments, *kwargs.values()]
              if isinstance(a, lib.Tensor) and a.dtype == lib.float64]
    for leaf in leaves:
        if leaf.is_leaf:
            leaf.requires_grad_(True)
        else:
            leaf.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = getattr(lib.nn.functional, name)(*arguments, **kwargs)
    outputs = result if isinstance(result, tuple) else (result,)
    total = sum((o * lib.tensor(np.linspace(-1, 1, o.numel()).reshape(o.shape))).sum()
                for o in outputs if o.dtype == lib.float64)
    total.backward()
    grads = [leaf.grad.numpy() if leaf.grad is not None else None for leaf in leaves]
    return [o.detach().numpy() for o in outputs], grads


@needs_torch
@pytest.mark.parametrize(("name", "arguments", "kwargs"), CASES,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)])
def test_matches_pytorch(name, arguments, kwargs):
    ours = _evaluate(retrograd, name, arguments, kwargs)
    theirs = _evaluate(torch, name, arguments, kwargs)
    for mine, reference in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-12)
    for mine, reference in zip(ours[1], theirs[1]):
        if reference is None or mine is None:
            assert not (mine if mine is not None else reference).any()
        else:
            np.testing.assert_allclose(mine, reference, rtol=1e-8, atol=1e-10)


def test_alpha_dropout_keeps_mean_and_variance_and_is_identity_in_eval():
    F = retrograd.nn.functional
    x = retrograd.randn(200_000, dtype=retrograd.float64)
    assert F.alpha_dropout(x, 0.3, training=False) is x
    y = F.alpha_dropout(x, 0.3, training=True)
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02
    channels = F.feature_alpha_dropout(retrograd.ones(4, 50, 3, dtype=retrograd.float64), 0.5, training=True)
    assert (channels.std(dim=2) < 1e-12).all()


def test_gumbel_softmax_is_a_distribution_and_hard_is_one_hot():
    F = retrograd.nn.functional
    logits = retrograd.tensor([[1.0, 2.0, 0.5]], requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    assert soft.sum().item() == pytest.approx(1.0)
    hard = F.gumbel_softmax(logits, hard=True)
    assert sorted(hard.detach().tolist()[0]) == [0.0, 0.0, 1.0]
    (hard * retrograd.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None


def test_3d_pooling_without_indices_says_so():
    with pytest.raises(NotImplementedError, match="indices"):
        retrograd.nn.functional.max_pool3d(retrograd.ones(1, 1, 2, 2, 2), 2, return_indices=True)


def _torch_level_forms(library):
    x = library.tensor([[1.0, -2.0, 3.0, -4.0], [0.5, -1.5, 2.5, -3.5], [1.0, 2.0, 3.0, 4.0]],
                       dtype=library.float64, requires_grad=True)
    distances = library.pdist(x)
    leaky = library.rrelu(x)
    values, indices = library.max_pool1d_with_indices(x.unsqueeze(0), 3, 1, 1)
    (distances.sum() + leaky.sum() + values.sum()).backward()
    return [distances.tolist(), library.pdist(x, 1).tolist(), leaky.tolist(), values.tolist(),
            indices.tolist(), x.grad.tolist()]


def test_torch_level_forms_of_functional_ops_are_pytorchs():
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_level_forms(retrograd), _torch_level_forms(torch)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-14)
