"""Tensor: a NumPy array plus the autograd state that PyTorch keeps beside it.

The autograd state of a tensor:
  requires_grad  whether gradients flow to it (always True for results of the graph)
  grad_fn        the Node that made it; None for leaves (tensors the user created)
  grad           for leaves, the accumulated gradient after backward
  _version       bumped by every in-place change; shared with `detach()` and views

Operators (`+`, `x.exp()`, ...) are attached to this class by the op table in `ops/`,
so each operator is defined in exactly one place.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _dtype
from . import autograd as _autograd
from ._device import CPU as _CPU
from ._device import check_device as _check_device
from ._device import device
from ._dtype import dtype as _DType
from ._printing import format_tensor
from .autograd import grad_mode
from .autograd import graph as _graph
from .autograd.graph import (
    _COUNTER_ZERO,
    AccumulateGrad,
    _add_hook,
    new_version_counter,
    own_counter,
    rare_field,
)

__all__ = ["Size", "Tensor", "device"]


class Size(tuple):
    """A tensor's shape: a tuple that prints as `retrograd.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"retrograd.Size([{', '.join(str(size) for size in self)}])"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return int(np.prod(self, dtype=np.int64))

    # Slices, sums and repeats of a Size stay Sizes, as in PyTorch (`batch_shape + event_shape`).
    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, times) -> Size:
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__


# Note [Tensor origins]
#     `retrograd.explain` says why a tensor has no graph, so a tensor made without one remembers
#     how, in the `_origin` slot: cut by .detach()/.detach_() or .data, made while grad mode was
#     off (under no_grad(), or by a backward pass without create_graph=True: a derivative), or
#     made from a NumPy array. The slot is set only on those paths and left unset otherwise
#     (read it with getattr(tensor, "_origin", None)): the recorded path of an operation
#     (`_from_node`) never touches it.
ORIGIN_DETACH = "detach"
ORIGIN_DATA = "data"
ORIGIN_NO_GRAD = "no_grad"
ORIGIN_NUMPY = "numpy"
ORIGIN_BACKWARD = "backward"  # computed by a backward pass without create_graph=True


_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)


_NUMPY_OF_GRAD_TENSOR = (
    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
)


def _cuda_device(device) -> str:
    """`x.cuda(1)` means device 'cuda:1'."""
    if isinstance(device, int):
        return f"cuda:{device}"
    return device



# Note [Spoiled views]
#     A view PyTorch will not rebuild (Note [Views that cannot be rebuilt], ops/_inplace.py)
#     whose base was written is spoiled: reading its grad_fn (so using it in a recorded op)
#     raises PyTorch's error, while it stays an ordinary tensor of its own class for type(),
#     isinstance, printing (`grad_fn=<Invalid>`) and pickling. Its `grad_fn` slot is emptied
#     and the history it had is kept here with the error; a read of the empty slot falls to
#     `Tensor.__getattr__` (`spoiled_lookup`), which raises it. Every other tensor's `grad_fn`
#     stays a plain slot read. `__getattr__` is attached to Tensor (by the op table's
#     register_method, ops/_inplace.py) when the first view is spoiled, not in its class body:
#     once Tensor has one, every attribute lookup that fails (NumPy's probes of
#     `__array_interface__` in `np.asarray(tensor)`, forward mode's reads of an absent tangent)
#     pays a Python call, which programs that spoil no view should not pay.
_SPOILED: dict[int, tuple] = {}  # id(view) -> (weak reference to it, the history it had, the error)


def spoil_view(view: Tensor, error: str) -> None:
    """Make reading `view.grad_fn` raise RuntimeError(error) (see Note [Spoiled views])."""
    key = id(view)
    history = Tensor.grad_fn.__get__(view)
    _SPOILED[key] = (weakref.ref(view, lambda _: _SPOILED.pop(key, None)), history, error)
    Tensor.grad_fn.__delete__(view)


