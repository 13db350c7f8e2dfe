"""retrograd.utils.data: datasets, samplers, collation and the DataLoader."""

from collections import namedtuple

import numpy as np
import pytest

import retrograd
from retrograd.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _dataset(size=10):
    features = retrograd.arange(size * 2, dtype=retrograd.float32).reshape(size, 2)
    labels = retrograd.arange(size)
    return TensorDataset(features, labels)


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, index):
        return {"x": float(index), "y": index * index, "name": f"s{index}"}


def test_tensor_dataset_gives_rows():
    dataset = _dataset()
    features, label = dataset[3]
    assert features.tolist() == [6.0, 7.0] and label.item() == 3
    assert len(dataset) == 10


def test_tensor_dataset_checks_sizes():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(retrograd.zeros(3), retrograd.zeros(4))


def test_loader_batches_in_order_and_keeps_the_short_last_batch():
    batches = list(DataLoader(_dataset(), batch_size=4))
    assert [labels.tolist() for _, labels in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    features, labels = batches[0]
    assert features.shape == retrograd.Size([4, 2]) and features.dtype == retrograd.float32
    assert labels.dtype == retrograd.int64


def test_drop_last_and_len():
    loader = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [labels.tolist() for _, labels in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(_dataset(), batch_size=4)) == 3


def test_shuffle_is_a_permutation_repeatable_with_a_seeded_generator():
    def epoch(seed):
        loader = DataLoader(_dataset(), batch_size=3, shuffle=True,
                            generator=retrograd.Generator().manual_seed(seed))
        return [label for _, labels in loader for label in labels.tolist()]

    first = epoch(0)
    assert sorted(first) == list(range(10))
    assert first == epoch(0)
    assert first != epoch(1)


def test_shuffle_uses_the_default_generator_after_manual_seed():
    def epoch():
        retrograd.manual_seed(5)
        return [labels.tolist() for _, labels in DataLoader(_dataset(), batch_size=5, shuffle=True)]

    assert epoch() == epoch()


def test_each_epoch_of_a_shuffled_loader_has_a_new_order():
    loader = DataLoader(_dataset(50), batch_size=50, shuffle=True,
                        generator=retrograd.Generator().manual_seed(0))
    first, second = (next(iter(loader))[1].tolist() for _ in range(2))
    assert first != second


def test_collate_of_dicts_numbers_and_strings():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].dtype == retrograd.float64 and batch["x"].tolist() == [0.0, 1.0, 2.0]
    assert batch["y"].dtype == retrograd.int64 and batch["y"].tolist() == [0, 1, 4]
    assert batch["name"] == ["s0", "s1", "s2"]


def test_collate_of_tuples_gives_a_list_and_namedtuples_keep_their_type():
    assert isinstance(default_collate([(1, 2.0), (3, 4.0)]), list)
    Pair = namedtuple("Pair", "a b")
    collated = default_collate([Pair(1, 2), Pair(3, 4)])
    assert isinstance(collated, Pair) and collated.a.tolist() == [1, 3]
    arrays = default_collate([np.ones(2, np.float32), np.zeros(2, np.float32)])
    assert arrays.tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_collate_refuses_unknown_types_and_ragged_lists():
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])


def test_custom_collate_fn():
    loader = DataLoader(Squares(), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


def test_batch_size_none_yields_single_samples():
    assert [sample["y"] for sample in DataLoader(Squares(), batch_size=None)] == [0, 1, 4, 9, 16]


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [batch.tolist() for batch in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(_dataset(), sampler=SequentialSampler(_dataset()), shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(_dataset(), batch_size=0)


def test_samplers():
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    random = RandomSampler(range(6), generator=retrograd.Generator().manual_seed(0))
    assert sorted(random) == list(range(6))
    with_replacement = RandomSampler(range(3), replacement=True, num_samples=10)
    assert len(list(with_replacement)) == 10
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]


def test_subset_and_concat():
    dataset = _dataset()
    subset = Subset(dataset, [7, 2])
    assert len(subset) == 2 and subset[0][1].item() == 7
    both = ConcatDataset([subset, dataset])
    assert len(both) == 12 and both[2][1].item() == 0 and both[-1][1].item() == 9
    assert len(subset + dataset) == 12


def test_random_split_partitions_the_dataset():
    first, second = random_split(range(10), [7, 3], generator=retrograd.Generator().manual_seed(0))
    assert sorted(list(first) + list(second)) == list(range(10))
    assert len(first) == 7 and len(second) == 3


def test_random_split_with_fractions():
    parts = random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(part) for part in parts] == [5, 3, 2]
    parts = random_split(range(5), [0.5, 0.5])
    assert [len(part) for part in parts] == [3, 2]


def test_random_split_refuses_wrong_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])


def test_random_split_fraction_lengths_match_pytorch():
    torch = pytest.importorskip("torch")
    for fractions in ([0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.9]):
        ours = [len(part) for part in random_split(range(11), fractions)]
        theirs = [len(part) for part in torch.utils.data.random_split(range(11), fractions)]
        assert ours == theirs


def test_fast_batches_equal_collated_samples():
    dataset = Subset(_dataset(12), [5, 3, 11, 0, 7])
    fast = list(DataLoader(dataset, batch_size=2))
    slow = list(DataLoader(dataset, batch_size=2, collate_fn=lambda samples: default_collate(samples)))
    assert len(fast) == len(slow) == 3
    for fast_batch, slow_batch in zip(fast, slow):
        assert isinstance(fast_batch, list)
        for fast_tensor, slow_tensor in zip(fast_batch, slow_batch):
            assert fast_tensor.dtype == slow_tensor.dtype
            assert fast_tensor.tolist() == slow_tensor.tolist()


def test_batches_of_tensors_that_require_grad_are_differentiable():
    weights = retrograd.ones(4, 2, requires_grad=True)
    features, = next(iter(DataLoader(TensorDataset(weights), batch_size=4)))
    features.sum().backward()
    assert weights.grad.tolist() == [[1.0, 1.0]] * 4


def test_weighted_random_sampler_follows_the_weights():
    from retrograd.utils.data import WeightedRandomSampler

    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=retrograd.Generator().manual_seed(0))
    counts = np.bincount(list(sampler), minlength=3)
    assert counts[0] == 0 and 0.2 < counts[1] / 4000 < 0.3 and len(sampler) == 4000
    without = WeightedRandomSampler(retrograd.tensor([1.0, 1.0, 1.0]), 3, replacement=False)
    assert sorted(without) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)
