"""`Module`: the base class of every layer and model, with PyTorch's registration rules.

Setting an attribute to a `Parameter` registers it as a parameter, to a `Module` as a
child; `register_buffer` adds state that is saved but not trained (running statistics).
Everything else (iteration, `state_dict`, dtype conversion, train/eval, hooks, `repr`)
walks these three registries, so they are the single source of truth about a module.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping

from ..._dtype import dtype as _DType
from ..._dtype import tensor_type_name
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.graph import Node, RemovableHandle, _add_hook
from ...ops._table import apply
from ..parameter import Buffer, Parameter

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` reports: keys the module wanted but did not get, and the reverse."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _type_name(value) -> str:
    """How PyTorch's registration errors name a wrong value ('retrograd.FloatTensor', 'int')."""
    if isinstance(value, Tensor):
        return tensor_type_name(value.dtype)
    return type(value).__name__


def _add_indent(text: str, spaces: int) -> str:
    """Indent every line of `text` but the first (a nested module's repr)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(kind: str, name, module: Module, registry: dict) -> None:
    """PyTorch's checks on a parameter, buffer or module name (error types included)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        got = f", got: {name}" if kind == "module" else ""
        raise KeyError(f'{kind} name can\'t contain "."{got}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


# ---------------------------------------------------------------------------
# Full backward hooks: identity nodes around a module call that see its gradients


class _BackwardHookState:
    """What the input and output identity nodes of one module call share."""

    __slots__ = ("grad_outputs", "input_count", "module")

    def __init__(self, module: Module, input_count: int):
        self.module = module
        self.input_count = input_count
        self.grad_outputs = None


class BackwardHookFunctionBackward(Node):
    """Identity on a module's inputs or outputs whose backward runs the module's backward hooks.

    On the outputs it records the gradients (and runs backward pre-hooks, which may replace
    them); on the inputs it calls `hook(module, grad_input, grad_output)` for each full
    backward hook, which may return replacement input gradients.
    """

    __slots__ = ("on_outputs", "state")

    @staticmethod
    def forward(ctx, *tensors, state, on_outputs):
        ctx.state = state
        ctx.on_outputs = on_outputs
        return tuple(tensor._data for tensor in tensors)

    def backward(self, *grads):
        state = self.state
        if self.on_outputs:
            for hook in list(state.module._backward_pre_hooks.values()):
                replaced = hook(state.module, grads)
                if replaced is not None:
                    grads = tuple(replaced)
            state.grad_outputs = grads
            if state.input_count == 0:
                _run_backward_hooks(state, (None,))
            return grads
        return _run_backward_hooks(state, grads)


def _run_backward_hooks(state: _BackwardHookState, grad_inputs: tuple) -> tuple:
    for hook in list(state.module._backward_hooks.values()):
        replaced = hook(state.module, grad_inputs, state.grad_outputs)
        if replaced is not None:
            grad_inputs = tuple(replaced)
    return grad_inputs


def _wrap_through_hook(values, state: _BackwardHookState, on_outputs: bool):
    """Route the tensors that require grad among `values` through one hook node."""
    positions = [
        index for index, value in enumerate(values) if isinstance(value, Tensor) and value.requires_grad
    ]
    if not positions:
        return values, 0
    wrapped = apply(
        BackwardHookFunctionBackward,
        *(values[index] for index in positions),
        state=state,
        on_outputs=on_outputs,
    )
    values = list(values)
    for index, tensor in zip(positions, wrapped):
        values[index] = tensor
    return tuple(values), len(positions)


# ---------------------------------------------------------------------------


def registered_parameter(module: Module, name: str):
    """`module.<name>`, read from its parameter registry when it is there: an attribute read
    goes through Module.__getattr__ (about 1 us), which a layer would pay at every call. A
    parametrized weight is not in the registry and is read as the attribute it is."""
    parameters = module._parameters
    return parameters[name] if name in parameters else getattr(module, name)


class Module:
    """Base class for layers and models: subclass it, set layers in `__init__`, write `forward`.

    >>> import retrograd
    >>> class Scale(retrograd.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.weight = retrograd.nn.Parameter(retrograd.ones(2))
    ...     def forward(self, x):
    ...         return x * self.weight
    >>> [name for name, _ in Scale().named_parameters()]
    ['weight']
    """

    training: bool

    def __init__(self, *args, **kwargs):
        name = type(self).__name__
        if kwargs:
            raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if args:
            raise TypeError(f"{name}.__init__() takes 1 positional argument but {len(args) + 1} were given")
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks_always_called", set())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_non_full_backward_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *input):
        """The computation of the module; call the module (`module(x)`), not `forward`, so hooks run."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # -- registration ----------------------------------------------------------

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add `param` (or None, a declared but absent parameter) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name, self, self._parameters)
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError(
                    f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                    "(retrograd.nn.Parameter or None required)"
                )
            if param.grad_fn is not None:
                raise ValueError(
                    f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                    f"must be created explicitly. To express '{name}' as a function of another "
                    "Tensor, compute the value in the forward() method."
                )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not trained; `persistent=False` keeps it out of `state_dict`."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name, self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                "(retrograd Tensor or None required)"
            )
        if isinstance(tensor, Buffer):
            persistent = tensor.persistent
            tensor = tensor._alias(requires_grad=tensor.requires_grad)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add `module` as a child called `name` (as setting the attribute does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        _check_name("module", name, self, self._modules)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        registries = self.__dict__
        parameters = registries.get("_parameters")
        if isinstance(value, Parameter):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                    "(retrograd.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if registries.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif name in registries.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as child module '{name}' "
                    "(retrograd.nn.Module or None expected)"
                )
            self._modules[name] = value
        elif isinstance(value, Buffer) or name in registries.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                    "(retrograd.nn.Buffer, retrograd.Tensor or None expected)"
                )
            if isinstance(value, Buffer):
                self._forget(name, keep="_buffers")
                self.register_buffer(name, value)
            else:
                self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Remove `name` from the plain attributes and every registry but `keep`."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        if keep != "_buffers":
            self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = registries.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__[registry]
            if name in entries:
                del entries[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        names = set(super().__dir__())
        names.update(self._parameters, self._buffers, self._modules)
        return sorted(name for name in names if not name[0].isdigit())

    # -- iteration -------------------------------------------------------------

    def _named_members(self, members: Callable, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in members(module):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (module_prefix + "." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs, names dotted for submodules and led by `prefix`; shared ones once."""
        return self._named_members(
            lambda module: module._parameters.items(), prefix, recurse, remove_duplicate
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module (and of its submodules, with `recurse`), each once."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(name, buffer) pairs, names dotted for submodules."""
        return self._named_members(
            lambda module: module._buffers.items(), prefix, recurse, remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers of this module (and of its submodules, with `recurse`)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) pairs of the direct submodules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first, each with its dotted name."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and all its submodules, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path `target` ('' is self)."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path `target` (`'block.bn.running_mean'`)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at dotted path `target`; with `strict`, only where one already is."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_extra_state(self):
        """Extra state to save in the state dict; a module that has some overrides this."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. Please "
            "file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug."
        )

    def set_extra_state(self, state) -> None:
        """Restore what get_extra_state returned; a module that has extra state overrides this."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. Please "
            "file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug."
        )

    def to_empty(self, *, device=None, recurse: bool = True) -> Module:
        """Give every parameter and buffer new memory of its shape (zeros here)."""
        from ..._creation import _check_device, zeros_like

        _check_device(device)
        return self._apply(lambda tensor: zeros_like(tensor))

    def get_parameter(self, target: str) -> Parameter:
        """The parameter named by the dotted path `target` (`"0.weight"`)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        parameter = getattr(module, name)
        if not isinstance(parameter, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return parameter

    # -- modes and gradients ---------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch statistics) here and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (dropout off, batch norm uses running statistics); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set `requires_grad` of every parameter (to freeze or unfreeze them); returns self."""
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop (or zero) every parameter's gradient before the next backward."""
        for parameter in self.parameters():
            _clear_grad(parameter, set_to_none)

    # -- conversion ------------------------------------------------------------

    def _apply(self, convert: Callable[[Tensor], Tensor]) -> Module:
        """Convert every parameter (in place, keeping its identity), gradient and buffer."""
        for module in self.children():
            module._apply(convert)
        with grad_mode.no_grad():
            for parameter in self._parameters.values():
                if parameter is None:
                    continue
                parameter.data = convert(parameter)
                if parameter._grad is not None:
                    parameter._grad = convert(parameter._grad)
            for name, buffer in self._buffers.items():
                if buffer is not None:
                    self._buffers[name] = convert(buffer)
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call `fn` on every submodule (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _cast_floating(self, target: _DType) -> Module:
        return self._apply(lambda t: t.to(target) if t.is_floating_point() else t)

    def to(self, *args, **kwargs) -> Module:
        """Convert floating-point parameters and buffers to a dtype (the device must be the CPU)."""
        from ..._creation import _check_device

        target = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        for arg in args:
            if isinstance(arg, _DType):
                target = arg
            elif isinstance(arg, Tensor):
                target = arg.dtype
            else:
                device = arg
        if device is not None:
            _check_device(device)
        if target is None:
            return self
        if not target.is_floating_point:
            raise TypeError(
                "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={target}"
            )
        return self._cast_floating(target)

    def float(self) -> Module:
        """Cast floating point parameters and buffers to float32; returns self."""
        from ..._dtype import float32

        return self._cast_floating(float32)

    def double(self) -> Module:
        """Cast floating point parameters and buffers to float64; returns self."""
        from ..._dtype import float64

        return self._cast_floating(float64)

    def half(self) -> Module:
        """Cast floating point parameters and buffers to float16; returns self."""
        from ..._dtype import float16

        return self._cast_floating(float16)

    def type(self, dst_type: _DType) -> Module:
        """Cast all parameters and buffers to `dst_type`; returns self."""
        return self._apply(lambda t: t.to(dst_type))

    def cpu(self) -> Module:
        """Returns self: everything already lives on the CPU."""
        return self

    def cuda(self, device=None) -> Module:
        """Refused: this build computes on the CPU (see `retrograd.cuda.is_available()`)."""
        from ..._creation import _check_device

        _check_device("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)
        return self

    # -- state dict ------------------------------------------------------------

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, parameter in self._parameters.items():
            if parameter is not None:
                destination[prefix + name] = parameter if keep_vars else parameter.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False) -> dict:
        """An ordered dict of every parameter and persistent buffer, by dotted name.

        Values are detached tensors sharing memory with the module's (`keep_vars=True`
        returns the parameters themselves).
        """
        if destination is None:
            destination = OrderedDict()
        visited = []
        # A module used twice (tied layers) appears under each of its names, as in PyTorch.
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            dotted = module_prefix + "." if module_prefix else ""
            for hook in list(module.__dict__.get("_state_dict_pre_hooks", {}).values()):
                hook(module, dotted, keep_vars)
            module._save_to_state_dict(destination, dotted, keep_vars)
            visited.append((module, dotted))
        for module, dotted in reversed(visited):  # children before their parents
            for hook in list(module.__dict__.get("_state_dict_hooks", {}).values()):
                result = hook(module, destination, dotted, {})
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
        return destination

    def _local_state(self) -> dict:
        state = {name: value for name, value in self._parameters.items() if value is not None}
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                state[name] = buffer
        return state

    def _load_from_state_dict(self, state_dict: Mapping, prefix: str, assign: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        local_state = self._local_state()
        for name, current in local_state.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            incoming = state_dict[key]
            if not isinstance(incoming, Tensor):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected retrograd.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(incoming)}"
                )
                continue
            if incoming.shape != current.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {incoming.shape} from "
                    f"checkpoint, the shape in current model is {current.shape}."
                )
                continue
            self._copy_into(name, current, incoming, assign)
        for key in state_dict:
            if key.startswith(prefix):
                first = key[len(prefix):].split(".", 1)[0]
                if first not in self._modules and first not in local_state:
                    unexpected_keys.append(key)

    def _copy_into(self, name: str, current: Tensor, incoming: Tensor, assign: bool) -> None:
        with grad_mode.no_grad():
            if not assign:
                current.copy_(incoming)
            elif name in self._parameters:
                self._parameters[name] = Parameter(incoming.detach(), current.requires_grad)
            else:
                self._buffers[name] = incoming

    def _load_subtree(self, local_state_dict: Mapping, prefix: str, assign: bool,
                      missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        """Load this module, then each child from only the entries under the child's prefix
        (what its load pre-hooks see, as PyTorch), then run this module's post-hooks: a
        module's post-hooks run after those of every module below it."""
        for hook in list(self.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
            # PyTorch passes strict=True here whatever load_state_dict was given
            hook(self, local_state_dict, prefix, {}, True, missing_keys, unexpected_keys, error_msgs)
        self._load_from_state_dict(local_state_dict, prefix, assign, missing_keys, unexpected_keys,
                                   error_msgs)
        for name, child in self._modules.items():
            if child is None:
                continue
            child_prefix = prefix + name + "."
            child_state_dict = {key: value for key, value in local_state_dict.items()
                                if key.startswith(child_prefix)}
            child._load_subtree(child_state_dict, child_prefix, assign, missing_keys, unexpected_keys,
                                error_msgs)
        incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
        for hook in list(self.__dict__.get("_load_state_dict_post_hooks", {}).values()):
            if hook(self, incompatible) is not None:
                raise AssertionError(
                    "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                    "expected to return new values, if incompatible_keys need to be modified, "
                    "it should be done inplace."
                )

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False):
        """Copy values from `state_dict` into the parameters and buffers, by name.

        Returns `(missing_keys, unexpected_keys)`; with `strict` either being non-empty is a
        RuntimeError, as is any shape mismatch (strict or not).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        state_dict = OrderedDict(state_dict)  # pre-hooks may rename keys; the caller's dict is left alone
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        self._load_subtree(OrderedDict(state_dict), "", assign, missing_keys, unexpected_keys, error_msgs)
        if strict:
            if unexpected_keys:
                listed = ", ".join(f'"{key}"' for key in unexpected_keys)
                error_msgs.insert(0, f"Unexpected key(s) in state_dict: {listed}. ")
            if missing_keys:
                listed = ", ".join(f'"{key}"' for key in missing_keys)
                error_msgs.insert(0, f"Missing key(s) in state_dict: {listed}. ")
        if error_msgs:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(error_msgs)
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # -- hooks -----------------------------------------------------------------

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """`hook(module, args)` before forward; a non-None result replaces the args."""
        handle = _add_hook_ordered(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle._key)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """`hook(module, args, output)` after forward; a non-None result replaces the output."""
        handle = _add_hook_ordered(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle._key)
        if always_call:
            self._forward_hooks_always_called.add(handle._key)
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_input, grad_output)` once the gradients of the inputs are known."""
        self._refuse_mixed_backward_hooks(full=True)
        return _add_hook_ordered(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_output)` when the output gradients arrive; may replace them."""
        return _add_hook_ordered(self._backward_pre_hooks, hook, prepend)

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, prefix, keep_vars)` before this module's entries are saved."""
        return _add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata)` after the state dict is made;
        it may change `state_dict` in place."""
        return _add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)` before this module's entries are loaded."""
        return _add_hook(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, incompatible_keys)` after loading, before strict checks; it may
        change `incompatible_keys.missing_keys` / `unexpected_keys` in place."""
        return _add_hook(self._load_state_dict_post_hooks, hook)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated: `hook(module, grad_input, grad_output)` on the grad_fn of the output.

        It sees the gradients of the last operation the forward recorded (its inputs and
        outputs), which are the module's only when the forward is a single operation; use
        `register_full_backward_hook` for the module's own.
        """
        self._refuse_mixed_backward_hooks(full=False)
        return _add_hook(self._non_full_backward_hooks, hook)

    def _refuse_mixed_backward_hooks(self, full: bool) -> None:
        if self._non_full_backward_hooks if full else self._backward_hooks:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them."
            )

    # -- calling ---------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or self._non_full_backward_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        state = None
        if (self._backward_hooks or self._backward_pre_hooks) and grad_mode.is_grad_enabled():
            state = _BackwardHookState(self, 0)
            args, state.input_count = _wrap_through_hook(args, state, on_outputs=False)
        output = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            if key in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if state is not None:
            output = _wrap_outputs(output, state)
        if self._non_full_backward_hooks and grad_mode.is_grad_enabled():
            _attach_non_full_backward_hooks(self, args, output)
        return output

    # -- printing --------------------------------------------------------------

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in `repr` (its settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_add_indent(repr(module), 2)}" for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _first_tensor(output):
    while not isinstance(output, Tensor):
        if isinstance(output, dict):
            output = next(value for value in output.values() if isinstance(value, Tensor))
        else:
            output = output[0]
    return output


def _attach_non_full_backward_hooks(module: Module, args: tuple, output) -> None:
    """`register_backward_hook`: hook the grad_fn of the output's first tensor."""
    grad_fn = _first_tensor(output).grad_fn
    if grad_fn is None:
        return
    for hook in list(module._non_full_backward_hooks.values()):
        grad_fn.register_hook(_ModuleNodeHook(module, hook))
    _warn_non_full_backward_hook(args, output, grad_fn)


class _ModuleNodeHook:
    """A node hook `(grad_inputs, grad_outputs)` that calls `hook(module, grad_inputs, grad_outputs)`."""

    __slots__ = ("hook", "module")

    def __init__(self, module: Module, hook: Callable):
        self.module = module
        self.hook = hook

    def __call__(self, grad_inputs, grad_outputs):
        return self.hook(self.module, grad_inputs, grad_outputs)


_NON_FULL_HOOK_ADVICE = "Please use register_full_backward_hook to get the documented behavior."


def _warn_non_full_backward_hook(args: tuple, output, grad_fn) -> None:
    """Say (as PyTorch does) when the hooked grad_fn cannot show the module's own gradients."""
    import warnings

    def warn(message: str) -> None:
        warnings.warn(message, FutureWarning, stacklevel=4)

    outputs = (output,) if isinstance(output, Tensor) else output
    if not (isinstance(outputs, tuple) and all(isinstance(value, Tensor) for value in outputs)):
        warn("Using non-full backward hooks on a Module that does not return a single Tensor or a "
             "tuple of Tensors is deprecated and will be removed in future versions. This hook "
             f"will be missing some of the grad_output. {_NON_FULL_HOOK_ADVICE}")
        return
    if not all(isinstance(value, Tensor) for value in args):
        warn("Using non-full backward hooks on a Module that does not take as input a single "
             "Tensor or a tuple of Tensors is deprecated and will be removed in future versions. "
             f"This hook will be missing some of the grad_input. {_NON_FULL_HOOK_ADVICE}")
        return
    output_nodes = {value.grad_fn for value in outputs if value.grad_fn is not None}
    if not output_nodes or (len(output_nodes) == 1 and grad_fn not in output_nodes):
        warn("Using a non-full backward hook when outputs are nested in python data structure is "
             "deprecated and will be removed in future versions. This hook will be missing some "
             "grad_output.")
    elif len(output_nodes) > 1:
        warn("Using a non-full backward hook when outputs are generated by different autograd "
             "Nodes is deprecated and will be removed in future versions. This hook will be "
             f"missing some grad_output. {_NON_FULL_HOOK_ADVICE}")
    else:
        input_nodes = {value.grad_fn for value in args if value.grad_fn is not None}
        next_nodes = {node for node, _ in grad_fn.next_functions}
        if input_nodes != next_nodes:
            warn("Using a non-full backward hook when the forward contains multiple autograd Nodes "
                 "is deprecated and will be removed in future versions. This hook will be missing "
                 f"some grad_input. {_NON_FULL_HOOK_ADVICE}")


def _add_hook_ordered(hooks: dict, hook: Callable, prepend: bool) -> RemovableHandle:
    handle = _add_hook(hooks, hook)
    if prepend:
        hooks[handle._key] = hooks.pop(handle._key)
        for key in [key for key in hooks if key != handle._key]:
            hooks[key] = hooks.pop(key)
    return handle


def _wrap_outputs(output, state: _BackwardHookState):
    if isinstance(output, Tensor):
        wrapped, _ = _wrap_through_hook((output,), state, on_outputs=True)
        return wrapped[0]
    if isinstance(output, tuple):
        wrapped, _ = _wrap_through_hook(output, state, on_outputs=True)
        return type(output)(*wrapped) if hasattr(output, "_fields") else tuple(wrapped)
    return output


def _clear_grad(parameter: Tensor, set_to_none: bool) -> None:
    grad = parameter._grad
    if grad is None:
        return
    if set_to_none:
        parameter._grad = None
        return
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad.requires_grad_(False)
    with grad_mode.no_grad():
        grad.zero_()

