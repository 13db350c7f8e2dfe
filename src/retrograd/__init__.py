"""retrograd: a readable define-by-run autograd engine on NumPy, with PyTorch's semantics.

Code written for PyTorch's autograd runs unchanged with `import retrograd as torch`.
"""

import math

from . import _dtype, accelerator, autograd, backends, cuda, linalg, nn, ops, optim, random, utils
from ._creation import (
    Generator,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    get_rng_state,
    initial_seed,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from ._device import device, get_default_device, set_default_device
from ._dtype import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from ._explain import explain
from ._legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    range,
    set_default_tensor_type,
    typename,
)
from ._printing import get_printoptions, set_printoptions
from ._tensor import Size, Tensor
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops import composite as _composite_ops
from .ops import unique as _unique_ops  # registers unique and unique_consecutive
from .random import bernoulli, binomial, poisson
from .random import multinomial_function as multinomial
from .random import normal_function as normal
from .serialization import load, save

autograd._bind_upper_layer()  # see Note [Two layers in one package] (autograd/__init__.py)

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None


def detach(input: Tensor) -> Tensor:
    """`input.detach()`: the same data, cut from the graph."""
    return input.detach()


def is_inference(input: Tensor) -> bool:
    """Whether `input` was made in inference mode."""
    return input.is_inference()


def result_type(tensor1, tensor2) -> dtype:
    """The dtype of an arithmetic operation on the two operands (PyTorch's promotion)."""
    return _dtype.result_type(tensor1, tensor2)


def is_tensor(obj) -> bool:
    """True if `obj` is a retrograd Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True if `input` has a floating point dtype (float16, float32 or float64)."""
    return input.dtype.is_floating_point


def numel(input: Tensor) -> int:
    """The number of elements of `input`."""
    return input.numel()


def _export_op_table() -> None:
    """Make every op of the table a function of this module (`retrograd.mul`, ...)."""
    namespace = globals()
    for info in ops.table.values():
        if namespace.get(info.name, info.function) is getattr(info.function, "__wrapped__", None):
            namespace[info.name] = info.function  # the checked form (Note [Checked arguments])
        namespace.setdefault(info.name, info.function)
    for module in ops.MODULES:
        for name in module.__all__:
            namespace.setdefault(name, getattr(module, name))


random._register_ops()
_export_op_table()

from . import _shape_inplace, _tensor_extras  # noqa: E402, I001  (methods composed of ops of the table)
globals().update({name: form for name, form in _shape_inplace.function_forms().items()
                  if name not in globals()})
for _name in _composite_ops.__all__:
    globals().setdefault(_name, getattr(_composite_ops, _name))

from . import _runtime  # noqa: E402  (settings and helpers of the torch namespace)

for _name in _runtime.__all__:
    globals().setdefault(_name, getattr(_runtime, _name))

from . import _functional_forms  # noqa: E402  (functionals PyTorch also has as torch.* names)

for _name in _functional_forms.__all__:
    globals().setdefault(_name, getattr(_functional_forms, _name))

from . import distributions, func, profiler, special, testing, viz  # noqa: E402, I001  (imported once the op table is complete)
from .func import vmap  # noqa: E402  (torch.vmap is torch.func.vmap)

from . import _public  # noqa: E402  (names the public classes' modules once all exist)

_public.publish()
_public.silence_numpy_floating_point_warnings()

__version__ = "0.1.0"
