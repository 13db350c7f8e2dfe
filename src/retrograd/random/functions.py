"""PyTorch's CPU random numbers, as the library uses them: masks and noise for
nn.functional, and the Tensor methods and functions that draw (rand, randn, normal_, ...)."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .._vmap_state import draws_per_example_reading_inputs
from ..autograd import grad_mode
from .distributions import (
    _bernoulli_scalar,
    _bernoulli_tensor,
    _check_floating,
    _double_uniform,
    _exponential,
    _full_range,
    _integers,
    _libm,
    _multinomial,
    _normal,
    _normal_scalar,
    _opmath,
    _uniform,
)
from .generator import Generator, _generator
from .rejection import _binomial, _poisson

# ---------------------------------------------------------------------------
# Masks and noise for nn.functional


def _dropout_mask(shape, p: float, numpy_dtype, generator: Generator | None = None) -> np.ndarray:
    """PyTorch's dropout noise: bernoulli(1 - p) values divided by (1 - p) in the input's
    dtype (all zeros, with no draw, when p == 1)."""
    numpy_dtype = np.dtype(numpy_dtype)
    if p == 1:
        return np.zeros(shape, numpy_dtype)
    count = math.prod(shape)
    keep = _bernoulli_scalar(generator, count, 1 - p).reshape(shape)
    return keep.astype(numpy_dtype) / numpy_dtype.type(1 - p)


def _rrelu_noise(input_array: np.ndarray, lower: float, upper: float,
                generator: Generator | None = None) -> np.ndarray:
    """Training rrelu's slopes: a double uniform in [lower, upper) for each element <= 0
    (in C order), 1 elsewhere. (PyTorch's rrelu kernel is compiled without fused
    multiply-adds, so the uniform's scaling rounds twice here.)"""
    negative = input_array <= 0
    opmath = _opmath(input_array.dtype)
    lower, upper = float(opmath.type(lower)), float(opmath.type(upper))  # bounds in opmath
    slopes = np.ones(input_array.shape, opmath)
    count = int(negative.sum())
    if count:
        unit = _double_uniform(_generator(generator), count)
        slopes[negative] = unit * (upper - lower) + lower
    return slopes.astype(input_array.dtype)


# ---------------------------------------------------------------------------
# Tensor methods and functions


def _memory_order(array: np.ndarray) -> np.ndarray | None:
    """Flat C-order indices of `array` in the order of its memory (None when that is C
    order): PyTorch's kernels visit a strided tensor's elements as they lie in memory."""
    if array.flags.c_contiguous or array.size <= 1:
        return None
    offsets = np.zeros(array.shape, np.int64)
    for axis, stride in enumerate(array.strides):
        shape = [1] * array.ndim
        shape[axis] = array.shape[axis]
        offsets = offsets + np.arange(array.shape[axis], dtype=np.int64).reshape(shape) * stride
    return np.argsort(offsets.reshape(-1), kind="stable")


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write draws (in memory order) into `tensor` in place."""
    if grad_mode._state.grad_enabled and tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if tensor._is_inference and not grad_mode._state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
            "a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details."
        )
    data = tensor._data
    order = _memory_order(data)
    if order is None:
        data[...] = values.reshape(data.shape)
    else:
        flat = np.empty(data.size, data.dtype)
        flat[order] = values
        data[...] = flat.reshape(data.shape)
    tensor._bump_version()
    return tensor


def _number(value) -> float:
    return value.item() if isinstance(value, Tensor) else value


def _pop_from(kwargs: dict, default, method: str):
    """PyTorch's keyword `from` (a Python keyword, so it arrives in **kwargs)."""
    value = kwargs.pop("from", default)
    if kwargs:
        raise TypeError(f"{method}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return value


def uniform_(self: Tensor, from_: float = 0, to: float = 1, *, generator=None, **kwargs) -> Tensor:
    """Fill with uniform values in [from, to)."""
    from_ = _pop_from(kwargs, from_, "uniform_")
    values = _uniform(generator, self._data.size, self._data.dtype, _number(from_), _number(to))
    return _fill(self, values)


def normal_(self: Tensor, mean: float = 0, std: float = 1, *, generator=None) -> Tensor:
    """Fill with normal values of the given mean and standard deviation."""
    values = _normal(generator, self._data.size, self._data.dtype, _number(mean), _number(std),
                    contiguous=self._data.flags.c_contiguous)
    return _fill(self, values)


def random_(self: Tensor, from_=None, to=None, *, generator=None, **kwargs) -> Tensor:
    """Fill with integers: `random_()` over the dtype's range, `random_(to)` in [0, to),
    `random_(from, to)` in [from, to)."""
    from_ = _pop_from(kwargs, from_, "random_")
    count = self._data.size
    if from_ is None and to is None:
        values = _full_range(generator, count, self._data.dtype)
    else:
        low, high = (0, from_) if to is None else (from_, to)
        if low >= high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        values = _integers(generator, count, int(low), int(high))
    return _fill(self, values.astype(self._data.dtype))


def exponential_(self: Tensor, lambd: float = 1, *, generator=None) -> Tensor:
    """Fill with exponential values of rate `lambd`."""
    if self._data.dtype.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_dtype.scalar_type_name(self.dtype)}"
        )
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, _exponential(generator, self._data.size, lambd).astype(self._data.dtype))


