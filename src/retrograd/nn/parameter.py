"""`Parameter`: a tensor that a Module registers as one of its weights."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.graph import own_counter

__all__ = ["Buffer", "Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered when set on a Module.

    It shares memory (and version counter) with the tensor it is made from, as PyTorch's does.

    >>> import retrograd
    >>> retrograd.nn.Parameter(retrograd.tensor([1., 2.]))
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        from .._creation import empty

        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, not {type(data).__name__}")
        parameter = Tensor.__new__(cls)
        parameter._setup(data._data, None, 0, own_counter(data))
        if requires_grad:
            with grad_mode.no_grad():
                parameter.requires_grad_(True)
        return parameter

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data.copy(), self._requires_grad))


def _rebuild_parameter(array, requires_grad: bool) -> Parameter:
    return Parameter(Tensor._make(array), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when set as a Module attribute."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        from .._creation import empty

        if data is None:
            data = empty(0)
        buffer = Tensor.__new__(cls)
        buffer._setup(data._data, None, 0, own_counter(data))
        buffer.persistent = persistent
        return buffer

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        pass
