"""Datasets: indexable collections of samples, and views of them (Subset, random_split)."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence

from ..._creation import default_generator, randperm
from ..._tensor import Tensor

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """A map-style dataset: `dataset[index]` is one sample; most also define `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: iterate over it instead of indexing it."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support concatenation with +")


def _row(tensor: Tensor, index):
    """Sample `index` along the first dim (a view, as indexing a tensor gives)."""
    if isinstance(index, int) or (isinstance(index, Tensor) and index.dim() == 0):
        return tensor.select(0, int(index))
    return tensor[index]


class TensorDataset(Dataset):
    """Sample i is the tuple of row i of each tensor; all tensors share their first size."""

    def __init__(self, *tensors: Tensor):
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(_row(tensor, index) for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


def gather_rows(dataset, indices: list[int]) -> list[Tensor] | None:
    """The batch `default_collate` would make of these samples, indexed in one go.

    Only for a TensorDataset (or Subsets of one) whose tensors need no gradient; None otherwise.
    """
    while isinstance(dataset, Subset):
        indices = [dataset.indices[position] for position in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or any(tensor.requires_grad for tensor in dataset.tensors):
        return None
    return [Tensor._make(tensor._data[indices]) for tensor in dataset.tensors]


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for dataset in self.datasets:
            total += len(dataset)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[position] for position in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list:
        dataset_indices = [self.indices[position] for position in indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(dataset_indices)
        return [self.dataset[index] for index in dataset_indices]

    def __len__(self) -> int:
        return len(self.indices)


def _lengths_from_fractions(lengths: Sequence[float], total: int) -> list[int]:
    """Whole lengths for fractions of `total`: floor each, then hand out the rest in turn."""
    sizes = []
    for index, fraction in enumerate(lengths):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {index} is not between 0 and 1")
        sizes.append(math.floor(total * fraction))
    for index in range(total - sum(sizes)):
        sizes[index % len(sizes)] += 1
    for index, size in enumerate(sizes):
        if size == 0:
            warnings.warn(
                f"Length of split at index {index} is 0. This might result in an empty dataset.",
                UserWarning,
                stacklevel=3,
            )
    return sizes


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator=default_generator) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to 1)."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(sum(lengths), generator=generator).tolist()
    subsets = []
    offset = 0
    for length in lengths:
        subsets.append(Subset(dataset, order[offset : offset + length]))
        offset += length
    return subsets
