"""`Optimizer`: parameter groups, per-parameter state, `zero_grad` and `state_dict`.

A subclass only says how one parameter moves: `_update(parameter, grad, state, group)`
works on NumPy arrays in the parameter's dtype, in place, following PyTorch's formula
step by step (same operation order, so float32 results agree to rounding). It copies no
array: each product is computed into a temporary it then reuses (`out=`), never into a
second one, and the parameter and its state are updated where they are.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from .._dtype import tensor_type_name
from .._tensor import Tensor
from ..autograd import grad_mode
from ..ops.pointwise import _check_broadcast

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Default of a hyper-parameter that every group must set."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def scalar_state(value: float) -> Tensor:
    """A float32 scalar tensor, as PyTorch stores `step` and similar counters in state."""
    return Tensor._make(np.array(value, np.float32))


def temporary(value) -> np.ndarray:
    """A ufunc's new result as an array that later steps may overwrite (`out=`): on 0-d
    operands NumPy returns a scalar, which cannot be written into."""
    return value if type(value) is np.ndarray else np.asarray(value)


def plus_scaled(grad: np.ndarray, param: np.ndarray, weight: float) -> np.ndarray:
    """grad + weight·param (L2 weight decay) as one new array: the sums of `grad + weight * param`
    without its second temporary."""
    result = temporary(np.multiply(param, weight))
    result += grad
    return result


def _with_numbers(group: dict) -> dict:
    """The group as an update reads it: a hyperparameter given as a one-element tensor (a
    tensor learning rate, a tensor in `betas`) is read as its number, as PyTorch's step on CPU
    reads it. The group itself keeps its tensors, for a scheduler to write into; a group
    without any is read as it is."""
    numbers = None
    for key, value in group.items():
        if isinstance(value, Tensor):
            value = value.item()
        elif type(value) is tuple and any(isinstance(part, Tensor) for part in value):
            value = tuple(part.item() if isinstance(part, Tensor) else part for part in value)
        else:
            continue
        if numbers is None:
            numbers = dict(group)
        numbers[key] = value
    return group if numbers is None else numbers


def check_hyperparameters(**checks) -> None:
    """Raise PyTorch's ValueError for a negative learning rate, epsilon, decay, ..."""
    messages = {
        "lr": "Invalid learning rate: {}",
        "eps": "Invalid epsilon value: {}",
        "momentum": "Invalid momentum value: {}",
        "weight_decay": "Invalid weight_decay value: {}",
        "alpha": "Invalid alpha value: {}",
        "lr_decay": "Invalid lr_decay value: {}",
        "initial_accumulator_value": "Invalid initial_accumulator_value value: {}",
        "momentum_decay": "Invalid momentum_decay value: {}",
    }
    for name, value in checks.items():
        if name == "betas":
            for index, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        elif isinstance(value, Tensor | float | int) and not float(value) >= 0.0:
            raise ValueError(messages[name].format(value))


class Optimizer:
    """Base class of the optimisers: holds `param_groups` and `state`."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {tensor_type_name(params.dtype)}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for parameter in params:
            if not isinstance(parameter, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + type(parameter).__name__
                )
            if parameter.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)
        if len({id(parameter) for parameter in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                UserWarning,
                stacklevel=3,
            )
        existing = {id(parameter) for other in self.param_groups for parameter in other["params"]}
        if existing & {id(parameter) for parameter in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop (or zero) the gradient of every parameter this optimiser updates."""
        from ..nn.modules.module import _clear_grad

        for group in self.param_groups:
            for parameter in group["params"]:
                _clear_grad(parameter, set_to_none)

    # -- stepping --------------------------------------------------------------

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; `closure` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        self._step_calls = getattr(self, "_step_calls", 0) + 1  # lr_scheduler checks the order
        if self.__dict__.pop("_loaded_state_unchecked", False):
            self._check_state_shapes()
        with grad_mode.no_grad():
            for group in self.param_groups:
                group = _with_numbers(group)
                for parameter in group["params"]:
                    if parameter._grad is None:
                        continue
                    state = self.state[parameter]
                    if not state:
                        self._init_state(parameter, state, group)
                    grad = parameter._grad._data
                    if group.get("maximize", False):
                        grad = temporary(np.negative(grad))
                    self._update(parameter._data, grad, state, group)
                    parameter._bump_version()
        return loss

    def _check_state_shapes(self) -> None:
        """A loaded state tensor must have its parameter's shape: PyTorch's step fails in its
        arithmetic otherwise, with these RuntimeErrors (checked before anything is updated)."""
        for parameter, state in self.state.items():
            for value in state.values():
                if not isinstance(value, Tensor) or value.ndim == 0 or value.shape == parameter.shape:
                    continue
                _check_broadcast(value._data.shape, parameter._data.shape)
                broadcast = np.broadcast_shapes(value._data.shape, parameter._data.shape)
                raise RuntimeError(
                    f"output with shape {list(value.shape)} doesn't match the broadcast shape "
                    f"{list(broadcast)}"
                )

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        """Create a parameter's state on its first step."""

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    # -- saving ----------------------------------------------------------------

    def state_dict(self) -> dict:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}.

        Parameters are named by their position across groups, so the dict can be loaded into
        an optimiser built on another copy of the model.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for parameter in group["params"]:
                index_of.setdefault(id(parameter), len(index_of))
                indices.append(index_of[id(parameter)])
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = indices
            groups.append(packed)
        state = {
            index_of[id(parameter)]: values
            for parameter, values in self.state.items()
            if id(parameter) in index_of and values
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict` (deep-copied)."""
        state_dict = copy.deepcopy(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for saved, group in zip(saved_groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    "optimizer's group"
                )
        parameter_of = {
            index: parameter
            for saved, group in zip(saved_groups, self.param_groups)
            for index, parameter in zip(saved["params"], group["params"])
        }
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            parameter = parameter_of.get(int(index))
            if parameter is None:
                continue
            self.state[parameter] = {
                key: _cast_state(key, value, parameter) for key, value in values.items()
            }
        self._loaded_state_unchecked = True
        for saved, group in zip(saved_groups, self.param_groups):
            params = group["params"]
            group.clear()
            group.update({key: value for key, value in saved.items() if key != "params"})
            group["params"] = params

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(key: str, value, parameter: Tensor):
    """State tensors follow the parameter's dtype, except the float32 step counter."""
    if not isinstance(value, Tensor):
        return value
    if key != "step" and value.is_floating_point() and parameter.is_floating_point():
        return value.to(parameter.dtype)
    return value
