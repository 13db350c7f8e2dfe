"""Stochastic weight averaging and exponential moving averages of a model's weights
(PyTorch's torch.optim.swa_utils): `AveragedModel` keeps the running average, `SWALR` anneals
the learning rate to a constant SWA rate, and `update_bn` recomputes BatchNorm statistics for
the averaged weights.

The averages are updated in place, as PyTorch updates them: the running SWA mean moves toward
the model by 1/(n + 1) (`lerp`) and the EMA by 1 − decay, on floating-point tensors; integer
buffers get the same formulas written out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from copy import deepcopy

from .._creation import tensor
from .._dtype import int64
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _per_group

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An in-place update of a list of averages toward the model's tensors: ema ← lerp(ema, p, 1 − decay)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _) -> None:
        with no_grad():
            for average, current in zip(ema_param_list, current_param_list):
                if average.is_floating_point():
                    average.lerp_(current, 1 - decay)
                else:
                    average.copy_(average * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place update of a list of running means toward the model's tensors, the n-th
    average moving by 1/(n + 1)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        with no_grad():
            for average, current in zip(averaged_param_list, current_param_list):
                if average.is_floating_point():
                    average.lerp_(current, 1 / (float(num_averaged) + 1))
                else:
                    average.add_((current - average) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """decay·ema + (1 − decay)·p, as a new tensor (for `AveragedModel(avg_fn=...)`)."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """avg + (p − avg)/(n + 1), as a new tensor (for `AveragedModel(avg_fn=...)`)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A deep copy of `model` whose weights are the average of the weights `update_parameters`
    is given (SWA by default; an EMA with `multi_avg_fn=get_ema_multi_avg_fn(decay)`).

    `n_averaged` (a buffer) counts the updates; the first one copies. Buffers are copied from
    the model unless `use_buffers`, in which case they are averaged with the parameters.
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model: Module) -> tuple[list[Tensor], list[Tensor]]:
        if self.use_buffers:
            ours = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            ours, theirs = self.parameters(), model.parameters()
        pairs = [(average.detach(), current.detach()) for average, current in zip(ours, theirs)]
        return [average for average, _ in pairs], [current for _, current in pairs]

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current weights into the average (the first call copies them)."""
        averages, currents = self._pairs(model)
        with no_grad():
            if int(self.n_averaged) == 0:
                for average, current in zip(averages, currents):
                    average.copy_(current)
            elif self.avg_fn is not None:
                for average, current in zip(averages, currents):
                    average.copy_(self.avg_fn(average, current, self.n_averaged))
            else:
                update = self.multi_avg_fn or get_swa_multi_avg_fn()
                for group_averages, group_currents in _by_dtype(averages, currents):
                    update(group_averages, group_currents, self.n_averaged)
            if not self.use_buffers:
                for average, current in zip(self.module.buffers(), model.buffers()):
                    average.detach().copy_(current.detach())
            self.n_averaged += 1


def _by_dtype(averages: list[Tensor], currents: list[Tensor]) -> list[tuple[list, list]]:
    """The (averages, currents) pairs grouped by dtype, groups in order of first appearance (a
    `multi_avg_fn` gets one call per group, as in PyTorch)."""
    groups: dict = {}
    for average, current in zip(averages, currents):
        pair = groups.setdefault(average.dtype, ([], []))
        pair[0].append(average)
        pair[1].append(current)
    return list(groups.values())


def update_bn(loader: Iterable, model: Module, device=None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over `loader` (the first
    item of a tuple or list is the input), as a cumulative average; the model's mode and the
    BatchNorms' momenta are restored after."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr from its value to `swa_lr` over `anneal_epochs` epochs ("cos" or
    "linear"), then hold it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1):
        for rate, group in zip(_per_group(swa_lr, optimizer.param_groups, "swa_lr"), optimizer.param_groups):
            group["swa_lr"] = rate
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The lr before annealing that, mixed with `swa_lr` by `alpha`, gave `lr`."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        previous_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        starts = [self._get_initial_lr(group["lr"], group["swa_lr"], previous_alpha)
                  for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(groups, starts)]

    def state_dict(self) -> dict:
        """The scheduler's state, without the optimiser and the anneal function (rebuilt on load)."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from `state_dict`."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
