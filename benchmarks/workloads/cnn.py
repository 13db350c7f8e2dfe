"""w7: one SGD step of a small CNN on batches of 8x8 single-channel images.

conv 3x3 (1 -> 16 channels, padding 1) -> ReLU -> 2x2 max-pool -> flatten (256) ->
linear (256 -> 10) -> cross-entropy. The images are synthetic, shaped and scaled like
scikit-learn's 8x8 digits (the timing does not depend on their content).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._base import Unavailable, Workload, constant, leaf, sgd_update, torch_like
from .mlp import LEARNING_RATE, softmax_cross_entropy_grad

CHANNELS = 16
CLASSES = 10


def cnn_problem(quick: bool) -> dict:
    rng = np.random.default_rng(5)
    batch = 8 if quick else 128
    images = (rng.integers(0, 17, (batch, 1, 8, 8)) / 16).astype(np.float32)
    conv_bound = 1 / 3
    linear_bound = 1 / 16
    return {
        "images": images,
        "targets": rng.integers(0, CLASSES, batch),
        "parameters": [
            rng.uniform(-conv_bound, conv_bound, (CHANNELS, 1, 3, 3)).astype(np.float32),
            rng.uniform(-conv_bound, conv_bound, CHANNELS).astype(np.float32),
            rng.uniform(-linear_bound, linear_bound, (CHANNELS * 16, CLASSES)).astype(np.float32),
            rng.uniform(-linear_bound, linear_bound, CLASSES).astype(np.float32),
        ],
    }


def image_columns(images: np.ndarray) -> np.ndarray:
    """im2col: one row of 3x3 input patches per output pixel, (batch * 64, 9)."""
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(padded, (3, 3), axis=(2, 3))  # (batch, 1, 8, 8, 3, 3)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(len(images) * 64, 9)


def numpy_cnn_step(np_module, problem):
    images, targets = problem["images"], problem["targets"]
    parameters = [array.copy() for array in problem["parameters"]]
    conv_weight, conv_bias, linear_weight, linear_bias = parameters
    batch = len(images)

    def step():
        columns = image_columns(images)
        features = columns @ conv_weight.reshape(CHANNELS, 9).T + conv_bias  # channels last
        activated = np.maximum(features, 0).reshape(batch, 4, 2, 4, 2, CHANNELS)
        pooled = activated.max(axis=(2, 4))
        flat = pooled.transpose(0, 3, 1, 2).reshape(batch, -1)  # PyTorch's (C, H, W) order
        grad_logits = softmax_cross_entropy_grad(flat @ linear_weight + linear_bias, targets)
        grad_pooled = (grad_logits @ linear_weight.T).reshape(batch, CHANNELS, 4, 4).transpose(0, 2, 3, 1)
        winners = activated == pooled[:, :, None, :, None, :]
        grad_features = (winners * grad_pooled[:, :, None, :, None, :]).reshape(-1, CHANNELS)
        grad_features *= features > 0
        grads = [
            (grad_features.T @ columns).reshape(CHANNELS, 1, 3, 3),
            grad_features.sum(0),
            flat.T @ grad_logits,
            grad_logits.sum(0),
        ]
        for parameter, grad in zip(parameters, grads):
            parameter -= LEARNING_RATE * grad
        return grads

    return step


@torch_like(
    "relu",
    "matmul",
    "nn.functional.conv2d",
    "nn.functional.max_pool2d",
    "nn.functional.cross_entropy",
)
def torch_like_cnn_step(T, problem):
    images, targets = constant(T, problem["images"]), T.from_numpy(problem["targets"].copy())
    parameters = [leaf(T, array) for array in problem["parameters"]]
    functional = T.nn.functional
    batch = len(problem["images"])

    def step():
        for parameter in parameters:
            parameter.grad = None
        conv_weight, conv_bias, linear_weight, linear_bias = parameters
        features = T.relu(functional.conv2d(images, conv_weight, conv_bias, padding=1))
        flat = functional.max_pool2d(features, 2).reshape(batch, -1)
        functional.cross_entropy(flat @ linear_weight + linear_bias, targets).backward()
        sgd_update(T, parameters, LEARNING_RATE)
        return [p.grad for p in parameters]

    return step


def autograd_cnn_step(module, problem):
    import autograd.numpy as anp

    images, targets = problem["images"], problem["targets"]
    parameters = [array.copy() for array in problem["parameters"]]
    batch = len(images)
    rows = np.arange(batch)

    def loss(parameters, columns):
        conv_weight, conv_bias, linear_weight, linear_bias = parameters
        features = anp.dot(columns, anp.reshape(conv_weight, (CHANNELS, 9)).T) + conv_bias
        activated = anp.reshape(anp.maximum(features, 0), (batch, 4, 2, 4, 2, CHANNELS))
        pooled = anp.max(activated, axis=(2, 4))
        flat = anp.reshape(anp.transpose(pooled, (0, 3, 1, 2)), (batch, -1))
        logits = anp.dot(flat, linear_weight) + linear_bias
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_probabilities = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_probabilities[rows, targets])

    gradient = module.grad(loss)

    def step():
        grads = gradient(parameters, image_columns(images))
        for parameter, grad in zip(parameters, grads):
            parameter -= LEARNING_RATE * grad
        return list(grads)

    return step


def mygrad_cnn_step(module, problem):
    from mygrad.nnet import conv_nd, max_pool, relu, softmax_crossentropy

    images, targets = problem["images"], problem["targets"]
    parameters = [module.tensor(array.copy()) for array in problem["parameters"]]
    batch = len(images)

    def step():
        conv_weight, conv_bias, linear_weight, linear_bias = parameters
        features = relu(conv_nd(images, conv_weight, stride=1, padding=1) + conv_bias.reshape(1, -1, 1, 1))
        flat = max_pool(features, (2, 2), 2).reshape(batch, -1)
        softmax_crossentropy(module.matmul(flat, linear_weight) + linear_bias, targets).backward()
        grads = [p.grad for p in parameters]
        for parameter, grad in zip(parameters, grads):
            parameter.data -= LEARNING_RATE * grad
        return grads

    return step


def _micrograd_unsupported(module, problem):
    raise Unavailable("no convolution; scalar engine")


def w7() -> Workload:
    return Workload(
        key="w7",
        title="small CNN training step on 8x8 images, batch 128 (conv3x3-16, ReLU, maxpool, linear)",
        unit="ms",
        make_problem=cnn_problem,
        builders={
            "numpy": numpy_cnn_step,
            "retrograd": torch_like_cnn_step,
            "torch": torch_like_cnn_step,
            "autograd": autograd_cnn_step,
            "mygrad": mygrad_cnn_step,
            "micrograd": _micrograd_unsupported,
        },
        rtol=2e-3,
        atol=1e-6,
    )
