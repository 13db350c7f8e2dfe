"""DistributedSampler: each rank's share of a dataset, as PyTorch computes it (no MPI needed)."""

import doctest
import importlib.util

import pytest

import retrograd
from retrograd.utils.data import DataLoader, DistributedSampler, TensorDataset
from retrograd.utils.data import distributed as distributed_module

has_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch")

CASES = [(10, 3, False), (10, 3, True), (12, 4, False), (12, 4, True), (2, 5, False), (3, 7, False),
         (7, 2, True), (1, 1, False)]


def shares(length, replicas, drop_last, shuffle=False, seed=0, epoch=0):
    result = []
    for rank in range(replicas):
        sampler = DistributedSampler(range(length), num_replicas=replicas, rank=rank, shuffle=shuffle,
                                     seed=seed, drop_last=drop_last)
        sampler.set_epoch(epoch)
        result.append(list(sampler))
    return result


def test_ranks_take_interleaved_indices_padded_from_the_start():
    assert shares(10, 3, drop_last=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]


def test_drop_last_cuts_to_a_multiple_of_the_replicas():
    assert shares(10, 3, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_padding_longer_than_the_dataset_repeats_it():
    assert shares(2, 5, drop_last=False) == [[0], [1], [0], [1], [0]]


@pytest.mark.parametrize(("length", "replicas", "drop_last"), CASES)
def test_every_rank_gets_len_indices(length, replicas, drop_last):
    for rank, indices in enumerate(shares(length, replicas, drop_last, shuffle=True)):
        sampler = DistributedSampler(range(length), num_replicas=replicas, rank=rank,
                                     drop_last=drop_last)
        assert len(indices) == len(sampler)


def test_shuffled_shares_partition_one_permutation():
    parts = shares(12, 4, drop_last=False, shuffle=True, seed=3)
    assert sorted(index for part in parts for index in part) == list(range(12))
    assert parts == shares(12, 4, drop_last=False, shuffle=True, seed=3)  # every rank agrees


def test_set_epoch_and_seed_change_the_order():
    first = shares(50, 2, drop_last=False, shuffle=True, epoch=0)
    assert shares(50, 2, drop_last=False, shuffle=True, epoch=1) != first
    assert shares(50, 2, drop_last=False, shuffle=True, seed=1) != first
    assert shares(50, 2, drop_last=False, shuffle=True, epoch=0) == first


@pytest.mark.parametrize("rank", [-1, 3])
def test_a_rank_outside_the_replicas_is_refused(rank):
    with pytest.raises(ValueError, match=r"Invalid rank .*, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=rank)


def test_feeds_a_dataloader():
    dataset = TensorDataset(retrograd.arange(8.0))
    loader = DataLoader(dataset, batch_size=2,
                        sampler=DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=False))
    assert [batch[0].tolist() for batch in loader] == [[1.0, 3.0], [5.0, 7.0]]


def test_docstring_examples():
    assert doctest.testmod(distributed_module).failed == 0


@has_torch
@pytest.mark.parametrize(("length", "replicas", "drop_last"), CASES)
def test_same_shares_as_pytorch(length, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    expected = [list(TorchSampler(range(length), num_replicas=replicas, rank=rank, shuffle=False,
                                  drop_last=drop_last)) for rank in range(replicas)]
    assert shares(length, replicas, drop_last) == expected
    for rank in range(replicas):
        torch_sampler = TorchSampler(range(length), num_replicas=replicas, rank=rank, drop_last=drop_last)
        ours = DistributedSampler(range(length), num_replicas=replicas, rank=rank, drop_last=drop_last)
        assert (len(ours), ours.total_size) == (len(torch_sampler), torch_sampler.total_size)
