"""Calls the op samples miss record PyTorch's graph: the same grad_fn classes along the graph
(`next_functions` walked from the output to the leaves), each showing PyTorch's `_saved_`
names and values (a dim as the call gave it, as PyTorch's nodes keep it).

Each case is one call, written once for both libraries (`lib` is retrograd or torch, `leaf`
makes a float64 tensor that requires grad); its every differentiable output is compared.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
from test_grad_fn_names import _comparable, _same, _saved_names


def _values(*shape):
    return np.random.default_rng(1).standard_normal(shape)


CASES = {
    # cutting into pieces along a dim given negative or by keyword
    "chunk-neg": lambda lib, leaf: leaf(_values(3, 4)).chunk(2, -1),
    "chunk-uneven-neg": lambda lib, leaf: leaf(_values(3, 5)).chunk(2, -1),
    "chunk-kw": lambda lib, leaf: lib.chunk(leaf(_values(3, 4)), 2, dim=-2),
    "split-neg": lambda lib, leaf: leaf(_values(3, 4)).split(2, -1),
    "split-sizes-neg": lambda lib, leaf: leaf(_values(3, 4)).split([1, 3], dim=-1),
    "unsafe_chunk-neg": lambda lib, leaf: leaf(_values(3, 5)).unsafe_chunk(2, -1),
    "unsafe_split-neg": lambda lib, leaf: leaf(_values(3, 5)).unsafe_split(2, -1),
    "split_with_sizes-neg": lambda lib, leaf: leaf(_values(3, 4)).split_with_sizes([1, 3], -1),
    "unbind-neg": lambda lib, leaf: leaf(_values(3, 4)).unbind(-1),
    "unbind-kw": lambda lib, leaf: lib.unbind(leaf(_values(2, 3, 4)), dim=-2),
    "narrow-neg": lambda lib, leaf: lib.narrow(leaf(_values(3, 4)), -1, 0, 2),
    "narrow-neg-start": lambda lib, leaf: leaf(_values(3, 5)).narrow(-2, -2, 1),
    # differences along the dim given, by default the last
    "diff-default": lambda lib, leaf: lib.diff(leaf(_values(3, 4))),
    "diff-prepend": lambda lib, leaf: lib.diff(leaf(_values(3, 4)), dim=-2, prepend=leaf(_values(1, 4))),
    # glu: one node saving the input and the dim as given
    "glu-default": lambda lib, leaf: lib.nn.functional.glu(leaf(_values(3, 4))),
    "glu-0": lambda lib, leaf: lib.nn.functional.glu(leaf(_values(4, 3)), 0),
    "glu-3d-neg": lambda lib, leaf: lib.nn.functional.glu(leaf(_values(2, 4, 3)), dim=-2),
    # clamp_min and clamp_max record their own nodes, and so do the ops that floor with them
    "clamp_min": lambda lib, leaf: leaf(_values(3, 4)).clamp_min(0.1),
    "clamp_min-tensor": lambda lib, leaf: lib.clamp_min(leaf(_values(3, 4)), leaf(_values(4))),
    "clamp_max": lambda lib, leaf: lib.clamp_max(leaf(_values(3, 4)), -0.1),
    "clamp_max-tensor": lambda lib, leaf: leaf(_values(3, 4)).clamp_max(leaf(_values(3, 1))),
    "normalize-default": lambda lib, leaf: lib.nn.functional.normalize(leaf(_values(3, 4))),
    "normalize-neg": lambda lib, leaf: lib.nn.functional.normalize(leaf(_values(2, 3, 4)), p=1.0, dim=-1),
    # Tensor.unfold: one node saving the dimension as given, the size and the step
    "unfold": lambda lib, leaf: leaf(_values(5, 3)).unfold(0, 2, 1),
    "unfold-neg": lambda lib, leaf: leaf(_values(3, 7)).unfold(-1, 3, 2),
    "unfold-0d": lambda lib, leaf: leaf(_values()).unfold(0, 1, 1),
    "rot90-neg": lambda lib, leaf: leaf(_values(3, 4)).rot90(1, (0, -1)),
    # 1-d poolings: the stride defaults to the kernel size, as the node shows
    "max_pool1d-default-stride": lambda lib, leaf: lib.nn.functional.max_pool1d(leaf(_values(1, 2, 6)), 2),
    "avg_pool1d-default-stride": lambda lib, leaf: lib.nn.functional.avg_pool1d(leaf(_values(2, 6)), 3),
    "adaptive_avg_pool2d-1": lambda lib, leaf: lib.nn.functional.adaptive_avg_pool2d(leaf(_values(1, 2, 4, 4)), 1),
    # cross_entropy's composites, recorded as PyTorch's C++ composes them
    "cross_entropy-smoothing": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(4, 5)), lib.tensor([0, 1, -100, 4]), label_smoothing=0.1),
    "cross_entropy-smoothing-weight": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(4, 5)), lib.tensor([0, 1, 2, 4]), weight=lib.tensor(_values(5) ** 2), label_smoothing=0.2),
    "cross_entropy-smoothing-sum": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(4, 5)), lib.tensor([0, 1, 2, 4]), reduction="sum", label_smoothing=0.3),
    "cross_entropy-smoothing-none": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(4, 5)), lib.tensor([0, 1, 2, 4]), reduction="none", label_smoothing=0.3),
    "cross_entropy-probabilities": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(3, 4)), lib.softmax(lib.tensor(_values(3, 4)), -1)),
    "cross_entropy-probabilities-sum": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(3, 4)), lib.softmax(lib.tensor(_values(3, 4)), -1), reduction="sum"),
    "cross_entropy-probabilities-none": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(3, 4)), lib.softmax(lib.tensor(_values(3, 4)), -1), reduction="none", label_smoothing=0.1),
    # dims as given; sort's overload with `stable`
    "diagonal-neg": lambda lib, leaf: leaf(_values(3, 4)).diagonal(1, -2, -1),
    "diagonal-kw": lambda lib, leaf: lib.diagonal(leaf(_values(2, 3, 4)), dim1=-1, dim2=0),
    "logcumsumexp-neg": lambda lib, leaf: lib.logcumsumexp(leaf(_values(3, 4)), -1),
    "repeat_interleave-tensor-neg": lambda lib, leaf: leaf(_values(2, 3)).repeat_interleave(
        lib.tensor([1, 2, 0]), dim=-1),
    "sort-stable": lambda lib, leaf: leaf(_values(3, 4)).sort(stable=True),
    "sort-stable-false": lambda lib, leaf: lib.sort(leaf(_values(3, 4)), stable=False, dim=0),
    "sort-descending": lambda lib, leaf: leaf(_values(3, 4)).sort(-1, True),
    # rms_norm as PyTorch composes it: rsqrt(mean(x ** 2, dims last first) + eps) * x
    "rms_norm": lambda lib, leaf: lib.nn.functional.rms_norm(leaf(_values(2, 3, 4)), (4,)),
    "rms_norm-weight-2d": lambda lib, leaf: lib.nn.functional.rms_norm(
        leaf(_values(2, 3, 4)), (3, 4), leaf(_values(3, 4)), eps=1e-5),
    # the margin losses, composed as PyTorch's C++ composes them
    "margin_ranking_loss": lambda lib, leaf: lib.nn.functional.margin_ranking_loss(
        leaf(_values(4)), leaf(_values(4)), lib.tensor([1.0, -1.0, 1.0, -1.0]), margin=0.3),
    "triplet_margin_loss": lambda lib, leaf: lib.nn.functional.triplet_margin_loss(
        leaf(_values(3, 4)), leaf(_values(3, 4) + 1), leaf(_values(3, 4) - 1), margin=0.7),
    "hinge_embedding_loss": lambda lib, leaf: lib.nn.functional.hinge_embedding_loss(
        leaf(_values(3, 4)), lib.tensor(np.sign(_values(4, 3)).reshape(3, 4)), margin=0.5),
    "cosine_embedding_loss": lambda lib, leaf: lib.nn.functional.cosine_embedding_loss(
        leaf(_values(3, 4)), leaf(_values(3, 4) + 1), lib.tensor([1.0, -1.0, 1.0]), margin=0.1),
    "cosine_embedding_loss-1d": lambda lib, leaf: lib.nn.functional.cosine_embedding_loss(
        leaf(_values(4)), leaf(_values(4) + 1), lib.tensor(-1.0), reduction="sum"),
    "cross_entropy-probabilities-weight": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(3, 4)), leaf(_values(3, 4) ** 2), weight=lib.tensor(_values(4) ** 2), reduction="sum"),
    "cross_entropy-probabilities-smoothing": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(3, 4)), leaf(_values(3, 4) ** 2), label_smoothing=0.2),
    # nll_loss of (N, C, d1, ...): the 2-d kernel's node, over a view for other than 4 dims
    "nll_loss-3d": lambda lib, leaf: lib.nn.functional.nll_loss(leaf(_values(2, 4, 3)), lib.tensor([[0, 1, 3], [1, 1, 0]])),
    "nll_loss-3d-none-weight": lambda lib, leaf: lib.nn.functional.nll_loss(
        leaf(_values(2, 4, 3)), lib.tensor([[0, 1, -100], [1, 1, 0]]), weight=lib.tensor(_values(4) ** 2),
        reduction="none"),
    "nll_loss-4d": lambda lib, leaf: lib.nn.functional.nll_loss(
        leaf(_values(2, 4, 3, 2)), lib.tensor(np.arange(12).reshape(2, 3, 2) % 4)),
    "nll_loss-5d-none": lambda lib, leaf: lib.nn.functional.nll_loss(
        leaf(_values(2, 4, 3, 2, 2)), lib.tensor(np.arange(24).reshape(2, 3, 2, 2) % 4), reduction="none"),
    "nll_loss-3d-transposed": lambda lib, leaf: lib.nn.functional.nll_loss(
        leaf(_values(2, 3, 4)).transpose(1, 2), lib.tensor([[0, 1, 3], [1, 1, 0]]), reduction="sum"),
    "cross_entropy-3d": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(2, 4, 3)), lib.tensor([[0, 1, 3], [1, 1, 0]])),
    "cross_entropy-3d-smoothing": lambda lib, leaf: lib.nn.functional.cross_entropy(
        leaf(_values(2, 4, 3)), lib.tensor([[0, 1, -100], [1, 1, 0]]), label_smoothing=0.1, reduction="none"),
    # clamp_min_ and clamp_max_ record clamp_min's and clamp_max's nodes
    "clamp_min_": lambda lib, leaf: (leaf(_values(3, 4)) * 1).clamp_min_(0.1),
    "clamp_min_-tensor": lambda lib, leaf: lib.clamp_min_(leaf(_values(3, 4)) * 1, leaf(_values(4))),
    "clamp_max_": lambda lib, leaf: (leaf(_values(3, 4)) * 1).clamp_max_(-0.1),
    "clamp_max_-tensor": lambda lib, leaf: (leaf(_values(3, 4)) * 1).clamp_max_(leaf(_values(3, 1))),
    # rrelu: one node, training or not (out of training, see test_rrelu_out_of_training_...)
    "rrelu-training": lambda lib, leaf: (lib.manual_seed(0), lib.nn.functional.rrelu(
        leaf(_values(3, 4)), 0.1, 0.3, training=True))[1],
    # shape changes as PyTorch's composites make them
    "atleast_2d-1d": lambda lib, leaf: lib.atleast_2d(leaf(_values(3))),
    "atleast_3d-1d": lambda lib, leaf: lib.atleast_3d(leaf(_values(3))),
    "atleast_3d-2d": lambda lib, leaf: lib.atleast_3d(leaf(_values(2, 3))),
    "vstack": lambda lib, leaf: lib.vstack([leaf(_values(4)), leaf(_values(2, 4))]),
    "dstack": lambda lib, leaf: lib.dstack([leaf(_values(3)), leaf(_values(1, 3))]),
    "ravel-transposed": lambda lib, leaf: leaf(_values(3, 4)).T.ravel(),
    "ravel": lambda lib, leaf: lib.ravel(leaf(_values(3, 4))),
    # the trapezoid rule: Scalar products and halves, the dim wrapped where sample points are given
    "trapezoid": lambda lib, leaf: lib.trapezoid(leaf(_values(2, 5)), dx=0.5),
    "trapezoid-x": lambda lib, leaf: lib.trapezoid(leaf(_values(2, 5)), lib.tensor(_values(5))),
    "trapz-x-grad": lambda lib, leaf: lib.trapz(leaf(_values(5)), leaf(_values(5) ** 2)),
    "cumulative_trapezoid": lambda lib, leaf: lib.cumulative_trapezoid(leaf(_values(2, 5)), dx=0.5, dim=-1),
    "cumulative_trapezoid-x": lambda lib, leaf: lib.cumulative_trapezoid(
        leaf(_values(5, 2)), leaf(_values(5) ** 2), dim=-2),
    # cov and corrcoef: the mean as a sum divided by the total, unsqueezed; the deviations viewed
    "cov": lambda lib, leaf: lib.cov(leaf(_values(3, 5))),
    "cov-weights": lambda lib, leaf: lib.cov(leaf(_values(3, 5)), fweights=lib.tensor([1, 2, 1, 3, 1]),
                                             aweights=lib.tensor(np.abs(_values(5)) + 0.5), correction=2),
    "corrcoef": lambda lib, leaf: lib.corrcoef(leaf(_values(3, 5))),
    # convolutions: an unbatched input unsqueezed and the result squeezed; odd 'same' padding first
    "conv1d-unbatched": lambda lib, leaf: lib.nn.functional.conv1d(leaf(_values(2, 5)), leaf(_values(3, 2, 2)),
                                                                  leaf(_values(3))),
    "conv2d-unbatched-same-even": lambda lib, leaf: lib.nn.functional.conv2d(
        leaf(_values(2, 5, 5)), leaf(_values(3, 2, 2, 3)), padding="same"),
    "conv1d-same-even-dilated": lambda lib, leaf: lib.nn.functional.conv1d(
        leaf(_values(1, 2, 7)), leaf(_values(3, 2, 2)), padding="same", dilation=3),
    "conv_transpose2d-unbatched": lambda lib, leaf: lib.nn.functional.conv_transpose2d(
        leaf(_values(2, 3, 3)), leaf(_values(2, 3, 2, 2)), leaf(_values(3))),
    # other single calls
    "mse_loss-weight": lambda lib, leaf: lib.nn.functional.mse_loss(leaf(_values(2, 3)), leaf(_values(2, 3) + 1),
                                                                  weight=leaf(_values(2, 3) ** 2)),
    "mse_loss-weight-none": lambda lib, leaf: lib.nn.functional.mse_loss(
        leaf(_values(2, 3)), leaf(_values(2, 3) + 1), weight=leaf(_values(2, 3) ** 2), reduction="none"),
    "matrix_norm-1": lambda lib, leaf: lib.linalg.matrix_norm(leaf(_values(3, 2)), ord=1),
    "matrix_norm-neg-inf-keepdim": lambda lib, leaf: lib.linalg.matrix_norm(leaf(_values(2, 3, 2)), ord=-math.inf,
                                                                           keepdim=True),
    "xlog1py-number-other": lambda lib, leaf: lib.special.xlog1py(leaf(_values(2, 3)), 1.5),
    "xlog1py-number-self": lambda lib, leaf: lib.special.xlog1py(-2, leaf(np.abs(_values(2, 3)))),
    "take_along_dim-flat": lambda lib, leaf: lib.take_along_dim(leaf(_values(3, 4)), lib.tensor([0, 5, 11])),
    "quantile-q-tensor": lambda lib, leaf: lib.quantile(leaf(_values(2, 3, 4)), leaf(np.array([0.2, 0.7])), dim=-1,
                                                       keepdim=True),
    "quantile-q-0d": lambda lib, leaf: lib.quantile(leaf(_values(5)), leaf(np.array(0.3))),
    "nanquantile-q-tensor": lambda lib, leaf: lib.nanquantile(leaf(_values(2, 3, 4)), leaf(np.array([0.2, 0.7])),
                                                             dim=1),
    "transpose_-neg": lambda lib, leaf: (leaf(_values(2, 3, 4)) * 1).transpose_(0, -1),
    "swapaxes_-neg": lambda lib, leaf: (leaf(_values(2, 3, 4)) * 1).swapaxes_(-1, 0),
    "lp_pool2d": lambda lib, leaf: lib.nn.functional.lp_pool2d(leaf(_values(1, 2, 4, 4)), 2.0, 2),
    "lp_pool1d-stride": lambda lib, leaf: lib.nn.functional.lp_pool1d(leaf(_values(2, 6)), 3.0, 2, stride=1),
    "triplet_margin_loss-swap": lambda lib, leaf: lib.nn.functional.triplet_margin_loss(
        leaf(_values(3, 4)), leaf(_values(3, 4)[::-1] + 1), leaf(_values(3, 4) - 1), swap=True, p=1.0,
        reduction="sum"),
    "poisson_nll_loss-full-rates": lambda lib, leaf: lib.nn.functional.poisson_nll_loss(
        leaf(np.abs(_values(2, 3))), leaf(np.abs(_values(2, 3)[::-1]) * 3), log_input=False, full=True),
    "poisson_nll_loss-full": lambda lib, leaf: lib.nn.functional.poisson_nll_loss(
        leaf(_values(2, 3)), leaf(np.abs(_values(2, 3)[::-1]) * 3), full=True, reduction="none"),
    "local_response_norm-3d": lambda lib, leaf: lib.nn.functional.local_response_norm(leaf(_values(2, 5, 3)), 3,
                                                                                  alpha=0.3),
    "multi_margin_loss": lambda lib, leaf: lib.nn.functional.multi_margin_loss(leaf(_values(3, 4)), lib.tensor([0, 1, 3])),
    "multi_margin_loss-p2-weight-none": lambda lib, leaf: lib.nn.functional.multi_margin_loss(
        leaf(_values(3, 4)), lib.tensor([0, 1, 3]), p=2, margin=0.5, weight=lib.tensor(_values(4) ** 2),
        reduction="none"),
    "multi_margin_loss-1d": lambda lib, leaf: lib.nn.functional.multi_margin_loss(leaf(_values(4)), lib.tensor([2])),
    # circular padding: PyTorch's copies into slices (CopySlices, which shows nothing saved)
    "pad-circular": lambda lib, leaf: lib.nn.functional.pad(leaf(_values(1, 3, 4)), (1, 2), mode="circular"),
    "pad-circular-2d-unbatched": lambda lib, leaf: lib.nn.functional.pad(leaf(_values(2, 3, 4)), (2, 1, 1, 2),
                                                                         mode="circular"),
    "pad-circular-negative": lambda lib, leaf: lib.nn.functional.pad(leaf(_values(1, 2, 5)), (-1, 2), mode="circular"),
    "x[...].copy_": lambda lib, leaf: (lambda base: (base[:, 1:].copy_(leaf(_values(3, 2))), base)[1])(
        leaf(_values(3, 3)) * 1),
    # solving from the right: one node saving left=False, as PyTorch's
    "solve-right": lambda lib, leaf: lib.linalg.solve(leaf(_values(3, 3) + 3 * np.eye(3)), leaf(_values(2, 3)), left=False),
    "solve_triangular-right": lambda lib, leaf: lib.linalg.solve_triangular(
        leaf(_values(2, 3, 3) + 3 * np.eye(3)), leaf(_values(4, 3)), upper=False, left=False, unitriangular=True),
    # bilinear: the inputs flattened, one _trilinear node, the result viewed back, the bias added
    "bilinear": lambda lib, leaf: lib.nn.functional.bilinear(leaf(_values(2, 3, 4)), leaf(_values(2, 3, 5)),
                                                             leaf(_values(6, 4, 5)), leaf(_values(6))),
    "bilinear-1d-no-bias": lambda lib, leaf: lib.nn.functional.bilinear(leaf(_values(4)), leaf(_values(5)),
                                                                        leaf(_values(6, 4, 5))),
    # losses and similarities composed as PyTorch's Python and C++ compose them
    "cosine_similarity": lambda lib, leaf: lib.nn.functional.cosine_similarity(
        leaf(_values(3, 4)), leaf(_values(3, 4) + 1), dim=-1),
    "cosine_similarity-broadcast": lambda lib, leaf: lib.nn.functional.cosine_similarity(
        leaf(_values(3, 4)), leaf(_values(4)), dim=1),
    "kl_div": lambda lib, leaf: lib.nn.functional.kl_div(
        leaf(_values(3, 4)), leaf(np.abs(_values(4, 3)).reshape(3, 4)), reduction="batchmean"),
    "kl_div-log-target": lambda lib, leaf: lib.nn.functional.kl_div(
        leaf(_values(3, 4)), leaf(_values(4, 3).reshape(3, 4)), reduction="sum", log_target=True),
    "gaussian_nll_loss": lambda lib, leaf: lib.nn.functional.gaussian_nll_loss(
        leaf(_values(3, 4)), leaf(_values(4, 3).reshape(3, 4)), leaf(np.abs(_values(3, 4)) + 0.1)),
    "gaussian_nll_loss-full-unsqueezed": lambda lib, leaf: lib.nn.functional.gaussian_nll_loss(
        leaf(_values(3, 4)), leaf(_values(4, 3).reshape(3, 4)), leaf(np.abs(_values(3))), full=True, reduction="sum"),
    "multilabel_soft_margin_loss": lambda lib, leaf: lib.nn.functional.multilabel_soft_margin_loss(
        leaf(_values(3, 4)), lib.tensor((_values(4, 3) > 0).astype(float).reshape(3, 4))),
    "multilabel_soft_margin_loss-1d": lambda lib, leaf: lib.nn.functional.multilabel_soft_margin_loss(
        leaf(_values(4)), lib.tensor([1.0, 0.0, 1.0, 1.0]), weight=lib.tensor(_values(4) ** 2)),
    # attention: PyTorch's fused CPU node where its dispatch picks the fused kernel
    "sdpa": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(1, 2, 3, 4)), leaf(_values(1, 2, 5, 4)), leaf(_values(1, 2, 5, 4))),
    "sdpa-causal-scale": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(2, 2, 3, 4)), leaf(_values(2, 2, 5, 4)), leaf(_values(2, 2, 5, 4)), is_causal=True, scale=0.5),
    "sdpa-bool-mask": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(1, 2, 3, 4)), leaf(_values(1, 2, 5, 4)), leaf(_values(1, 2, 5, 4)),
        attn_mask=lib.tensor(_values(3, 5) > 0)),
    "sdpa-float-mask": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(1, 2, 3, 4)), leaf(_values(1, 2, 5, 4)), leaf(_values(1, 2, 5, 4)),
        attn_mask=lib.tensor(_values(1, 2, 3, 5))),
    "sdpa-grouped": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(1, 4, 3, 4)), leaf(_values(1, 2, 5, 4)), leaf(_values(1, 2, 5, 4)), enable_gqa=True),
    "sdpa-transposed-query": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(1, 3, 2, 4)).transpose(1, 2), leaf(_values(1, 2, 3, 4)), leaf(_values(1, 2, 3, 4))),
    "sdpa-3d": lambda lib, leaf: lib.nn.functional.scaled_dot_product_attention(
        leaf(_values(2, 3, 4)), leaf(_values(2, 5, 4)), leaf(_values(2, 5, 4))),
}


def _node_list(grad_fn) -> list:
    """The nodes reachable from `grad_fn`, breadth first, each once."""
    found, seen, queue = [], set(), [grad_fn]
    while queue:
        node = queue.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        queue.extend(next_node for next_node, _ in node.next_functions)
    return found


def _outputs(result) -> list:
    return list(result) if isinstance(result, tuple | list) else [result]


def _differences(mine, theirs) -> list[str]:
    """Where the graphs behind two outputs differ: the class names along them, then each
    node's saved names and values."""
    ours, reference = _node_list(mine.grad_fn), _node_list(theirs.grad_fn)
    names = [node.name() for node in ours]
    if names != [node.name() for node in reference]:
        return [f"nodes {names} where PyTorch has {[node.name() for node in reference]}"]
    found = []
    for node, pytorch_node in zip(ours, reference):
        if _saved_names(node) != _saved_names(pytorch_node):
            found.append(f"{node.name()} saves {_saved_names(node)}, PyTorch {_saved_names(pytorch_node)}")
            continue
        found.extend(f"{node.name()}.{name}" for name in _saved_names(node) if not _same(
            _comparable(getattr(node, name)), _comparable(getattr(pytorch_node, name))))
    return found


