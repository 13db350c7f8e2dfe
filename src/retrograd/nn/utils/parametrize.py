"""Parametrizations: a module's tensor computed, on every read, from tensors it really holds.

`register_parametrization(module, "weight", P)` removes the parameter `weight`, keeps its
value as `module.parametrizations.weight.original`, and makes `module.weight` a property
that returns `P(original)`. The module's class becomes a subclass named
`Parametrized<Name>` (so `print(module)` and `type(module)` read as PyTorch's do), and the
state dict holds `parametrizations.weight.original` instead of `weight`.

Note [How a parametrized tensor is stored]
    The `ParametrizationList` under `module.parametrizations[name]` is the one owner of the
    real tensors: `original` (or `original0`, `original1`, ... when a `right_inverse`
    returns several tensors) are registered on it as parameters or buffers, as the
    unparametrized tensor was. Setting `module.weight = X` runs the chain's
    `right_inverse`s from last to first and writes the result into those tensors in
    place, so an optimizer holding them keeps working. Only the class (the property and
    the printed name) lives on the module itself; removing the last parametrization
    restores the original class.
"""

from __future__ import annotations

import copyreg
from collections.abc import Sequence
from contextlib import contextmanager, suppress
from copy import deepcopy

from ..._tensor import Tensor
from ...autograd import grad_mode
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "transfer_parametrizations_and_params",
    "type_before_parametrizations",
]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached():
    """Inside this block each parametrized tensor is computed once and reused.

    Useful when a tensor is read many times in one forward (a recurrent layer's weight);
    the cache is emptied when the outermost block ends.
    """
    global _cache_depth, _cache
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache = {}


def _register_like(module: Module, name: str, value: Tensor) -> None:
    """Register `value` as a parameter when it is one, else as a buffer."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _overwrite(destination: Tensor, source: Tensor) -> None:
    """Make `destination` hold `source`'s values, shape and dtype, keeping its identity."""
    with grad_mode.no_grad():
        destination.data = source


def _right_inverse_of(modules, value):
    """`value` through every module's `right_inverse`, last module first; a module that has
    none, or raises NotImplementedError, leaves the value as it is (registration only)."""
    for module in reversed(modules):
        inverse = getattr(module, "right_inverse", None)
        if inverse is None:
            continue
        with suppress(NotImplementedError):
            value = inverse(value)
    return value


def _check_same(what: str, before, after, registered: str, returned: str) -> None:
    if after.dtype != before.dtype:
        raise ValueError(
            f"{what} may not change the dtype of the tensor, unless the `unsafe` flag is enabled.\n"
            f"{registered}.dtype: {before.dtype}\n{returned}.dtype: {after.dtype}"
        )
    if after.shape != before.shape:
        raise ValueError(
            f"{what} may not change the shape of the tensor, unless the `unsafe` flag is enabled.\n"
            f"{registered}.shape: {before.shape}\n{returned}.shape: {after.shape}"
        )