def log_normal_(self: Tensor, mean: float = 1, std: float = 2, *, generator=None) -> Tensor:
    """Fill with exp of normal values (PyTorch draws these one scalar Box-Muller value at a time)."""
    _check_floating(self._data.dtype, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    standard = _normal_scalar(_generator(generator), self._data.size, mean, std)
    return _fill(self, _libm(math.exp, standard).astype(self._data.dtype))


def cauchy_(self: Tensor, median: float = 0, sigma: float = 1, *, generator=None) -> Tensor:
    """Fill with Cauchy values: median + sigma * tan(pi * (u - 1/2)) for double uniforms u."""
    _check_floating(self._data.dtype, "cauchy_cpu")
    uniforms = _double_uniform(_generator(generator), self._data.size)
    values = median + sigma * _libm(math.tan, math.pi * (uniforms - 0.5))
    return _fill(self, values.astype(self._data.dtype))


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    uniforms = _double_uniform(_generator(generator), self._data.size)
    values = np.ceil(_libm(math.log, uniforms) / math.log1p(-p))
    return _fill(self, values.astype(self._data.dtype))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 0/1 draws: 1 with probability p (a number, or a tensor broadcast to self)."""
    if isinstance(p, Tensor):
        probabilities = np.broadcast_to(p._data, self._data.shape)
        order = _memory_order(self._data)
        flat = probabilities.reshape(-1) if order is None else probabilities.reshape(-1)[order]
        values = _bernoulli_tensor(generator, np.ascontiguousarray(flat))
    else:
        values = _bernoulli_scalar(generator, self._data.size, p)
    return _fill(self, values.astype(self._data.dtype))


@draws_per_example_reading_inputs
def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 draws: 1 with probability `input` (elementwise), or with probability `p`.

    With `out=` (probabilities only, as PyTorch), the draws are made in `out`'s dtype."""
    if out is not None and p is not None:
        raise TypeError(
            "bernoulli() received an invalid combination of arguments: a number p takes no out= "
            "(use bernoulli(input, out=...) with probabilities in input)"
        )
    if out is not None:
        _check_out_call("bernoulli", out, (input,))
    dtype = input._data.dtype if out is None else out._data.dtype
    result = Tensor._make(np.empty(input._data.shape, dtype))
    if p is None:
        if input.dtype.is_floating_point and (
            np.any(input._data < 0) or np.any(input._data > 1)
        ):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        bernoulli_(result, input, generator=generator)
    else:
        bernoulli_(result, p, generator=generator)
    return result if out is None else _write_out(out, result, "bernoulli")


@draws_per_example_reading_inputs
def poisson(input: Tensor, generator=None) -> Tensor:
    """One Poisson draw per element, with the element as its rate (same shape and dtype);
    PyTorch's draws bit for bit (Note [PyTorch's Poisson draws])."""
    return Tensor._make(_poisson(generator, input._data))


@draws_per_example_reading_inputs
def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """One Binomial(count, prob) draw per element of the broadcast shape, in count's dtype;
    PyTorch's draws bit for bit (Note [PyTorch's binomial draws])."""
    if not count.dtype.is_floating_point:
        raise ValueError("binomial only supports floating-point dtypes for count, got: "
                         f"{_dtype.scalar_type_name(count.dtype)}")
    if prob.dtype is not count.dtype:
        raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(prob.dtype)} but expected "
                           f"{_dtype.scalar_type_name(count.dtype)}")
    return Tensor._make(_binomial(generator, count._data, prob._data))


