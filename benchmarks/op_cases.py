"""The ops `python -m benchmarks.ops` times, one declaration each, through public APIs only.

Why these 32: they are the ops of PyTorch's beginner tutorials (the 60-minute blitz, "what
is torch.nn really", the classifier and MLP examples) and of this suite's workloads
(benchmarks/workloads: the small-op chain's add/mul/sin/exp/tanh, the MLP's linear, relu,
cross_entropy and mse_loss, the CNN's conv2d/max_pool2d/reshape): the four arithmetic ops
and their scalar friends (neg, pow), the pointwise functions every activation or loss is
made of (sqrt, exp, log, sin, tanh, sigmoid, relu, clamp, where), the reductions (sum,
mean, max), the two matrix products (matmul, linear), the view and copy ops data passes
through (reshape, transpose, slicing, cat), and the nn functions of a small classifier
(softmax, log_softmax, cross_entropy, mse_loss, conv2d, max_pool2d, layer_norm, dropout
in eval mode).

Each op is written once for the PyTorch API (`torch_like(T, F, *inputs)`, run unchanged by
retrograd and PyTorch), once on NumPy-style modules where HIPS autograd (autograd.numpy) and
MyGrad have the op as one primitive (`array_like(np, *inputs)`), and once as the plain
NumPy kernel that computes the same forward (`kernel`, the floor). Every input the op is
differentiated by requires a gradient; `constants` (class targets, masks, regression
targets) do not.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class OpCase:
    name: str
    make: Callable[[int, np.random.Generator], tuple[list[np.ndarray], list[np.ndarray]]]
    torch_like: Callable  # (T, F, *inputs, *constants) -> tensor
    kernel: Callable  # (*inputs, *constants) on float32 NumPy arrays -> array
    array_like: Callable | None = None  # (np-like module, *inputs, *constants): autograd and MyGrad
    mygrad: Callable | None = None  # (mygrad, *inputs, *constants) where MyGrad's name differs
    autograd_missing: str = ""  # why HIPS autograd has no such op
    mygrad_missing: str = ""
    shape_note: str = ""  # how the size maps to shapes, for the report

    def for_library(self, library: str) -> Callable | None:
        if library == "mygrad":
            return self.mygrad or (None if self.mygrad_missing else self.array_like)
        if library == "autograd":
            return None if self.autograd_missing else self.array_like
        return self.torch_like

    def missing(self, library: str) -> str:
        return {"autograd": self.autograd_missing, "mygrad": self.mygrad_missing}.get(library, "")


# -- inputs: `size` elements of float32 per differentiable input ------------------------------


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape).astype(np.float32)


def _positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape).astype(np.float32)


def _side(size: int) -> int:
    side = math.isqrt(size)
    if side * side != size:
        raise ValueError(f"size {size} is not a square")
    return side


def vectors(count: int, positive: bool = False):
    def make(size, rng):
        draw = (_positive if positive else _normal)(size)
        return [draw(rng) for _ in range(count)], []

    return make


def _numerator_and_positive(size, rng):
    return [_normal(size)(rng), _positive(size)(rng)], []


def _matrices(count: int):
    def make(size, rng):
        side = _side(size)
        return [_normal(side, side)(rng) for _ in range(count)], []

    return make


def _linear_inputs(size, rng):
    side = _side(size)
    return [_normal(side, side)(rng), _normal(side, side)(rng), _normal(side)(rng)], []


def _layer_norm_inputs(size, rng):
    side = _side(size)
    return [_normal(side, side)(rng), _positive(side)(rng), _normal(side)(rng)], []


def _where_inputs(size, rng):
    x, y = _normal(size)(rng), _normal(size)(rng)
    return [x, y], [x > 0]


def _classification_inputs(size, rng):
    side = _side(size)
    return [_normal(side, side)(rng)], [rng.integers(0, side, side).astype(np.int64)]


def _regression_inputs(size, rng):
    return [_normal(size)(rng)], [_normal(size)(rng)]


def _image_shape(size: int) -> tuple[int, int, int, int]:
    """16 -> (1, 1, 4, 4); 1024 -> (1, 4, 16, 16): `size` elements, channels grow with size."""
    channels = 1 if size < 256 else 4
    side = _side(size // channels)
    return (1, channels, side, side)


def _image_inputs(size, rng):
    return [_normal(*_image_shape(size))(rng)], []


def _convolution_inputs(size, rng):
    shape = _image_shape(size)
    channels = shape[1]
    weight = (_normal(channels, channels, 3, 3)(rng) / 3).astype(np.float32)
    return [_normal(*shape)(rng), weight], []


# -- NumPy kernels of the nn ops --------------------------------------------------------------


def _softmax_kernel(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _log_softmax_kernel(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _cross_entropy_kernel(x, target):
    return -_log_softmax_kernel(x)[np.arange(len(target)), target].mean()


def _conv2d_kernel(x, weight):
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    return np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)


def _max_pool2d_kernel(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _layer_norm_kernel(x, weight, bias):
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-5) * weight + bias


def _mygrad_nnet(name: str):
    def call(mg, *arguments, **keywords):
        import mygrad.nnet

        return getattr(mygrad.nnet, name)(*arguments, **keywords)

    return call


NO_NN = "no nn functions in autograd.numpy"


CASES = (
    OpCase("add", vectors(2), lambda T, F, x, y: x + y, np.add, lambda np, x, y: x + y),
    OpCase("sub", vectors(2), lambda T, F, x, y: x - y, np.subtract, lambda np, x, y: x - y),
    OpCase("mul", vectors(2), lambda T, F, x, y: x * y, np.multiply, lambda np, x, y: x * y),
    OpCase("div", _numerator_and_positive, lambda T, F, x, y: x / y, np.divide, lambda np, x, y: x / y),
    OpCase("neg", vectors(1), lambda T, F, x: -x, np.negative, lambda np, x: -x),
    OpCase("pow", vectors(1), lambda T, F, x: x**2, lambda x: x**2, lambda np, x: x**2, shape_note="x ** 2"),
    OpCase("sqrt", vectors(1, positive=True), lambda T, F, x: T.sqrt(x), np.sqrt, lambda np, x: np.sqrt(x)),
    OpCase("exp", vectors(1), lambda T, F, x: T.exp(x), np.exp, lambda np, x: np.exp(x)),
    OpCase("log", vectors(1, positive=True), lambda T, F, x: T.log(x), np.log, lambda np, x: np.log(x)),
    OpCase("sin", vectors(1), lambda T, F, x: T.sin(x), np.sin, lambda np, x: np.sin(x)),
    OpCase("tanh", vectors(1), lambda T, F, x: T.tanh(x), np.tanh, lambda np, x: np.tanh(x)),
    OpCase(
        "sigmoid",
        vectors(1),
        lambda T, F, x: T.sigmoid(x),
        lambda x: 1 / (1 + np.exp(-x)),
        mygrad=_mygrad_nnet("sigmoid"),
        autograd_missing="sigmoid is in autograd.scipy, not autograd.numpy",
    ),
    OpCase(
        "relu",
        vectors(1),
        lambda T, F, x: F.relu(x),
        lambda x: np.maximum(x, 0),
        lambda np, x: np.maximum(x, 0.0),
        mygrad=_mygrad_nnet("relu"),
        shape_note="autograd: np.maximum(x, 0)",
    ),
    OpCase(
        "clamp",
        vectors(1),
        lambda T, F, x: x.clamp(-0.5, 0.5),
        lambda x: np.clip(x, -0.5, 0.5),
        lambda np, x: np.clip(x, -0.5, 0.5),
        shape_note="clamp(-0.5, 0.5)",
    ),
    OpCase(
        "where",
        _where_inputs,
        lambda T, F, x, y, c: T.where(c, x, y),
        lambda x, y, c: np.where(c, x, y),
        lambda np, x, y, c: np.where(c, x, y),
    ),
    OpCase("sum", vectors(1), lambda T, F, x: x.sum(), np.sum, lambda np, x: np.sum(x)),
    OpCase("mean", vectors(1), lambda T, F, x: x.mean(), np.mean, lambda np, x: np.mean(x)),
    OpCase(
        "max", vectors(1), lambda T, F, x: x.max(), np.max, lambda np, x: np.max(x), shape_note="full max()"
    ),
    OpCase(
        "matmul",
        _matrices(2),
        lambda T, F, x, y: x @ y,
        np.matmul,
        lambda np, x, y: np.matmul(x, y),
        shape_note="square matrices",
    ),
    OpCase(
        "linear",
        _linear_inputs,
        lambda T, F, x, w, b: F.linear(x, w, b),
        lambda x, w, b: x @ w.T + b,
        autograd_missing=NO_NN,
        mygrad_missing="no linear function (only the Dense layer class)",
        shape_note="square x and weight, bias",
    ),
    OpCase(
        "reshape",
        vectors(1),
        lambda T, F, x: x.reshape(-1, _side(x.shape[0])),
        lambda x: x.reshape(-1, _side(x.shape[0])),
        lambda np, x: np.reshape(x, (-1, _side(x.shape[0]))),
        shape_note="vector to square",
    ),
    OpCase(
        "transpose",
        _matrices(1),
        lambda T, F, x: x.transpose(0, 1),
        np.transpose,
        lambda np, x: np.transpose(x),
        shape_note="square matrix",
    ),
    OpCase(
        "getitem",
        vectors(1),
        lambda T, F, x: x[1:-1],
        lambda x: x[1:-1],
        lambda np, x: x[1:-1],
        shape_note="x[1:-1]",
    ),
    OpCase(
        "cat",
        vectors(2),
        lambda T, F, x, y: T.cat([x, y]),
        lambda x, y: np.concatenate([x, y]),
        lambda np, x, y: np.concatenate([x, y]),
    ),
    OpCase(
        "softmax",
        _matrices(1),
        lambda T, F, x: F.softmax(x, dim=-1),
        _softmax_kernel,
        mygrad=_mygrad_nnet("softmax"),
        autograd_missing=NO_NN,
        shape_note="square matrix, last dim",
    ),
    OpCase(
        "log_softmax",
        _matrices(1),
        lambda T, F, x: F.log_softmax(x, dim=-1),
        _log_softmax_kernel,
        mygrad=_mygrad_nnet("logsoftmax"),
        autograd_missing=NO_NN,
        shape_note="square matrix, last dim",
    ),
    OpCase(
        "cross_entropy",
        _classification_inputs,
        lambda T, F, x, t: F.cross_entropy(x, t),
        _cross_entropy_kernel,
        mygrad=_mygrad_nnet("softmax_crossentropy"),
        autograd_missing=NO_NN,
        shape_note="square logits, class targets",
    ),
    OpCase(
        "mse_loss",
        _regression_inputs,
        lambda T, F, x, t: F.mse_loss(x, t),
        lambda x, t: np.mean((x - t) ** 2),
        autograd_missing=NO_NN,
        mygrad_missing="no mse loss function",
        shape_note="target does not require grad",
    ),
    OpCase(
        "conv2d",
        _convolution_inputs,
        lambda T, F, x, w: F.conv2d(x, w, padding=1),
        _conv2d_kernel,
        mygrad=lambda mg, x, w: _mygrad_nnet("conv_nd")(mg, x, w, stride=1, padding=1),
        autograd_missing="autograd.scipy's convolve is not conv2d",
        shape_note="(1,1,4,4) or (1,4,16,16), 3×3 kernel, padding 1, no bias",
    ),
    OpCase(
        "max_pool2d",
        _image_inputs,
        lambda T, F, x: F.max_pool2d(x, 2),
        _max_pool2d_kernel,
        mygrad=lambda mg, x: _mygrad_nnet("max_pool")(mg, x, (2, 2), 2),
        autograd_missing=NO_NN,
        shape_note="2×2 windows",
    ),
    OpCase(
        "layer_norm",
        _layer_norm_inputs,
        lambda T, F, x, w, b: F.layer_norm(x, (x.shape[-1],), w, b),
        _layer_norm_kernel,
        autograd_missing=NO_NN,
        mygrad_missing="no layer norm",
        shape_note="square x, last dim, weight and bias",
    ),
    OpCase(
        "dropout_eval",
        vectors(1),
        lambda T, F, x: F.dropout(x, 0.5, training=False),
        lambda x: x,
        autograd_missing=NO_NN,
        mygrad_missing="no dropout",
        shape_note="F.dropout(x, 0.5, training=False)",
    ),
)

BY_NAME = {case.name: case for case in CASES}