def spoiled_lookup(tensor: Tensor, name: str):
    """Tensor's `__getattr__` once a view is spoiled, reached only when an attribute is not
    found: a spoiled view's `grad_fn` raises PyTorch's error (Note [Spoiled views])."""
    if name == "grad_fn":
        entry = _spoiled_entry(tensor)
        if entry is not None:
            raise RuntimeError(entry[2])
    raise AttributeError(f"'{type(tensor).__name__}' object has no attribute '{name}'", name=name, obj=tensor)


def _spoiled_entry(tensor: Tensor) -> tuple | None:
    entry = _SPOILED.get(id(tensor))
    return entry if entry is not None and entry[0]() is tensor else None


def is_spoiled(tensor: Tensor) -> bool:
    """Whether reading `tensor.grad_fn` raises (see Note [Spoiled views])."""
    return _spoiled_entry(tensor) is not None


def history_of(tensor: Tensor):
    """The node in `tensor`'s grad_fn slot, without raising: for a spoiled view, the history it
    had when it was spoiled."""
    try:
        return Tensor.grad_fn.__get__(tensor)
    except AttributeError:
        entry = _spoiled_entry(tensor)
        if entry is None:
            raise
        return entry[1]


def _is_zero_gradient(array) -> bool:
    """Whether `array` is sgn's lazily-zero gradient (Note [Zero gradients that stay zero],
    ops/_zero_gradient.py; imported here only for such a rare array: ops is a layer above)."""
    from .ops._zero_gradient import ZeroGradient

    return isinstance(array, ZeroGradient)


def _zero_gradient_as_array(array, force: bool) -> np.ndarray:
    """As PyTorch's zero tensor (which has no memory): refused by numpy() unless `force`,
    which gives fresh, writable zeros."""
    if not force:
        raise RuntimeError("Cannot convert a ZeroTensor to numpy. Set force=True if you need the zero array.")
    return np.zeros(array.shape, array.dtype)


def grad_through_base() -> None:
    """The `_grad_accumulator` of a view that requires grad only through its base.

    Note [Views that require grad through their base]
        As PyTorch, a view whose base requires grad requires grad too, even when it has no
        history: made under no_grad, or before its base's `requires_grad_()`. It is a leaf
        with no gradient accumulator: operations on it are recorded, and the gradient that
        reaches it is dropped (neither it nor its base gets a `.grad`). Its `_grad_accumulator`
        is this function (a dead weak reference to the reader of `_grad_accumulator()`).
    """
    return None


class _TensorExtras:
    """The rarely set fields of a tensor (Tensor._backward_hooks and the two after it)."""

    __slots__ = ("backward_hooks", "post_accumulate_hooks", "retains_grad")

    def __init__(self):
        self.backward_hooks = self.post_accumulate_hooks = None
        self.retains_grad = False


