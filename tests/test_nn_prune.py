"""nn.utils.prune: masks, the forward pre-hook, iterative and global pruning, removal, against
closed forms and (for the seeded random methods) PyTorch."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch
from retrograd import nn
from retrograd.nn.utils import prune


def _linear(values):
    values = np.asarray(values, dtype=np.float32)
    layer = nn.Linear(values.shape[1], values.shape[0])
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor(values))
        layer.bias.copy_(retrograd.arange(1.0, values.shape[0] + 1))
    return layer


WEIGHT = [[0.5, -3.0, 1.0], [-0.1, 2.0, -4.0]]


def test_pruning_moves_the_parameter_to_orig_and_adds_a_mask_buffer_and_hook():
    layer = _linear(WEIGHT)
    original = layer.weight
    prune.l1_unstructured(layer, "weight", amount=2)
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert layer.weight_orig is original
    assert [name for name, _ in layer.named_buffers()] == ["weight_mask"]
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert layer.weight_mask.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    assert layer.weight.tolist() == [[0.0, -3.0, 1.0], [-0.0, 2.0, -4.0]]
    (hook,) = layer._forward_pre_hooks.values()
    assert isinstance(hook, prune.L1Unstructured) and hook._tensor_name == "weight"


def test_the_hook_recomputes_the_pruned_tensor_before_each_call():
    layer = _linear(WEIGHT)
    prune.l1_unstructured(layer, "weight", amount=2)
    with retrograd.no_grad():
        layer.weight_orig.fill_(1.0)
    layer(retrograd.ones(1, 3))
    assert layer.weight.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]


def test_gradients_reach_orig_only_where_the_mask_keeps():
    layer = _linear(WEIGHT)
    prune.l1_unstructured(layer, "weight", amount=2)
    layer(retrograd.ones(1, 3)).sum().backward()
    assert layer.weight_orig.grad.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]


@pytest.mark.parametrize(("amount", "pruned"), [(0.5, 3), (0.25, 2), (0.0, 0), (1.0, 6), (4, 4)])
def test_amount_is_a_count_or_a_fraction_rounded_half_to_even(amount, pruned):
    layer = _linear(WEIGHT)
    prune.l1_unstructured(layer, "weight", amount=amount)
    assert int((layer.weight_mask == 0).sum()) == pruned  # 0.25 * 6 = 1.5 rounds to 2


@pytest.mark.parametrize(("amount", "error", "message"), [
    (-1, ValueError, "should either be a float in the range"),
    (1.5, ValueError, "should either be a float in the range"),
    ("1", TypeError, "Invalid type for amount"),
    (7, ValueError, "should be smaller than the number of parameters to prune=6"),
])
def test_bad_amounts_are_refused_and_leave_the_module_unchanged(amount, error, message):
    layer = _linear(WEIGHT)
    weight = layer.weight
    with pytest.raises(error, match=message):
        prune.l1_unstructured(layer, "weight", amount=amount)
    # (a refused count puts `weight` back after `bias` in the registry, as PyTorch does)
    assert layer.weight is weight and sorted(layer.state_dict()) == ["bias", "weight"]
    assert not prune.is_pruned(layer)


def test_ln_structured_prunes_the_channels_of_smallest_norm():
    layer = _linear(WEIGHT)
    prune.ln_structured(layer, "weight", amount=1, n=1, dim=1)
    # L1 norms of the columns: 0.6, 5.0, 5.0 -> the first column goes
    assert layer.weight_mask.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    rows = _linear(WEIGHT)
    prune.ln_structured(rows, "weight", amount=0.5, n=float("inf"), dim=0)
    assert rows.weight_mask.tolist() == [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]


def test_structured_pruning_needs_a_multidimensional_tensor_and_a_valid_dim():
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidimensional tensors"):
        prune.ln_structured(_linear(WEIGHT), "bias", amount=1, n=2, dim=0)
    with pytest.raises(IndexError, match="Invalid index 2"):
        prune.random_structured(_linear(WEIGHT), "weight", amount=1, dim=2)


def test_random_structured_prunes_whole_channels():
    retrograd.manual_seed(0)
    layer = _linear(np.ones((4, 5)))
    prune.random_structured(layer, "weight", amount=2, dim=0)
    rows = layer.weight_mask.sum(dim=1).tolist()
    assert sorted(rows) == [0.0, 0.0, 5.0, 5.0]


def test_random_unstructured_prunes_the_asked_number():
    retrograd.manual_seed(0)
    layer = _linear(np.ones((4, 5)))
    prune.random_unstructured(layer, "weight", amount=0.3)
    assert int((layer.weight_mask == 0).sum()) == 6


def test_pruning_again_makes_a_container_acting_on_what_is_left():
    layer = _linear(WEIGHT)
    prune.l1_unstructured(layer, "weight", amount=2)
    prune.l1_unstructured(layer, "weight", amount=2)
    (hook,) = layer._forward_pre_hooks.values()
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2
    assert [type(method).__name__ for method in hook] == ["L1Unstructured", "L1Unstructured"]
    # the second pass prunes the two smallest of the four survivors: 1.0 and 2.0
    assert layer.weight_mask.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    prune.ln_structured(layer, "weight", amount=1, n=1, dim=1)
    assert len(hook) == 3
    # scores are the pruned weight [[0, -3, 0], [0, 0, -4]]: of the columns still kept
    # (the 2nd and 3rd, norms 3 and 4) the 2nd goes
    assert layer.weight_mask.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


def test_structured_pruning_again_chooses_among_the_channels_still_kept():
    layer = _linear([[0.5, -3.0, 1.0], [-0.1, 2.0, -1.0]])  # column L1 norms 0.6, 5, 2
    prune.ln_structured(layer, "weight", amount=1, n=1, dim=1)
    prune.ln_structured(layer, "weight", amount=1, n=1, dim=1)
    assert layer.weight_mask.tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]


def test_a_container_refuses_a_method_on_another_tensor():
    method = prune.Identity()
    method._tensor_name = "weight"
    other = prune.Identity()
    other._tensor_name = "bias"
    container = prune.PruningContainer(method)
    with pytest.raises(ValueError, match="acting on the parameter named 'weight'"):
        container.add_pruning_method(other)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        container.add_pruning_method(3)


def test_remove_makes_the_pruning_permanent():
    layer = _linear(WEIGHT)
    prune.l1_unstructured(layer, "weight", amount=2)
    original = layer.weight_orig
    prune.remove(layer, "weight")
    assert layer.weight is original
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight"]
    assert list(layer.state_dict()) == ["bias", "weight"]
    assert layer.weight.tolist() == [[0.0, -3.0, 1.0], [0.0, 2.0, -4.0]]
    assert not layer._forward_pre_hooks and not prune.is_pruned(layer)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(layer, "weight")


def test_identity_and_custom_from_mask():
    layer = _linear(WEIGHT)
    prune.identity(layer, "bias")
    assert layer.bias_mask.tolist() == [1.0, 1.0]
    prune.custom_from_mask(layer, "weight", retrograd.tensor([[1, 0, 1], [0, 1, 1]]))
    assert layer.weight.tolist() == [[0.5, 0.0, 1.0], [-0.0, 2.0, -4.0]]
    assert layer.weight_mask.dtype == retrograd.float32


def test_importance_scores_choose_instead_of_the_values():
    layer = _linear(WEIGHT)
    scores = retrograd.tensor([[6.0, 5.0, 4.0], [3.0, 2.0, 1.0]])
    prune.l1_unstructured(layer, "weight", amount=2, importance_scores=scores)
    assert layer.weight_mask.tolist() == [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    with pytest.raises(AssertionError, match="importance_scores should have the same shape"):
        prune.l1_unstructured(_linear(WEIGHT), "weight", amount=1, importance_scores=retrograd.ones(3))


def test_global_unstructured_picks_across_all_tensors():
    first = _linear([[1.0, -5.0], [0.2, 3.0]])
    second = _linear([[0.1, 4.0, -0.3]])
    prune.global_unstructured([(first, "weight"), (second, "weight")], pruning_method=prune.L1Unstructured, amount=3)
    assert first.weight_mask.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert second.weight_mask.tolist() == [[0.0, 1.0, 0.0]]
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(first, "bias")], pruning_method=prune.LnStructured, amount=1, n=1, dim=0)


def test_global_unstructured_uses_the_importance_scores_given_per_tensor():
    first = _linear([[1.0, -5.0], [0.2, 3.0]])
    second = _linear([[0.1, 4.0, -0.3]])
    scores = {(first, "weight"): retrograd.tensor([[9.0, 0.0], [9.0, 9.0]])}
    prune.global_unstructured(
        [(first, "weight"), (second, "weight")], pruning_method=prune.L1Unstructured,
        importance_scores=scores, amount=2,
    )
    assert first.weight_mask.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert second.weight_mask.tolist() == [[0.0, 1.0, 1.0]]


def test_prune_computes_without_touching_a_module():
    pruned = prune.L1Unstructured(amount=2).prune(retrograd.tensor([3.0, -1.0, 0.5, 2.0]))
    assert pruned.tolist() == [3.0, -0.0, 0.0, 2.0]


def test_a_custom_method_plugs_into_the_machinery():
    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    layer = _linear(WEIGHT)
    EveryOther.apply(layer, "bias")
    assert layer.bias_mask.tolist() == [0.0, 1.0]
    assert prune.is_pruned(nn.Sequential(nn.ReLU(), layer))


@needs_torch
@pytest.mark.parametrize("seed", [0, 1, 123])
def test_seeded_random_pruning_matches_pytorch(seed):
    import torch.nn.utils.prune  # PyTorch's nn.utils does not import it

    def masks(library):
        library.manual_seed(seed)
        layer = library.nn.Conv2d(3, 8, 3)
        library.nn.utils.prune.random_unstructured(layer, "weight", amount=0.3)
        library.nn.utils.prune.random_structured(layer, "weight", amount=3, dim=0)
        library.nn.utils.prune.random_unstructured(layer, "bias", amount=2)
        return layer.weight_mask.numpy(), layer.bias_mask.numpy()

    for ours, theirs in zip(masks(retrograd), masks(torch)):
        np.testing.assert_array_equal(ours, theirs)


@needs_torch
def test_deterministic_pruning_matches_pytorch():
    import torch.nn.utils.prune  # PyTorch's nn.utils does not import it

    values = np.random.default_rng(4).standard_normal((6, 3, 2, 2)).astype(np.float32)

    def masks(library):
        layer = library.nn.Conv2d(3, 6, 2)
        with library.no_grad():
            layer.weight.copy_(library.tensor(values))
        prune_module = library.nn.utils.prune
        prune_module.l1_unstructured(layer, "weight", amount=0.2)
        prune_module.ln_structured(layer, "weight", amount=2, n=2, dim=0)
        prune_module.ln_structured(layer, "weight", amount=1, n=1, dim=1)
        layer(library.ones(1, 3, 3, 3)).sum().backward()
        return layer.weight_mask.numpy(), layer.weight_orig.grad.numpy()

    for ours, theirs in zip(masks(retrograd), masks(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
