"""Multi-layer perceptrons: micrograd's demo (w2) and an MNIST-sized training step (w3).

Weights are `(inputs, outputs)` matrices used as `h @ W + b`, the same layout in every
library, so the gradients compare one to one.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._base import Unavailable, Workload, constant, leaf, sgd_update, torch_like, zero_grads

# ---------------------------------------------------------------------------
# w2: micrograd's demo. A 2-16-16-1 ReLU network scores the two-moons points; the loss
# is the mean hinge loss plus 1e-4 times the sum of squared parameters.

REGULARISATION = 1e-4


def two_moons(points: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's make_moons), labels -1 and 1."""
    outer = points // 2
    angles = np.concatenate([np.linspace(0, np.pi, outer), np.linspace(0, np.pi, points - outer)])
    upper = np.stack([np.cos(angles[:outer]), np.sin(angles[:outer])], axis=1)
    lower = np.stack([1 - np.cos(angles[outer:]), 0.5 - np.sin(angles[outer:])], axis=1)
    inputs = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (points, 2))
    labels = np.concatenate([-np.ones(outer), np.ones(points - outer)])
    return inputs, labels


def demo_problem(quick: bool) -> dict:
    rng = np.random.default_rng(1)
    inputs, labels = two_moons(20 if quick else 100, 0.1, rng)
    sizes = (2, 16, 16, 1)
    parameters = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        parameters.append(rng.uniform(-1.0, 1.0, (fan_in, fan_out)))
        parameters.append(np.zeros(fan_out))
    return {"inputs": inputs, "labels": labels[:, None], "parameters": parameters}


def numpy_demo(np_module, problem):
    inputs, labels, parameters = problem["inputs"], problem["labels"], problem["parameters"]
    w1, b1, w2, b2, w3, b3 = parameters

    def step():
        z1 = inputs @ w1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2 + b2
        h2 = np.maximum(z2, 0)
        scores = h2 @ w3 + b3
        margins = 1 - labels * scores
        grad_margins = (margins > 0) / len(inputs)
        grad_scores = -labels * grad_margins
        grad_z2 = (grad_scores @ w3.T) * (z2 > 0)
        grad_z1 = (grad_z2 @ w2.T) * (z1 > 0)
        grads = [
            inputs.T @ grad_z1, grad_z1.sum(0),
            h1.T @ grad_z2, grad_z2.sum(0),
            h2.T @ grad_scores, grad_scores.sum(0),
        ]
        return [grad + 2 * REGULARISATION * weight for grad, weight in zip(grads, parameters)]

    return step


@torch_like("relu", "matmul")
def torch_like_demo(T, problem):
    inputs, labels = constant(T, problem["inputs"]), constant(T, problem["labels"])
    parameters = [leaf(T, array) for array in problem["parameters"]]

    def step():
        zero_grads(parameters)
        w1, b1, w2, b2, w3, b3 = parameters
        hidden = T.relu(T.relu(inputs @ w1 + b1) @ w2 + b2)
        scores = hidden @ w3 + b3
        data_loss = T.relu(1 - labels * scores).mean()
        loss = data_loss + REGULARISATION * sum((p * p).sum() for p in parameters)
        loss.backward()
        return [p.grad for p in parameters]

    return step


def autograd_demo(module, problem):
    import autograd.numpy as anp

    inputs, labels = problem["inputs"], problem["labels"]
    parameters = [array.copy() for array in problem["parameters"]]

    def loss(parameters):
        w1, b1, w2, b2, w3, b3 = parameters
        hidden = anp.maximum(anp.maximum(anp.dot(inputs, w1) + b1, 0) @ w2 + b2, 0)
        scores = anp.dot(hidden, w3) + b3
        data_loss = anp.mean(anp.maximum(1 - labels * scores, 0))
        return data_loss + REGULARISATION * sum(anp.sum(p * p) for p in parameters)

    gradient = module.grad(loss)
    return lambda: list(gradient(parameters))


def mygrad_demo(module, problem):
    from mygrad.nnet import relu

    inputs, labels = problem["inputs"], problem["labels"]
    parameters = [module.tensor(array.copy()) for array in problem["parameters"]]

    def step():
        w1, b1, w2, b2, w3, b3 = parameters
        hidden = relu(module.matmul(relu(module.matmul(inputs, w1) + b1), w2) + b2)
        scores = module.matmul(hidden, w3) + b3
        data_loss = relu(1 - labels * scores).mean()
        loss = data_loss + REGULARISATION * sum((p * p).sum() for p in parameters)
        loss.backward()
        return [p.grad for p in parameters]

    return step