@pytest.mark.parametrize("call", list(CASES.values()), ids=list(CASES))
def test_graph_and_saved_values_are_pytorchs(call):
    torch = pytest.importorskip("torch")
    mine = call(retrograd, lambda values: retrograd.tensor(values, requires_grad=True))
    theirs = call(torch, lambda values: torch.tensor(values, requires_grad=True))
    outputs, references = _outputs(mine), _outputs(theirs)
    assert len(outputs) == len(references)
    for output, reference in zip(outputs, references):
        assert (output.grad_fn is None) == (reference.grad_fn is None)
        if reference.grad_fn is not None:
            assert _differences(output, reference) == []


GRADIENT_CASES = {
    "glu-last": lambda x: retrograd.nn.functional.glu(x, -1),
    "glu-middle": lambda x: retrograd.nn.functional.glu(x.reshape(2, 4, 3), 1),
    "clamp_min": lambda x: x.clamp_min(0.1),
    "clamp_max": lambda x: retrograd.clamp_max(x, -0.1),
    "clamp_min-tensor": lambda x: retrograd.clamp_min(x[:3], x[3:]),
    "clamp_max-tensor": lambda x: x[:5].clamp_max(x[5:]),
    "unfold": lambda x: x.unfold(0, 2, 1),
    "unfold-neg-step": lambda x: x.unfold(-1, 2, 2),
    "unfold-3d": lambda x: x.reshape(2, 3, 4).unfold(1, 2, 1),
    "cross_entropy-probabilities": lambda x: retrograd.nn.functional.cross_entropy(
        x, retrograd.softmax(retrograd.tensor(_values(6, 4)), -1)),
    "cosine_embedding_loss": lambda x: retrograd.nn.functional.cosine_embedding_loss(
        x[:3], x[3:], retrograd.tensor([1.0, -1.0, -1.0]), margin=-0.5),
    "cosine_similarity": lambda x: retrograd.nn.functional.cosine_similarity(x[:3], x[3:], dim=-1),
    "kl_div": lambda x: retrograd.nn.functional.kl_div(x[:3], x[3:] ** 2, reduction="batchmean"),
    "gaussian_nll_loss": lambda x: retrograd.nn.functional.gaussian_nll_loss(x[:2], x[2:4], x[4:] ** 2 + 0.1),
    "multilabel_soft_margin_loss": lambda x: retrograd.nn.functional.multilabel_soft_margin_loss(
        x, retrograd.tensor((_values(6, 4) > 0).astype(float))),
    "trapezoid-x": lambda x: retrograd.trapezoid(x[:, :3], x[:, 3] ** 2, dim=0),
    "cumulative_trapezoid-x": lambda x: retrograd.cumulative_trapezoid(x, x[0] ** 2),
    "cumulative_trapezoid": lambda x: retrograd.cumulative_trapezoid(x, dx=0.3, dim=0),
    "cov-weights": lambda x: retrograd.cov(x, aweights=retrograd.tensor(np.abs(_values(4)) + 0.5)),
    "corrcoef": lambda x: retrograd.corrcoef(x),
    "conv2d-same-even": lambda x: retrograd.nn.functional.conv2d(
        x.reshape(1, 2, 3, 4), retrograd.tensor(_values(2, 2, 2, 2)), padding="same"),
    "conv1d-unbatched": lambda x: retrograd.nn.functional.conv1d(x.reshape(4, 6), retrograd.tensor(_values(2, 4, 3))),
    "mse_loss-weight": lambda x: retrograd.nn.functional.mse_loss(x[:3], x[3:], weight=x[3:] ** 2),
    "matrix_norm-inf": lambda x: retrograd.linalg.matrix_norm(x, ord=math.inf),
    "xlog1py-number-self": lambda x: retrograd.special.xlog1py(1.5, x ** 2),
    "quantile-q-tensor": lambda x: retrograd.quantile(x, x[0, :2].sigmoid(), dim=0),
    "take_along_dim-flat": lambda x: retrograd.take_along_dim(x, retrograd.tensor([0, 5, 23])),
    "lp_pool2d": lambda x: retrograd.nn.functional.lp_pool2d(x.reshape(1, 1, 6, 4) ** 2 + 0.1, 3.0, 2),
    "triplet_margin_loss-swap": lambda x: retrograd.nn.functional.triplet_margin_loss(
        x[:2], x[2:4], x[4:], swap=True),
    "poisson_nll_loss-full": lambda x: retrograd.nn.functional.poisson_nll_loss(
        x, retrograd.tensor(np.abs(_values(6, 4)) * 3), full=True),
    "local_response_norm-3d": lambda x: retrograd.nn.functional.local_response_norm(x.reshape(2, 4, 3), 2, alpha=0.5),
    "pad-circular-2d": lambda x: retrograd.nn.functional.pad(x.reshape(1, 1, 6, 4), (1, 2, 2, 0), mode="circular"),
    "solve-right": lambda x: retrograd.linalg.solve(x[:4] + 4 * retrograd.eye(4, dtype=retrograd.float64), x[4:],
                                                    left=False),
    "solve_triangular-right": lambda x: retrograd.linalg.solve_triangular(
        x[:4] + 4 * retrograd.eye(4, dtype=retrograd.float64), x[4:], upper=True, left=False),
    "bilinear": lambda x: retrograd.nn.functional.bilinear(x[:, :2], x[:, 1:], retrograd.tensor(_values(3, 2, 3))),
    "bilinear-weight": lambda x: retrograd.nn.functional.bilinear(
        retrograd.tensor(_values(5, 2)), retrograd.tensor(_values(5, 4)), x[:, :4].reshape(3, 2, 4)),
    "rrelu": lambda x: retrograd.nn.functional.rrelu(x, 0.1, 0.3),
    "rrelu-training": lambda x: (retrograd.manual_seed(0), retrograd.nn.functional.rrelu(x, 0.1, 0.3, True))[1],
    "nll_loss-3d": lambda x: retrograd.nn.functional.nll_loss(
        x.reshape(2, 4, 3), retrograd.tensor([[0, 1, -100], [1, 3, 0]]), weight=retrograd.tensor(_values(4) ** 2)),
    "nll_loss-5d-none": lambda x: retrograd.nn.functional.nll_loss(
        x.reshape(2, 3, 2, 2, 1), retrograd.tensor(np.arange(8).reshape(2, 2, 2, 1) % 3), reduction="none"),
    "cross_entropy-4d": lambda x: retrograd.nn.functional.cross_entropy(
        x.reshape(2, 3, 2, 2), retrograd.tensor(np.arange(8).reshape(2, 2, 2) % 3), label_smoothing=0.2),
}