class ParametrizationList(ModuleList):
    """The chain of parametrizations of one tensor, and the tensor(s) they are computed from.

    Calling it computes the parametrized value: the first module maps the originals, each
    later one maps the previous result. See Note [How a parametrized tensor is stored].
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with grad_mode.no_grad():
            new = _right_inverse_of(self, original)
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        original_shape, original_dtype = original.shape, original.dtype
        if self.is_tensor:
            self._hold_one(original, new)
        else:
            self._hold_several(original, new)
        if not unsafe:
            value = self()
            if not isinstance(value, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(value).__name__}.")
            _check_same_registered(original_dtype, original_shape, value)

    def _hold_one(self, original: Tensor, new: Tensor) -> None:
        if new.dtype != original.dtype:
            raise ValueError(
                "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                f"original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}"
            )
        _overwrite(original, new)
        _register_like(self, "original", original)

    def _hold_several(self, original: Tensor, tensors: Sequence) -> None:
        for index, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise ValueError(
                    "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                    f"Got element {index} of the sequence with type {type(tensor).__name__}."
                )
            if isinstance(original, Parameter):
                tensor = Parameter(tensor, original.requires_grad)
            tensor.requires_grad_(original.requires_grad)
            _register_like(self, f"original{index}", tensor)

    def right_inverse(self, value: Tensor) -> None:
        """Store the tensors whose parametrized value is `value` (what `module.weight = value` does)."""
        with grad_mode.no_grad():
            for module in reversed(self):
                inverse = getattr(module, "right_inverse", None)
                if inverse is None:
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse."
                    )
                value = inverse(value)
            if self.is_tensor:
                self._set_one(value)
            else:
                self._set_several(value)

    def _set_one(self, value) -> None:
        if not isinstance(value, Tensor):
            raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
        if value.dtype != self.original.dtype:
            raise ValueError(
                f"The tensor returned by `right_inverse` has dtype {value.dtype} while `original` "
                f"has dtype {self.original.dtype}"
            )
        _overwrite(self.original, value)

    def _set_several(self, values) -> None:
        if not isinstance(values, Sequence):
            raise ValueError(
                f"'right_inverse' must return a sequence of tensors. Got {type(values).__name__}."
            )
        if len(values) != self.ntensors:
            raise ValueError(
                f"'right_inverse' must return a sequence of tensors of length {self.ntensors}. "
                f"Got a sequence of length {len(values)}."
            )
        for index, value in enumerate(values):
            current = getattr(self, f"original{index}")
            if not isinstance(value, Tensor):
                raise ValueError(
                    "'right_inverse' must return a sequence of tensors. "
                    f"Got element {index} of type {type(value).__name__}."
                )
            if value.dtype != current.dtype:
                raise ValueError(
                    f"Tensor {index} returned by `right_inverse` has dtype {value.dtype} while "
                    f"`original{index}` has dtype {current.dtype}"
                )
        for index, value in enumerate(values):
            _overwrite(getattr(self, f"original{index}"), value)

    def forward(self) -> Tensor:
        if self.is_tensor:
            value = self[0](self.original)
        else:
            value = self[0](*(getattr(self, f"original{index}") for index in range(self.ntensors)))
        for module in list(self)[1:]:
            value = module(value)
        return value


def _check_same_registered(dtype, shape, value: Tensor) -> None:
    if value.dtype != dtype:
        raise ValueError(
            "Registering a parametrization may not change the dtype of the tensor, unless `unsafe` "
            f"flag is enabled.\nunparametrized dtype: {dtype}\nparametrized dtype: {value.dtype}"
        )
    if value.shape != shape:
        raise ValueError(
            "Registering a parametrization may not change the shape of the tensor, unless `unsafe` "
            f"flag is enabled.\nunparametrized shape: {shape}\nparametrized shape: {value.shape}"
        )


def _refuse_pickling(self):
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict(). See:\n"
        "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
        "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training"
    )


def _deepcopy_by_dict(self, memo):
    """Copy a parametrized module attribute by attribute (its class cannot be pickled)."""
    if id(self) in memo:
        return memo[id(self)]
    replica = self.__new__(type(self))
    memo[id(self)] = replica
    replica.__dict__ = deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(type(self)):
        if hasattr(self, slot):
            setattr(replica, slot, deepcopy(getattr(self, slot), memo))
    return replica


def _give_parametrized_class(module: Module) -> None:
    """Move `module` to a fresh subclass `Parametrized<Name>` that can carry properties."""
    cls = type(module)
    namespace = {"__getstate__": _refuse_pickling}
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _deepcopy_by_dict
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _add_property(module: Module, name: str) -> None:
    """`module.<name>` reads the parametrized value and assigns through `right_inverse`."""
    if hasattr(module, name):
        raise AssertionError(f"Module already has an attribute named '{name}'")

    def read(self) -> Tensor:
        chain = self.parametrizations[name]
        if not _cache_depth:
            return chain()
        key = (id(self), name)
        value = _cache.get(key)
        if value is None:
            value = _cache[key] = chain()
        return value

    def write(self, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(read, write))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make `module.<tensor_name>` the value of `parametrization` applied to what it holds.

    A second call on the same name appends to the chain. `unsafe=True` allows the
    parametrization to change the shape or dtype (it is then not checked).
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_appended(module, tensor_name, parametrization)
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        chain = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _give_parametrized_class(module)
            module.parametrizations = ModuleDict()
        _add_property(module, tensor_name)
        module.parametrizations[tensor_name] = chain
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized element "
            f"with name '{tensor_name}'"
        )
    return module


def _check_appended(module: Module, tensor_name: str, parametrization: Module) -> None:
    """The checks before appending to a chain: same dtype and shape, both ways."""
    current = getattr(module, tensor_name)
    mapped = parametrization(current)
    if not isinstance(mapped, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(mapped).__name__}.")
    _check_same(
        "Registering a parametrization", current, mapped,
        f"module.{tensor_name}", f"parametrization(module.{tensor_name})",
    )
    inverse = getattr(parametrization, "right_inverse", None)
    if inverse is None:
        return
    try:
        restored = inverse(mapped)
    except NotImplementedError:
        return
    if not isinstance(restored, Tensor):
        raise ValueError(
            f"parametrization.right_inverse must return a tensor. Got: {type(restored).__name__}"
        )
    what = (f"The tensor returned by parametrization.right_inverse must have the same {{}} as "
            f"module.{tensor_name}, unless the `unsafe` flag is enabled.\n")
    if restored.dtype != current.dtype:
        raise ValueError(what.format("dtype") + f"module.{tensor_name}.dtype: {current.dtype}\n"
                         f"returned dtype: {restored.dtype}")
    if restored.shape != current.shape:
        raise ValueError(what.format("shape") + f"module.{tensor_name}.shape: {current.shape}\n"
                         f"returned shape: {restored.shape}")


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether `module` has any parametrization (or one on `tensor_name`)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Undo the parametrizations of `tensor_name`.

    With `leave_parametrized=True` the tensor keeps its current parametrized value (the
    original parameter object is reused when there is one); with False it goes back to
    the stored original, which only exists for a chain held as one tensor.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with grad_mode.no_grad():
                value = getattr(module, tensor_name)
            _overwrite(original, value)
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value) if value.requires_grad else value
    else:
        raise ValueError(
            "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
            "parametrized in terms of a sequence of tensors."
        )
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_like(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The class `module` had before it was parametrized (its own class if it is not)."""
    if is_parametrized(module):
        return type(module).__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Give `to_module` the parametrizations of `from_module` (all, or `tensor_name`'s), and
    make it share their original tensors; a missing tensor is created from the parametrized
    value first."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        source = from_module.parametrizations[name]
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if hasattr(source, "original"):
            target.original = source.original
        else:
            index = 0
            while hasattr(source, f"original{index}"):
                setattr(target, f"original{index}", getattr(source, f"original{index}"))
                index += 1
    return to_module
