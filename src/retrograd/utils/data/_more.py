"""More of `utils.data`: ChainDataset, StackDataset and get_worker_info."""

from __future__ import annotations

from .dataset import Dataset, IterableDataset

__all__ = ["ChainDataset", "StackDataset", "get_worker_info"]


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one dataset after another."""

    def __init__(self, datasets):
        super().__init__()
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(dataset)
        return total


class StackDataset(Dataset):
    """Samples of several datasets of one length side by side: as a tuple
    (`StackDataset(images, labels)`) or a dict (`StackDataset(image=images, label=labels)`)."""

    def __init__(self, *args, **kwargs):
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                    "input/output, but both types are given."
                )
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            datasets = list(kwargs.values())
            self._length = len(datasets[0])
            if any(self._length != len(dataset) for dataset in datasets):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self) -> int:
        return self._length


def get_worker_info():
    """Information about the current DataLoader worker: None in the main process (retrograd's
    DataLoader loads in the main process)."""
    return None