FLOORED_CASES = {
    "gaussian_nll_loss": lambda lib, leaf: lib.nn.functional.gaussian_nll_loss(
        leaf(_values(3, 4)), leaf(_values(4, 3).reshape(3, 4)), leaf(np.abs(_values(3, 4)) * 1e-3), eps=0.5),
    "cosine_similarity": lambda lib, leaf: lib.nn.functional.cosine_similarity(
        leaf(_values(3, 4)), leaf(_values(3, 4)[::-1] * 1e-9), eps=1e-6),
}


@pytest.mark.parametrize("call", list(FLOORED_CASES.values()), ids=list(FLOORED_CASES))
def test_a_floor_written_out_of_the_graph_passes_gradients_as_pytorchs(call):
    """gaussian_nll_loss's var and cosine_similarity's norms are floored in place without
    recording: the gradient flows as if there were no floor (not the numerical derivative)."""
    torch = pytest.importorskip("torch")
    gradients = []
    for lib in (retrograd, torch):
        leaves = []
        out = call(lib, lambda values, lib=lib, leaves=leaves: leaves.append(
            lib.tensor(values, requires_grad=True)) or leaves[-1])
        out.sum().backward()
        gradients.append([leaf.grad.numpy() for leaf in leaves])
    for mine, theirs in zip(*gradients):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