@draws_per_example_reading_inputs
def multinomial_function(input: Tensor, num_samples: int, replacement: bool = False, *,
                         generator=None, out=None) -> Tensor:
    """Indices sampled from the rows of `input` (non-negative weights, 1-D or 2-D)."""
    if out is not None:
        if isinstance(out, Tensor) and out.dtype is not _dtype.int64:
            raise RuntimeError(
                f"multinomial expects Long tensor out, got: {_dtype.scalar_type_name(out.dtype)}"
            )
        drawn = multinomial_function(input, num_samples, replacement, generator=generator)
        return _write_out(out, drawn, "multinomial")
    weights = input._data
    if not 0 < weights.ndim <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if weights.dtype.kind != "f":
        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{_dtype.scalar_type_name(input.dtype)}"
        )
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = weights.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if categories > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = weights.reshape(-1, categories)
    if rows.shape[0] == 0:
        return Tensor._make(np.zeros((*weights.shape[:-1], num_samples), np.int64))
    if not replacement or num_samples == 1:  # PyTorch samples these through Exp(1) keys
        if not (np.all(rows < np.inf) and np.all(rows >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    else:
        if np.any(rows < 0):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.all(np.isfinite(rows)):
            raise RuntimeError(
                "invalid multinomial distribution (encountering probability entry = infinity or NaN)"
            )
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return Tensor._make(_multinomial(generator, weights, num_samples, replacement))


@draws_per_example_reading_inputs
def normal_function(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """Normal draws with numbers (`normal(mean, std, size)`) or tensors of means and stds.

    Tensors are broadcast together; as PyTorch, a tensor std scales standard draws."""
    if out is not None:
        return _normal_into(out, mean, std, size, generator, dtype)
    mean_is_tensor, std_is_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_is_tensor and not std_is_tensor:
        if size is None:
            raise TypeError("normal() missing required argument 'size'")
        from .._creation import _float_dtype, _size

        shape = _size((size,))
        numpy_dtype = _float_dtype(dtype).numpy
        result = Tensor._make(np.empty(shape, numpy_dtype))
        normal_(result, mean, std, generator=generator)
    else:
        like = mean if mean_is_tensor else std
        shape = np.broadcast_shapes(
            mean._data.shape if mean_is_tensor else (), std._data.shape if std_is_tensor else ()
        )
        result = Tensor._make(np.empty(shape, like._data.dtype))
        if std_is_tensor and np.any(std._data < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        if std_is_tensor:
            normal_(result, 0.0, 1.0, generator=generator)
            values = result._data * std._data.astype(result._data.dtype)
        else:
            normal_(result, 0.0, std, generator=generator)
            values = result._data
        mean_values = mean._data if mean_is_tensor else mean
        result._data[...] = values + np.asarray(mean_values, result._data.dtype)
    if requires_grad:
        result.requires_grad_(True)
    return result


def _normal_into(out, mean, std, size, generator, dtype) -> Tensor:
    """`normal(..., out=out)` as PyTorch's out variants draw it: in `out`'s dtype (a floating
    one), into `out` resized silently for numbers, with the resize warning when std is a tensor;
    a tensor mean with a number std is added into `out` as it is (it must take the mean's shape)."""
    mean_is_tensor, std_is_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    _check_out_call("normal" if mean_is_tensor or std_is_tensor else "aten::normal", out, (mean, std))
    if mean_is_tensor and not std_is_tensor:
        _check_adds_into(mean._data.shape, out._data.shape)
    if not out.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"normal_kernel_cpu\" not implemented for '{_dtype.scalar_type_name(out.dtype)}'"
        )
    if not mean_is_tensor and not std_is_tensor:
        drawn = normal_function(mean, std, size, generator=generator, dtype=dtype or out.dtype)
        return _write_out(out, drawn, "normal")
    if mean_is_tensor and not std_is_tensor:
        shape = out._data.shape
    else:
        shape = np.broadcast_shapes(mean._data.shape if mean_is_tensor else (), std._data.shape)
        if np.any(std._data < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    drawn = Tensor._make(np.empty(shape, out._data.dtype))
    normal_(drawn, 0.0, 1.0 if std_is_tensor else std, generator=generator)
    values = drawn._data * std._data.astype(drawn._data.dtype) if std_is_tensor else drawn._data
    mean_values = mean._data if mean_is_tensor else mean
    drawn._data[...] = values + np.asarray(mean_values, drawn._data.dtype)
    return _write_out(out, drawn, "normal", warn=std_is_tensor)


def _check_adds_into(shape: tuple, out_shape: tuple) -> None:
    """PyTorch's errors when a tensor of `shape` is added in place into one of `out_shape`."""
    ndim = max(len(shape), len(out_shape))
    padded, out_padded = (1,) * (ndim - len(shape)) + shape, (1,) * (ndim - len(out_shape)) + out_shape
    for dim in reversed(range(ndim)):
        if padded[dim] != out_padded[dim] and 1 not in (padded[dim], out_padded[dim]):
            raise RuntimeError(
                f"The size of tensor a ({padded[dim]}) must match the size of tensor b "
                f"({out_padded[dim]}) at non-singleton dimension {dim}"
            )
    broadcast = np.broadcast_shapes(shape, out_shape)
    if broadcast != tuple(out_shape):
        raise RuntimeError(
            f"output with shape [{', '.join(map(str, out_shape))}] doesn't match the broadcast shape "
            f"[{', '.join(map(str, broadcast))}]"
        )


def _check_out_call(name: str, out, inputs: tuple) -> None:
    """`out` is a tensor, and no input or `out` requires grad (Note [out= arguments])."""
    from ..ops import _out

    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    _out.check_no_grad(name, out, inputs)


def _write_out(out, result: Tensor, name: str, warn: bool = False) -> Tensor:
    """`out=` of a sampling function: see Note [out= arguments] (ops/_out.py)."""
    from ..ops import _out

    return _out.write(out, result, name, warn=warn)


# The in-place fillers are Tensor methods only (as in PyTorch), attached by the op table
# (ops/__init__.py): see Note [Where Tensor methods come from].
TENSOR_METHODS = {
    "uniform_": uniform_,
    "normal_": normal_,
    "random_": random_,
    "exponential_": exponential_,
    "bernoulli_": bernoulli_,
    "log_normal_": log_normal_,
    "cauchy_": cauchy_,
    "geometric_": geometric_,
}


def _register_ops() -> None:
    """Enter the public sampling functions in the op table (not differentiable), which makes
    `Tensor.bernoulli` and `Tensor.multinomial` and lists them on the operators page. Called by
    the package once the op table exists (the table's modules import this one)."""
    from ..ops._table import register

    register("bernoulli", methods="bernoulli", differentiable=False)(bernoulli)
    register("multinomial", methods="multinomial", differentiable=False)(multinomial_function)
    register("normal", differentiable=False)(normal_function)
    register("poisson", differentiable=False)(poisson)
    register("binomial", differentiable=False)(binomial)