class Tensor:
    """A multi-dimensional array that records the operations applied to it."""

    __slots__ = (
        "__weakref__",
        "_base",
        "_data",
        "_extras",
        "_fw_grad",
        "_fw_grads",
        "_grad",
        "_grad_accumulator",
        "_is_inference",
        "_meta",
        "_origin",
        "_output_nr",
        "_requires_grad",
        "_version_counter",
        "_views",
        "grad_fn",
    )

    __array_priority__ = 1000  # NumPy defers `ndarray * tensor` to Tensor.__rmul__

    # Set on few tensors, so kept together (as a node's: Note [A node's rare fields]).
    _backward_hooks = rare_field("backward_hooks", _TensorExtras)  # {key: hook(grad)}
    _post_accumulate_hooks = rare_field("post_accumulate_hooks", _TensorExtras)  # {key: hook(leaf)}
    _retains_grad = rare_field("retains_grad", _TensorExtras, False)  # retain_grad() was called

    def __init__(self, *args, device=None):
        """The legacy constructor: `Tensor([1, 2])` (data, in the default dtype),
        `Tensor(2, 3)` (a shape), `Tensor(other)` (the same data); see `_legacy.py`."""
        from ._legacy import fill_legacy  # (the legacy constructors build on Tensor: a layer above)

        _check_device(device)
        fill_legacy(self, args, _dtype.get_default_dtype(), fixed=False)

    def _setup(self, array: np.ndarray, grad_fn, output_nr: int, version_counter) -> None:
        self._data = array
        self.grad_fn = grad_fn
        self._requires_grad = grad_fn is not None
        self._output_nr = output_nr
        self._version_counter = version_counter
        self._grad = None
        self._grad_accumulator = None
        self._extras = None  # a _TensorExtras once a hook is added or retain_grad() called
        self._base = None
        self._views = None
        self._meta = None  # its array's (shape, dtype), once an op asks (graph.meta_of)
        self._is_inference = grad_mode.threads_in_inference.count != 0 and grad_mode._state.inference

    @classmethod
    def _make(cls, array: np.ndarray) -> Tensor:
        """A new leaf that owns `array` (no copy)."""
        tensor = cls.__new__(cls)
        tensor._setup(array, None, 0, _COUNTER_ZERO)  # (new_version_counter, inlined)
        if grad_mode.threads_without_grad.count and not grad_mode._state.grad_enabled:
            tensor._origin = grad_mode._state.origin_without_grad  # see Note [Tensor origins]
        return tensor

    @classmethod
    def _from_node(cls, array: np.ndarray, node, output_nr: int, version_counter=None) -> Tensor:
        """The output number `output_nr` of the recorded operation `node`."""
        tensor = cls.__new__(cls)
        if version_counter is None:
            version_counter = new_version_counter()
        tensor._setup(array, node, output_nr, version_counter)
        return tensor

    # ------------------------------------------------------------------
    # Autograd state

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded so gradients can flow back to it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if history_of(self) is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        if value and self._is_inference:
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
            )
        self._requires_grad = bool(value)
        if self._grad_accumulator is grad_through_base:
            self._grad_accumulator = None  # (its own flag now)
        if self._views is not None:
            from .ops._inplace import views_follow_requires_grad  # (a layer above: views are ops')

            views_follow_requires_grad(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place and return self (leaves only)."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for a tensor no recorded operation produced (user-created, or not requiring grad)."""
        return self.grad_fn is None

    def is_inference(self) -> bool:
        """Whether this tensor was made in inference mode (it can never join a graph)."""
        return self._is_inference

    @property
    def output_nr(self) -> int:
        """Which output of its `grad_fn` this tensor is (0 for single-output operations)."""
        return self._output_nr

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward accumulated: kept for leaves, for non-leaves only after `retain_grad()`."""
        if self._grad is None and history_of(self) is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value.shape != self.shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        """True if `retain_grad()` was called on this non-leaf, so backward keeps its `.grad`."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in `.grad` after backward (a no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        node = self.grad_fn
        if node._retain_grad_hooks is None:
            node._retain_grad_hooks = {}
        node._retain_grad_hooks[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def _get_grad_accumulator(self) -> AccumulateGrad | None:
        """The AccumulateGrad node of this leaf, shared by every graph that uses it (None for a
        view that requires grad only through its base: Note [Views that require grad through
        their base])."""
        reference = self._grad_accumulator
        if reference is not None:
            if reference is grad_through_base:
                return None
            accumulator = reference()
            if accumulator is not None:
                return accumulator
        accumulator = AccumulateGrad(self)
        self._grad_accumulator = weakref.ref(accumulator)
        return accumulator

    def register_hook(self, hook) -> object:
        """Call `hook(grad)` whenever a gradient for this tensor is computed.

        The hook may return a new gradient to use instead. Returns a handle whose
        `.remove()` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._backward_hooks is None:
                self._backward_hooks = {}
            return _add_hook(self._backward_hooks, hook)
        node = self.grad_fn
        if node._tensor_pre_hooks is None:
            node._tensor_pre_hooks = {}
        hooks = node._tensor_pre_hooks.setdefault(self._output_nr, {})
        return _add_hook(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook) -> object:
        """Call `hook(tensor)` after this leaf's `.grad` has been updated by backward."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return _add_hook(self._post_accumulate_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into the `.grad` of every leaf that requires grad."""
        # (the autograd API works on tensors, a layer above: Note [Two layers in one package])
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same data (shared, with the same version counter), cut from the graph."""
        alias = self._alias(requires_grad=False)
        alias._origin = ORIGIN_DETACH
        return alias

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self.grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        self._origin = ORIGIN_DETACH
        return self

    def _alias(self, requires_grad: bool) -> Tensor:
        alias = Tensor.__new__(Tensor)
        alias._setup(self._data, None, 0, own_counter(self))
        alias._requires_grad = requires_grad
        return alias

    @property
    def data(self) -> Tensor:
        """The same storage as a tensor outside autograd (with its own version counter)."""
        alias = Tensor._make(self._data)
        alias._origin = ORIGIN_DATA
        return alias

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data
        self._meta = value._meta

    @property
    def _version(self) -> int:
        return int(self._version_counter[0])

    def _bump_version(self) -> None:
        """Count one in-place change of this tensor's storage."""
        own_counter(self)[0] += 1

    def _is_view(self) -> bool:
        return self._base is not None

    # ------------------------------------------------------------------
    # Array attributes

    @property
    def shape(self) -> Size:
        """The size of each dimension, as a `retrograd.Size`."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape (a `retrograd.Size`), or the size of dimension `dim`."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def dtype(self) -> _DType:
        """The element type (`retrograd.float32`, ...)."""
        return _dtype._BY_NUMPY[self._data.dtype]

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def ndimension(self) -> int:
        """The number of dimensions (an alias of `dim()`)."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def nelement(self) -> int:
        """The number of elements (an alias of `numel()`)."""
        return self._data.size

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self._data.itemsize

    @property
    def device(self) -> device:
        """Where the data lives: always the CPU in this build."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        """False: this build computes on the CPU."""
        return False

    @property
    def is_floating_point_type(self) -> bool:
        """True if the dtype is a floating point type."""
        return self.dtype.is_floating_point

    def is_floating_point(self) -> bool:
        """True if the dtype is a floating point type."""
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        """False: retrograd has no complex dtypes."""
        return False

    def is_contiguous(self) -> bool:
        """True if the elements lie in memory in row-major order without gaps."""
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        """The step in elements between neighbours along each dimension (or along `dim`)."""
        strides = tuple(step // self._data.itemsize for step in self._data.strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def _wrap_dim(self, dim: int) -> int:
        """`dim` as a non-negative index, with PyTorch's IndexError when out of range."""
        ndim = max(self._data.ndim, 1)
        if not -ndim <= dim < ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                f"but got {dim})"
            )
        return dim % ndim

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------------
    # Conversion

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array that shares this tensor's memory (a write shows in both).

        As PyTorch, a tensor that requires grad is refused (NumPy cannot record the
        operations done on the array); `force=True` detaches first, and still shares memory.
        """
        if self._requires_grad and not force:
            raise RuntimeError(_NUMPY_OF_GRAD_TENSOR)
        if type(self._data) is not np.ndarray and _is_zero_gradient(self._data):
            return _zero_gradient_as_array(self._data, force)
        return self._data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """NumPy's conversion protocol: `np.asarray(tensor)` shares memory, as `tensor.numpy()`.

        A tensor that requires grad is refused as in `numpy()`. `copy=True` always copies and
        `copy=False` refuses (ValueError) a conversion that would have to copy.
        """
        if self._requires_grad:
            raise RuntimeError(_NUMPY_OF_GRAD_TENSOR)
        if type(self._data) is not np.ndarray and _is_zero_gradient(self._data):
            _zero_gradient_as_array(self._data, force=False)  # (refused, as numpy())
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            if copy is False:
                raise ValueError(
                    f"Unable to avoid a copy: converting a {self.dtype} tensor to NumPy dtype "
                    f"{np.dtype(dtype)} makes new data"
                )
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """NumPy functions applied to tensors give tensors, as in PyTorch: `np.exp(t)` is a tensor.

        The result owns NumPy's new array (no copy). As PyTorch does, a boolean result becomes
        uint8 (`np.greater(t, 0)` is a uint8 tensor); a dtype retrograd lacks stays an array.
        """
        array = np.asarray(array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        if array.dtype not in _dtype._BY_NUMPY:
            return array
        return Tensor._make(array)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export this tensor's memory as a DLPack capsule (no copy), for `from_dlpack` elsewhere.

        `numpy.from_dlpack`, `torch.from_dlpack`, JAX and CuPy read it. A tensor that requires
        grad is refused with BufferError, as in PyTorch.
        """
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        """The DLPack device of this tensor's memory: (1, 0), the CPU."""
        return self._data.__dlpack_device__()

    def cpu(self, memory_format=None) -> Tensor:
        """This tensor on the CPU: the tensor itself (retrograd's tensors all live there)."""
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """Refused: this build computes on the CPU (see `retrograd.cuda.is_available()`)."""
        _check_device("cuda" if device is None else _cuda_device(device))
        return self

    @property
    def is_cpu(self) -> bool:
        """Always True: retrograd computes on the CPU."""
        return True

    def get_device(self) -> int:
        """The index of the GPU holding this tensor, or -1 for the CPU (always -1 here)."""
        return -1

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        """The elements as (nested) Python numbers."""
        return self._data.tolist()

    def _one_element(self, kind: str):
        if self._data.size != 1:
            raise RuntimeError(
                f"{kind} of a Tensor with {self._data.size} elements is ambiguous"
                if kind == "Boolean value"
                else "only one element tensors can be converted to Python scalars"
            )
        return self._data.reshape(()).item()

    def __bool__(self) -> bool:
        return bool(self._one_element("Boolean value"))

    def __float__(self) -> float:
        return float(self._one_element("float"))

    def __int__(self) -> int:
        return int(self._one_element("int"))

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (`f"{tensor(0.5)}"` is `0.5`, as in PyTorch)."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return format(repr(self), spec)

    # ------------------------------------------------------------------
    # Printing

    def __repr__(self) -> str:
        suffixes = []
        implied = (_dtype.get_default_dtype(),)
        if self._data.size:
            implied += (_dtype.int64, _dtype.bool)
        if self.dtype not in implied:
            suffixes.append(f"dtype={self.dtype!r}")
        if is_spoiled(self):
            suffixes.append("grad_fn=<Invalid>")  # as PyTorch prints a view it will not rebuild
        elif self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        tangent = getattr(self, "_fw_grad", None)  # see Note [Dual tensors] (forward_ad.py)
        if tangent is not None:
            suffixes.append(f"tangent={tangent.item() if tangent.ndim == 0 else tangent!r}")
        return format_tensor(self._data, suffixes=suffixes)

    __str__ = __repr__

    # ------------------------------------------------------------------
    # Pickling (copy.deepcopy and multiprocessing; files use retrograd.save)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor, (self._data.copy(), self._requires_grad))  # a non-leaf too, as PyTorch

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        copied = type(self).__new__(type(self))
        copied._setup(self._data.copy(), None, 0, new_version_counter())
        copied._requires_grad = self._requires_grad
        if self._grad is not None:
            copied._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = copied
        return copied


# What the class body defines; every other attribute of Tensor is attached by the op table (see
# Note [Where Tensor methods come from] in ops/_table.py).
CLASS_BODY = frozenset(vars(Tensor))


def _rebuild_tensor(array: np.ndarray, requires_grad: bool) -> Tensor:
    tensor = Tensor._make(array)
    tensor._requires_grad = requires_grad
    return tensor


_graph._tensor_class = Tensor