# Nodes without a tangent formula (forward mode raises, as PyTorch's): reverse mode only.
BACKWARD_ONLY_CASES = {
    "multi_margin_loss": lambda x: retrograd.nn.functional.multi_margin_loss(x, retrograd.tensor([0, 3, 1, 1, 2, 0])),
    "multi_margin_loss-p2-weight-none": lambda x: retrograd.nn.functional.multi_margin_loss(
        x, retrograd.tensor([0, 3, 1, 1, 2, 0]), p=2, margin=0.5, weight=retrograd.tensor(_values(4) ** 2),
        reduction="none"),
}


@pytest.mark.parametrize("call", list(BACKWARD_ONLY_CASES.values()), ids=list(BACKWARD_ONLY_CASES))
def test_nodes_without_forward_mode_pass_gradcheck_and_gradgradcheck(call):
    from retrograd.autograd import gradcheck, gradgradcheck

    x = retrograd.tensor(_values(6, 4), dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(call, (x,))
    assert gradgradcheck(call, (x,))


def test_multi_margin_loss_values_and_gradients_are_pytorchs_to_the_bit():
    """Its sums run in PyTorch's order (class by class, then sample by sample)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (retrograd, torch):
        x = lib.tensor(_values(5, 7), requires_grad=True)
        loss = lib.nn.functional.multi_margin_loss(x, lib.tensor([0, 6, 3, 3, 1]), p=2, weight=lib.tensor(
            np.abs(_values(7)) + 0.5))
        loss.backward()
        results.append((loss.item(), x.grad.numpy().tolist()))
    assert results[0] == results[1]


def test_rrelu_out_of_training_records_pytorchs_node():
    """Its noise is a buffer PyTorch leaves unwritten: every other saved value is compared."""
    torch = pytest.importorskip("torch")
    mine = retrograd.nn.functional.rrelu(retrograd.tensor(_values(3, 4), requires_grad=True), 0.1, 0.3)
    theirs = torch.nn.functional.rrelu(torch.tensor(_values(3, 4), requires_grad=True), 0.1, 0.3)
    assert mine.grad_fn.name() == theirs.grad_fn.name() == "RreluWithNoiseBackward0"
    assert _saved_names(mine.grad_fn) == _saved_names(theirs.grad_fn)
    for name in set(_saved_names(mine.grad_fn)) - {"_saved_noise"}:
        assert _same(_comparable(getattr(mine.grad_fn, name)), _comparable(getattr(theirs.grad_fn, name)))
    assert tuple(mine.grad_fn._saved_noise.shape) == tuple(theirs.grad_fn._saved_noise.shape)


@pytest.mark.parametrize("call", list(GRADIENT_CASES.values()), ids=list(GRADIENT_CASES))
def test_new_nodes_pass_gradcheck_and_gradgradcheck(call):
    from retrograd.autograd import gradcheck, gradgradcheck

    x = retrograd.tensor(_values(6, 4), dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(call, (x,), check_forward_ad=True)
    assert gradgradcheck(call, (x,))


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
@pytest.mark.parametrize("bound", ["number", "tensor"])
def test_clamp_min_and_max_gradients_at_ties_are_pytorchs(name, bound):
    """Where x equals the bound, x gets the gradient and the bound none (as PyTorch)."""
    torch = pytest.importorskip("torch")
    values, bounds = [-1.0, 0.5, 2.0], [0.5, 0.5, 0.5]
    grads = []
    for lib in (retrograd, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        limit = lib.tensor(bounds, dtype=lib.float64, requires_grad=True) if bound == "tensor" else 0.5
        getattr(lib, name)(x, limit).backward(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        grads.append([x.grad.numpy().tolist(), None if bound == "number" else limit.grad.numpy().tolist()])
    assert grads[0] == grads[1]


VMAP_CASES = {
    "glu": (lambda lib: lambda x: lib.nn.functional.glu(x, -1), 0),
    "glu-first-dim": (lambda lib: lambda x: lib.nn.functional.glu(x, 0), 1),
    "unfold": (lambda lib: lambda x: x.unfold(0, 2, 1), 0),
    "unfold-neg": (lambda lib: lambda x: x.unfold(-1, 2, 2), 1),
    "unfold-0d": (lambda lib: lambda x: x[0, 0].unfold(0, 1, 1), 0),
    "rot90-neg": (lambda lib: lambda x: x.rot90(1, (0, -1)), 0),
    "chunk-neg": (lambda lib: lambda x: x.chunk(2, -1)[1], 0),
}


@pytest.mark.parametrize("case", list(VMAP_CASES.values()), ids=list(VMAP_CASES))
def test_new_nodes_under_vmap_give_pytorchs_values(case):
    torch = pytest.importorskip("torch")
    function, in_dims = case
    values = _values(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a node without a batching rule warns, as PyTorch)
        mine = retrograd.func.vmap(function(retrograd), in_dims=in_dims)(retrograd.tensor(values))
    theirs = torch.func.vmap(function(torch), in_dims=in_dims)(torch.tensor(values))
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy())