def micrograd_demo(module, problem):
    from micrograd.nn import MLP

    inputs = problem["inputs"].tolist()
    labels = problem["labels"][:, 0].tolist()
    model = MLP(2, [16, 16, 1])
    for layer, (weights, biases) in zip(model.layers, _pairs(problem["parameters"])):
        for column, neuron in enumerate(layer.neurons):
            for row, weight in enumerate(neuron.w):
                weight.data = float(weights[row, column])
            neuron.b.data = float(biases[column])

    def step():
        scores = [model(point) for point in inputs]
        losses = [(1 + -label * score).relu() for label, score in zip(labels, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        loss = data_loss + REGULARISATION * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        return _micrograd_grads(model)

    return step


def _pairs(parameters):
    return list(zip(parameters[0::2], parameters[1::2]))


def _micrograd_grads(model) -> list[np.ndarray]:
    grads = []
    for layer in model.layers:
        grads.append(np.array([[weight.grad for weight in neuron.w] for neuron in layer.neurons]).T)
        grads.append(np.array([neuron.b.grad for neuron in layer.neurons]))
    return grads


def w2() -> Workload:
    return Workload(
        key="w2",
        title="micrograd's demo: MLP 2-16-16-1 on 100 points, fwd+bwd (float64)",
        unit="ms",
        make_problem=demo_problem,
        builders={
            "numpy": numpy_demo,
            "retrograd": torch_like_demo,
            "torch": torch_like_demo,
            "autograd": autograd_demo,
            "mygrad": mygrad_demo,
            "micrograd": micrograd_demo,
        },
        rtol=1e-7,
        atol=1e-10,
    )


# ---------------------------------------------------------------------------
# w3: one SGD step of a 784-512-512-10 ReLU network on a batch of 256, cross-entropy loss.

LEARNING_RATE = 0.01


def training_problem(quick: bool) -> dict:
    rng = np.random.default_rng(2)
    sizes = (784, 512, 512, 10) if not quick else (32, 16, 16, 10)
    batch = 16 if quick else 256
    parameters = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1 / np.sqrt(fan_in)
        parameters.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        parameters.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    inputs = rng.normal(0.0, 1.0, (batch, sizes[0])).astype(np.float32)
    targets = rng.integers(0, sizes[-1], batch)
    return {"inputs": inputs, "targets": targets, "parameters": parameters}


def softmax_cross_entropy_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """d(mean cross-entropy)/d(logits): softmax minus the one-hot targets, over the batch."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    probabilities[np.arange(len(targets)), targets] -= 1
    probabilities /= len(targets)
    return probabilities


def numpy_training_step(np_module, problem):
    inputs, targets = problem["inputs"], problem["targets"]
    parameters = [array.copy() for array in problem["parameters"]]
    w1, b1, w2, b2, w3, b3 = parameters

    def step():
        z1 = inputs @ w1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2 + b2
        h2 = np.maximum(z2, 0)
        grad_logits = softmax_cross_entropy_grad(h2 @ w3 + b3, targets)
        grad_z2 = grad_logits @ w3.T
        grad_z2 *= z2 > 0
        grad_z1 = grad_z2 @ w2.T
        grad_z1 *= z1 > 0
        grads = [
            inputs.T @ grad_z1, grad_z1.sum(0),
            h1.T @ grad_z2, grad_z2.sum(0),
            h2.T @ grad_logits, grad_logits.sum(0),
        ]
        for parameter, grad in zip(parameters, grads):
            parameter -= LEARNING_RATE * grad
        return grads

    return step


@torch_like("relu", "matmul", "nn.functional.cross_entropy")
def torch_like_training_step(T, problem):
    inputs, targets = constant(T, problem["inputs"]), T.from_numpy(problem["targets"].copy())
    parameters = [leaf(T, array) for array in problem["parameters"]]
    cross_entropy = T.nn.functional.cross_entropy

    def step():
        zero_grads(parameters)
        w1, b1, w2, b2, w3, b3 = parameters
        hidden = T.relu(T.relu(inputs @ w1 + b1) @ w2 + b2)
        cross_entropy(hidden @ w3 + b3, targets).backward()
        sgd_update(T, parameters, LEARNING_RATE)
        return [p.grad for p in parameters]

    return step


def autograd_training_step(module, problem):
    import autograd.numpy as anp

    inputs, targets = problem["inputs"], problem["targets"]
    parameters = [array.copy() for array in problem["parameters"]]
    rows = np.arange(len(targets))

    def loss(parameters):
        w1, b1, w2, b2, w3, b3 = parameters
        hidden = anp.maximum(anp.dot(anp.maximum(anp.dot(inputs, w1) + b1, 0), w2) + b2, 0)
        logits = anp.dot(hidden, w3) + b3
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_probabilities = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_probabilities[rows, targets])

    gradient = module.grad(loss)

    def step():
        grads = gradient(parameters)
        for parameter, grad in zip(parameters, grads):
            parameter -= LEARNING_RATE * grad
        return list(grads)

    return step


def mygrad_training_step(module, problem):
    from mygrad.nnet import relu, softmax_crossentropy

    inputs, targets = problem["inputs"], problem["targets"]
    parameters = [module.tensor(array.copy()) for array in problem["parameters"]]

    def step():
        w1, b1, w2, b2, w3, b3 = parameters
        hidden = relu(module.matmul(relu(module.matmul(inputs, w1) + b1), w2) + b2)
        softmax_crossentropy(module.matmul(hidden, w3) + b3, targets).backward()
        grads = [p.grad for p in parameters]
        for parameter, grad in zip(parameters, grads):
            parameter.data -= LEARNING_RATE * grad
        return grads

    return step


def _micrograd_unsupported(module, problem):
    raise Unavailable("scalar engine: a 784-512-512-10 step is ~700k Values per sample")


def w3() -> Workload:
    return Workload(
        key="w3",
        title="MLP training step 784-512-512-10, batch 256, ReLU, cross-entropy, SGD (float32)",
        unit="ms",
        make_problem=training_problem,
        builders={
            "numpy": numpy_training_step,
            "retrograd": torch_like_training_step,
            "torch": torch_like_training_step,
            "autograd": autograd_training_step,
            "mygrad": mygrad_training_step,
            "micrograd": _micrograd_unsupported,
        },
        rtol=2e-3,
        atol=1e-6,
    )
