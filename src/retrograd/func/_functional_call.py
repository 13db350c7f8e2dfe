"""A module called with other parameters and buffers (functional_call), and the state of
several models stacked for vmap (stack_module_state, for model ensembles)."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]


def functional_call(
    module,
    parameter_and_buffer_dicts,
    args: Any = None,
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
):
    """`module(*args, **kwargs)` with its parameters and buffers replaced, for this call only,
    by the tensors of `parameter_and_buffer_dicts` (a dict of dotted names, or a tuple of
    such dicts). Names the dicts do not give keep the module's own tensors.

    With `tie_weights` (the default), a tensor the module shares under several names
    (tied weights) is replaced under all of them when one is given. With `strict`, the
    names given must be exactly the module's parameters and buffers.

    >>> import retrograd
    >>> from retrograd.func import functional_call
    >>> layer = retrograd.nn.Linear(2, 1)
    >>> weights = {"weight": retrograd.tensor([[1., 2.]]), "bias": retrograd.tensor([0.5])}
    >>> functional_call(layer, weights, (retrograd.tensor([3., 4.]),))
    tensor([11.5000])
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        replacements = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, tuple | list):
        replacements = {}
        repeated = []
        for mapping in parameter_and_buffer_dicts:
            for key in mapping:
                if key in replacements and key not in repeated:
                    repeated.append(key)
            replacements.update(mapping)
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                "ambiguous"
            )
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
            f"{type(parameter_and_buffer_dicts)}"
        )
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = {} if kwargs is None else kwargs
    if tie_weights:
        replacements = _tie(module, replacements)
    if strict:
        _check_strict(module, replacements)
    saved = []
    try:
        for name, value in replacements.items():
            saved.append(_swap(module, name, value))
        return module(*args, **kwargs)
    finally:
        for restore in reversed(saved):
            restore()


def _all_names(module) -> dict[str, Tensor]:
    names = dict(module.named_parameters(remove_duplicate=False))
    names.update(module.named_buffers(remove_duplicate=False))
    return names


def _tie(module, replacements: dict) -> dict:
    groups: dict[int, list[str]] = {}
    for name, tensor in _all_names(module).items():
        groups.setdefault(id(tensor), []).append(name)
    result = dict(replacements)
    for names in groups.values():
        if len(names) < 2:
            continue
        given = [name for name in names if name in replacements]
        if not given:
            continue
        values = {id(replacements[name]) for name in given}
        if len(values) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {given}, which are tied. Consider "
                "using tie_weights=False"
            )
        for name in names:
            result.setdefault(name, replacements[given[0]])
    return result


def _check_strict(module, replacements: dict) -> None:
    expected = set(_all_names(module))
    unexpected = [name for name in replacements if name not in expected]
    missing = [name for name in _all_names(module) if name not in replacements]
    if unexpected or missing:
        lines = []
        if unexpected:
            lines.append("Unexpected key(s): " + ", ".join(f"'{name}'" for name in unexpected) + ".")
        if missing:
            lines.append("Missing key(s): " + ", ".join(f"'{name}'" for name in missing) + ".")
        raise RuntimeError(
            f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(lines)
        )


def _swap(module, name: str, value):
    """Put `value` at the dotted `name`; return the function that puts the old one back."""
    *path, leaf = name.split(".")
    owner = module
    for part in path:
        owner = getattr(owner, part)
    for registry_name in ("_parameters", "_buffers"):
        registry = owner.__dict__.get(registry_name)
        if registry is not None and leaf in registry:
            old = registry[leaf]
            registry[leaf] = value

            def restore(registry=registry, leaf=leaf, old=old):
                registry[leaf] = old

            return restore
    missing = object()
    old = owner.__dict__.get(leaf, missing)
    object.__setattr__(owner, leaf, value)

    def restore_attribute():
        if old is missing:
            owner.__dict__.pop(leaf, None)
        else:
            object.__setattr__(owner, leaf, old)

    return restore_attribute


def stack_module_state(models) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of `models` (same class, same mode), each stacked along a
    new leading dim: `vmap(lambda p, b, x: functional_call(model, (p, b), x))` then runs the
    whole ensemble at once. Stacked parameters are new leaves that require grad."""
    from ..ops.shape import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if any(model.training != models[0].training for model in models):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(model) is not type(models[0]) for model in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_parameters = [dict(model.named_parameters()) for model in models]
    all_buffers = [dict(model.named_buffers()) for model in models]
    parameters = {}
    for name in all_parameters[0]:
        tensors = [each[name] for each in all_parameters]
        requires = {tensor.requires_grad for tensor in tensors}
        if len(requires) > 1:
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        stacked = stack([tensor.detach() for tensor in tensors])
        parameters[name] = stacked.requires_grad_() if requires.pop() else stacked
    buffers = {name: stack([each[name] for each in all_buffers]) for name in all_buffers[0]}
    return parameters, buffers
