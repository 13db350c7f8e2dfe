"""DataLoader: batches of samples, in order or shuffled, put together by a collate function."""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ... import random as _random
from ..._creation import Generator
from ..._tensor import Tensor
from .dataset import IterableDataset, gather_rows
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _stack(tensors: list[Tensor]) -> Tensor:
    """Stack samples along a new first dim; through autograd only when one requires grad."""
    if any(tensor.requires_grad for tensor in tensors):
        from ... import stack

        return stack(tensors)
    shapes = {tensor.shape for tensor in tensors}
    if len(shapes) > 1:
        raise RuntimeError(
            f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 "
            f"and {list(next(t.shape for t in tensors if t.shape != tensors[0].shape))} at entry "
            f"{next(i for i, t in enumerate(tensors) if t.shape != tensors[0].shape)}"
        )
    return Tensor._make(np.stack([tensor._data for tensor in tensors]))


def default_collate(batch: list):
    """Put a list of samples together: tensors, arrays and numbers are stacked into one tensor;
    dicts, tuples and lists are collated field by field (tuples come back as lists)."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack(batch)
    if isinstance(first, np.ndarray):
        if first.dtype.kind in "OSUa":
            raise TypeError(_COLLATE_ERROR.format(first.dtype))
        return Tensor._make(np.stack(batch))
    if isinstance(first, np.generic):
        return Tensor._make(np.array(batch))
    if isinstance(first, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(first, str | bytes):
        return batch
    if isinstance(first, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in first}
        try:
            return type(first)(collated)
        except TypeError:
            return collated
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(first, tuple):
            return fields
        try:
            return type(first)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(type(first)))


def default_convert(data):
    """What an unbatched loader (batch_size=None) yields: arrays become tensors, the rest stays."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUa":
        return Tensor._make(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({key: default_convert(value) for key, value in data.items()})
    if isinstance(data, list):
        return [default_convert(value) for value in data]
    if isinstance(data, tuple) and not hasattr(data, "_fields"):
        return tuple(default_convert(value) for value in data)
    return data


class DataLoader:
    """Iterate over a dataset in batches.

    `shuffle=True` draws a new order every epoch from `generator` (or the default generator,
    so `retrograd.manual_seed` makes it repeatable); `drop_last` skips a short final batch.
    Loading runs in the calling process: `num_workers` is accepted and ignored.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                    f"shuffle={shuffle}"
                )
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                    "drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if (batch_size is not None or batch_sampler is not None) \
                else default_convert
        self.collate_fn = collate_fn

    def __iter__(self):
        # As PyTorch's loader iterator, draw the workers' base seed first (one 64-bit draw),
        # so the samplers' draws that follow are PyTorch's.
        self._base_seed = int(_random._full_range(self.generator, 1, np.int64)[0])
        return self._batches()

    def _batches(self):
        if self._iterable:
            yield from self._iterate_stream()
            return
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        fetch_many = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if self.collate_fn is default_collate:
                batch = gather_rows(self.dataset, indices)
                if batch is not None:
                    yield batch
                    continue
            samples = fetch_many(indices) if fetch_many else [self.dataset[index] for index in indices]
            yield self.collate_fn(samples)

    def _iterate_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else -(-length // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
